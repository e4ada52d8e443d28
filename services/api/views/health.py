from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import text

from ..container import services
from ..schemas import Health
from .common import respond

bp = APIBlueprint("health", __name__, abp_tags=[Tag(name="health")])


@bp.get("/healthz", responses={200: Health})
def healthz():
    """Liveness: the API process answers."""
    return respond(Health, {"status": "ok"})


@bp.get("/readyz", responses={200: Health, 503: Health})
def readyz():
    """Readiness: Postgres and Redis answer."""
    checks = {}
    try:
        with services().db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except Exception as error:
        checks["postgres"] = f"unavailable: {type(error).__name__}"
    try:
        services().redis.ping()
        checks["redis"] = "ok"
    except Exception as error:
        checks["redis"] = f"unavailable: {type(error).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return respond(Health, {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503)
