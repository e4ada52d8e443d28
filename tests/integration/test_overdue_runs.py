"""What the reconciler times out when no worker will: `resources.overdue_in_running_waves` in Postgres finds
a resource run past its wave's timeout whose worker went silent, and nothing before that."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import insert_execution, sim, unique

from shared.store import plans, resources


@pytest.mark.parametrize(
    ("wave_age_seconds", "overdue"), [(61, True), (30, False)], ids=["past-its-timeout", "within-it"]
)
def test_a_resource_whose_worker_went_silent_is_overdue_only_past_its_wave_timeout(db, wave_age_seconds, overdue):
    with db.engine.begin() as conn:
        plan = plans.create(conn, name=unique("overdue"), description=None, waves=[], created_by="t")
        execution = insert_execution(conn, plan, {1: [sim("db-silent")]}, timeout=60)
        conn.execute(
            text(
                "UPDATE wave_runs SET status = 'RUNNING', started_at = clock_timestamp() - make_interval(secs => :age)"
                " WHERE execution_id = :id"
            ),
            {"age": wave_age_seconds, "id": execution.id},
        )
        conn.execute(
            text(
                "UPDATE resource_runs SET status = 'IN_PROGRESS', started_at = clock_timestamp(),"
                " heartbeat_at = clock_timestamp() - interval '10 seconds' WHERE execution_id = :id"
            ),
            {"id": execution.id},
        )
        (run,) = resources.for_wave(conn, execution.id, 1)
        found = [r for r in resources.overdue_in_running_waves(conn, silent_seconds=5) if r.id == run.id]

    assert [(r.status, r.is_action) for r in found] == ([("IN_PROGRESS", False)] if overdue else [])
