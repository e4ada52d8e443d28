"""api_tokens: bearer tokens, stored only as SHA-256 hashes, with an optional expiry and a revocation time."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, Row, func, insert, or_, select
from sqlalchemy import update as sql_update

from shared.db.tables import api_tokens
from shared.domain.roles import Role

T = api_tokens
PREFIX = "drw_"
PUBLIC_COLUMNS = (T.c.id, T.c.name, T.c.role, T.c.created_at, T.c.last_used_at, T.c.expires_at, T.c.revoked_at)
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often per token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(conn: Connection, name: str, role: Role, *, expires_at: datetime | None = None) -> tuple[Row, str]:
    """Store a new token; its row (without the hash) and the plain token, shown once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = conn.execute(
        insert(T)
        .values(name=name, role=Role(role).value, token_hash=hash_token(token), expires_at=expires_at)
        .returning(*PUBLIC_COLUMNS)
    ).one()
    return row, token


def create(conn: Connection, name: str, role: Role, *, expires_at: datetime | None = None) -> str:
    """Store a new token for `name` with `role` and return the plain token."""
    return issue(conn, name, role, expires_at=expires_at)[1]


def lookup(conn: Connection, token: str) -> Row | None:
    """The token's row, revoked and expired ones included (the caller says which it is), with `expired`
    decided by the database clock."""
    expired = (T.c.expires_at.is_not(None) & (T.c.expires_at <= func.now())).label("expired")
    return conn.execute(select(*PUBLIC_COLUMNS, expired).where(T.c.token_hash == hash_token(token))).first()


def touch(conn: Connection, token_id: int) -> None:
    """Record a use; a no-op when the last one is less than a minute old (one write per minute, not per call)."""
    conn.execute(
        sql_update(T)
        .where(T.c.id == token_id)
        .where(or_(T.c.last_used_at.is_(None), T.c.last_used_at < func.now() - LAST_USED_RESOLUTION))
        .values(last_used_at=func.now())
    )


def get(conn: Connection, token_id: int) -> Row | None:
    return conn.execute(select(*PUBLIC_COLUMNS).where(T.c.id == token_id)).first()


def list_all(conn: Connection) -> list[Row]:
    return list(conn.execute(select(*PUBLIC_COLUMNS).order_by(T.c.id)))


def find(conn: Connection, name_or_id: str) -> list[Row]:
    """Tokens whose id is `name_or_id`, or else those named so (a name may have several tokens)."""
    if name_or_id.isdigit() and len(name_or_id) < 10:  # ids are 32-bit
        row = get(conn, int(name_or_id))
        if row is not None:
            return [row]
    return list(conn.execute(select(*PUBLIC_COLUMNS).where(T.c.name == name_or_id).order_by(T.c.id)))


def revoke(conn: Connection, token_id: int) -> Row | None:
    """Revoke a live token; its row after the change, or None when it was revoked already."""
    return conn.execute(
        sql_update(T)
        .where(T.c.id == token_id, T.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(*PUBLIC_COLUMNS)
    ).first()
