"""API tokens: issue (the secret is shown once), list (never the secret), revoke. Each change is audited
in its own transaction. The CLI (`drwave tokens …`) and the admin API share these functions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Row

from shared.db.engine import Database
from shared.domain.durations import parse_duration
from shared.domain.errors import TokenAlreadyRevoked, TokenNotFound
from shared.domain.roles import Role
from shared.store import audit, tokens
from shared.store.audit import Action, Entity

from ..auth import Principal
from ..security_schemas import TokenCreate


def issue_token(conn: Connection, actor: str, name: str, role: Role, expires_in: str | None = None) -> tuple[Row, str]:
    """A new token (row, secret); `expires_in` like ``30d`` (None: never expires)."""
    expires_at = datetime.now(UTC) + parse_duration(expires_in) if expires_in else None
    row, secret = tokens.issue(conn, name, role, expires_at=expires_at)
    audit.record(conn, actor=actor, action=Action.CREATE, entity=Entity.TOKEN, entity_id=row.id, after=row)
    return row, secret


def revoke_token(conn: Connection, actor: str, current: Row) -> Row | None:
    """Revoke one token; its row after the change, or None when it was revoked already."""
    row = tokens.revoke(conn, current.id)
    if row is not None:
        audit.record(
            conn, actor=actor, action=Action.UPDATE, entity=Entity.TOKEN, entity_id=row.id, before=current, after=row
        )
    return row


class TokenCommands:
    def __init__(self, db: Database):
        self.db = db

    def list(self) -> list[Row]:
        with self.db.engine.connect() as conn:
            return tokens.list_all(conn)

    def create(self, principal: Principal, request: TokenCreate) -> dict:
        with self.db.engine.begin() as conn:
            row, secret = issue_token(conn, principal.actor, request.name, request.role, request.expires_in)
        until = f"until {row.expires_at.isoformat()}" if row.expires_at else "with no expiry"
        message = f"Created token {row.id} '{row.name}' ({row.role}) {until}; the secret is shown only now"
        return {**row._mapping, "token": secret, "message": message}

    def revoke(self, principal: Principal, token_id: int) -> dict:
        with self.db.engine.begin() as conn:
            current = tokens.get(conn, token_id)
            if current is None:
                raise TokenNotFound(token_id)
            row = revoke_token(conn, principal.actor, current)
        if row is None:
            raise TokenAlreadyRevoked(token_id, current.name, current.revoked_at.isoformat())
        return {"message": f"Revoked token {row.id} '{row.name}' ({row.role})", "token": row}
