"""Request and response models of the token and audit endpoints (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from shared.domain.durations import parse_duration
from shared.domain.roles import Role
from shared.store.audit import Entity

from .schemas import Model, Name, Out


class TokenCreate(Model):
    name: Name = Field(description="who or what uses the token (shown as the actor of what it does)")
    role: Role
    expires_in: str | None = Field(
        default=None, max_length=20, examples=["30d"], description="s, m, h or d; unset = never expires"
    )

    @field_validator("expires_in")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class TokenPath(Model):
    id: int = Field(ge=1, le=2**31 - 1)


class TokenOut(Out):
    id: int
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="to the minute")
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenList(Out):
    items: list[TokenOut]


class TokenCreated(TokenOut):
    message: str
    token: str = Field(description="the secret: shown once, stored only as a hash")


class TokenRevoked(Out):
    message: str
    token: TokenOut


class AuditQuery(Model):
    entity: Entity | None = None
    entity_id: str | None = Field(default=None, max_length=200)
    actor: str | None = Field(default=None, max_length=300, description="a token name or a full actor")
    cursor: str | None = Field(default=None, max_length=40)
    limit: int = Field(default=100, ge=1, le=500)


class AuditEntryOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(Out):
    items: list[AuditEntryOut]
    next_cursor: str | None
