from __future__ import annotations

from dataclasses import asdict

from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import text

from shared import processes

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
    """Readiness: Postgres and Redis answer. Under `drwave run`, also lists the processes it supervises
    (informational: a dead Flower does not take the API out of a load balancer)."""
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
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    supervision = processes.read(services().state_dir)
    if supervision is not None:
        body["processes"] = [asdict(p) for p in supervision.processes]
    return respond(Health, body, 200 if ok else 503)
