"""`Idempotency-Key` on state-changing POSTs: a replay returns the first response
(docs/architecture.md, "API contract").

Kept in Redis for 24 h. A placeholder written with SET NX before the request runs settles concurrent
duplicates: exactly one request with a given key executes; a duplicate arriving meanwhile gets 409
`IDEMPOTENCY_KEY_IN_USE`; a key reused for a different request gets 422 `IDEMPOTENCY_KEY_REUSED`.
"""

from __future__ import annotations

import hashlib
import json

import redis
from flask import Flask, Response, g, request

from .errors import ApiError

HEADER = "Idempotency-Key"
TTL_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 200


def install_idempotency(app: Flask, client: redis.Redis) -> None:
    @app.before_request
    def _replay_or_reserve():
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or "principal" not in g:
            return None
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise ApiError(400, "INVALID_IDEMPOTENCY_KEY", f"{HEADER}: 1 to {MAX_KEY_LENGTH} characters")
        slot = f"drwave:idempotency:{g.principal.name}:{g.principal.role.value}:{key}"
        fingerprint = hashlib.sha256(
            request.method.encode() + request.path.encode() + b"\0" + request.get_data(cache=True)
        ).hexdigest()
        pending = json.dumps({"state": "pending", "fingerprint": fingerprint})
        if client.set(slot, pending, nx=True, ex=TTL_SECONDS):
            g.idempotency_slot = (slot, fingerprint)
            return None
        stored = json.loads(client.get(slot) or "{}")
        if stored.get("fingerprint") != fingerprint:
            raise ApiError(422, "IDEMPOTENCY_KEY_REUSED", f"{HEADER} {key!r} was used for a different request")
        if stored.get("state") != "done":
            raise ApiError(409, "IDEMPOTENCY_KEY_IN_USE", f"a request with {HEADER} {key!r} is still running")
        response = Response(stored["body"], status=stored["status"], mimetype="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        return response

    @app.after_request
    def _remember(response: Response) -> Response:
        reserved = g.pop("idempotency_slot", None)
        if reserved is None:
            return response
        slot, fingerprint = reserved
        if response.status_code >= 500:  # not an answer worth replaying: let the client retry
            client.delete(slot)
            return response
        done = {
            "state": "done",
            "fingerprint": fingerprint,
            "status": response.status_code,
            "body": response.get_data(as_text=True),
        }
        client.set(slot, json.dumps(done), ex=TTL_SECONDS)
        return response
