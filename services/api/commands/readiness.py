"""Read models of continuous readiness (the scheduler evaluates, these read what it recorded)."""

from __future__ import annotations

from typing import Any

from shared.db.engine import Database
from shared.domain.preflight import Readiness
from shared.store import plans, readiness

from . import lookups


def _view(plan: Any, row: Any) -> dict[str, Any]:
    if row is None:
        return {"plan_id": plan.id, "plan_name": plan.name, "status": Readiness.NOT_EVALUATED.value}
    return {
        "plan_id": plan.id,
        "plan_name": plan.name,
        "status": row.status,
        "evaluated_at": row.evaluated_at,
        "checks": row.checks,
        "rto_forecast": row.rto_forecast,
    }


class ReadinessQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def plan(self, plan_id: str) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            plan = lookups.plan(conn, plan_id)
            view = _view(plan, readiness.get(conn, plan_id))
            view["changes"] = [
                {"at": c.at.isoformat(), "from": c.from_status, "to": c.to_status, "message": c.message}
                for c in readiness.changes(conn, plan_id)
            ]
        return view

    def all(self) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = readiness.list_all(conn)
            return [_view(plan, rows.get(plan.id)) for plan in plans.list_all(conn)]
