"""Per-principal rate limits (``DRWAVE_RATE_LIMIT``, e.g. ``600/minute``), counted in Redis so every
gunicorn worker and every API replica share one budget per token or OIDC subject.

Only authenticated requests count: ``/healthz``, ``/readyz`` and the OpenAPI document are never limited,
and a request refused at authentication never reaches the limiter. A breach answers 429 ``RATE_LIMITED``
with ``Retry-After``. If Redis is down the limit is not enforced (logged) rather than failing every call.
"""

from __future__ import annotations

import math
import time

from flask import Flask, g
from flask_limiter import Limiter, RateLimitExceeded

from .errors import error_response

KEY_PREFIX = "drwave:rate"


def install_rate_limits(app: Flask, storage_uri: str, limit: str) -> Limiter:
    """Call after authentication is installed: the limit is keyed by the principal it sets."""
    limiter = Limiter(
        key_func=lambda: g.principal.key,
        app=app,
        application_limits=[limit],  # one budget per principal across all endpoints, not one per endpoint
        application_limits_exempt_when=lambda: "principal" not in g,
        storage_uri=storage_uri,
        storage_options={"socket_timeout": 2, "socket_connect_timeout": 2},
        strategy="fixed-window",
        key_prefix=KEY_PREFIX,
        swallow_errors=True,
    )

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded):
        current = limiter.current_limit
        resets_at = current.window.reset_time if current is not None else time.time()
        retry_after = max(1, math.ceil(resets_at - time.time()))
        response = error_response(
            429,
            "RATE_LIMITED",
            f"more than {error.limit.limit} requests for {g.principal.name}; retry in {retry_after} s",
            {"limit": str(error.limit.limit), "retryAfterSeconds": retry_after},
        )
        response.headers["Retry-After"] = str(retry_after)
        return response

    return limiter
