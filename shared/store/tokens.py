"""api_tokens: bearer tokens, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection, Row, insert, select

from shared.db.tables import api_tokens
from shared.domain.roles import Role

PREFIX = "drw_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(conn: Connection, name: str, role: Role) -> str:
    """Store a new token for `name` with `role` and return the plain token (shown once, never stored)."""
    token = PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(api_tokens).values(name=name, role=Role(role).value, token_hash=hash_token(token)))
    return token


def lookup(conn: Connection, token: str) -> Row | None:
    return conn.execute(
        select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.role).where(
            api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked_at.is_(None)
        )
    ).first()
