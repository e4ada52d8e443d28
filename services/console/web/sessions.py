"""Server-side console sessions in Redis: the cookie holds only a random id; Redis holds the token
(looked up again on every request, so a revoked token logs the browser out) and the CSRF token.
A logout deletes the session for good."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field

import redis

COOKIE = "drwave_console"
LOGIN_COOKIE = "drwave_console_login"  # double-submit CSRF token of the login form (no session yet)
KEY_PREFIX = "drwave:console:session:"


@dataclass
class ConsoleSession:
    id: str
    token: str
    csrf: str
    notices: list[str] = field(default_factory=list)


def _key(session_id: str) -> str:
    return KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    def __init__(self, client: redis.Redis, ttl_seconds: int):
        self.client = client
        self.ttl = ttl_seconds

    def create(self, token: str) -> ConsoleSession:
        session = ConsoleSession(secrets.token_urlsafe(32), token, secrets.token_urlsafe(32))
        self.save(session)
        return session

    def save(self, session: ConsoleSession) -> None:
        body = {"token": session.token, "csrf": session.csrf, "notices": session.notices}
        self.client.set(_key(session.id), json.dumps(body), ex=self.ttl)

    def load(self, session_id: str | None) -> ConsoleSession | None:
        raw = self.client.get(_key(session_id)) if session_id else None
        if raw is None:
            return None
        body = json.loads(raw)
        return ConsoleSession(session_id, body["token"], body["csrf"], body.get("notices", []))

    def delete(self, session_id: str) -> None:
        self.client.delete(_key(session_id))


def same_secret(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())
