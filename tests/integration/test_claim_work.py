"""`resources.claim_work`, the first step's one-statement load and claim, claims in Postgres exactly the
runs the step's own checks would claim, and leaves every other one to them."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import insert_execution, sim, unique

from shared.store import plans, resources


def _pending_run(conn, *, wave_started: str | None = "clock_timestamp()", execution_status: str = "RUNNING"):
    plan = plans.create(conn, name=unique("claim at once"), description=None, waves=[], created_by="t")
    execution = insert_execution(conn, plan, {1: [sim("db-claimed")]}, timeout=60)
    conn.execute(text("UPDATE executions SET status = :s WHERE id = :id"), {"s": execution_status, "id": execution.id})
    if wave_started is not None:
        conn.execute(
            text(f"UPDATE wave_runs SET status = 'RUNNING', started_at = {wave_started} WHERE execution_id = :id"),
            {"id": execution.id},
        )
    (run,) = resources.for_wave(conn, execution.id, 1)
    return run


def test_a_pending_run_of_a_started_wave_is_claimed_and_loaded_in_one_statement(db):
    with db.engine.begin() as conn:
        run = _pending_run(conn)
        claimed = resources.claim_work(conn, run.id)
        again = resources.claim_work(conn, run.id)

    assert (claimed.status, claimed.start_attempts, claimed.execution_status) == ("STARTING", 1, "RUNNING")
    assert claimed.started_at is not None and claimed.wave_started_at is not None and claimed.timeout_seconds == 60
    assert again is None  # a second delivery claims nothing


@pytest.mark.parametrize(
    ("wave_started", "execution_status"),
    [
        (None, "RUNNING"),  # its wave has not started (again)
        ("clock_timestamp()", "CANCELLING"),
        ("clock_timestamp()", "CANCELLED"),
        ("clock_timestamp() - interval '61 seconds'", "RUNNING"),  # past the wave's timeout of 60 s
    ],
    ids=["wave-not-started", "cancelling", "cancelled", "past-the-wave-timeout"],
)
def test_a_run_the_steps_checks_would_refuse_is_not_claimed_at_once(db, wave_started, execution_status):
    with db.engine.begin() as conn:
        run = _pending_run(conn, wave_started=wave_started, execution_status=execution_status)
        claimed = resources.claim_work(conn, run.id)
        status = conn.scalar(text("SELECT status FROM resource_runs WHERE id = :id"), {"id": run.id})

    assert claimed is None
    assert status == "PENDING"
