"""What the reconciler flags `rto.at_risk`: `waves.flag_past_rto` in Postgres finds a RUNNING wave past its
RTO target — minutes from the wave's start — once, and nothing before that."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import insert_execution, sim, unique

from shared.store import plans, waves


@pytest.mark.parametrize(
    ("wave_age_seconds", "flagged"), [(61, True), (30, False)], ids=["past-its-1-minute-target", "within-it"]
)
def test_a_running_wave_is_flagged_once_and_only_past_its_rto_target_in_minutes(db, wave_age_seconds, flagged):
    with db.engine.connect() as conn, conn.begin() as unit:  # rolled back: the reconciler never sees this wave
        plan = plans.create(conn, name=unique("rto"), description=None, waves=[], created_by="t")
        execution = insert_execution(conn, plan, {1: [sim("db")]})
        conn.execute(
            text(
                "UPDATE wave_runs SET status = 'RUNNING', rto_target_minutes = 1,"
                " started_at = clock_timestamp() - make_interval(secs => :age) WHERE execution_id = :id"
            ),
            {"age": wave_age_seconds, "id": execution.id},
        )

        first = [w.number for w in waves.flag_past_rto(conn) if w.execution_id == execution.id]
        again = [w.number for w in waves.flag_past_rto(conn) if w.execution_id == execution.id]
        unit.rollback()

    assert first == ([1] if flagged else [])
    assert again == []
