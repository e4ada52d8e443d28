"""Launch batches in Postgres: one claimant per start, re-claims of silent ones, one shared look-up at a time."""

from __future__ import annotations

import uuid

import pytest
from support import all_at_once, insert_execution

from shared.domain.batches import EarlierOperations
from shared.domain.states import ExecutionStatus, ResourceStatus
from shared.store import events, executions, launch_batches, plans, resources

DRS = "arn:aws:drs:us-west-2:123456789012:source-server/s-{:017x}"


@pytest.fixture
def batch_rows(db):
    """An execution (already finished, so no scheduler acts on it) with one wave of 150 DRS runs, batched."""
    with db.engine.begin() as conn:
        plan = plans.create(conn, name=f"batches {uuid.uuid4().hex[:8]}", description=None, waves=[], created_by="t")
        execution = insert_execution(conn, plan, {1: [DRS.format(n) for n in range(150)]}, adapter="drs", timeout=60)
        executions.move(conn, execution.id, ExecutionStatus.PENDING, ExecutionStatus.FAILED, actor="test", message="t")
        runs = resources.for_wave(conn, execution.id, 1)
        created = launch_batches.create_for_wave(conn, execution.id, 1, runs)
        batches = launch_batches.list_for(conn, execution.id)
    return {"execution": execution.id, "runs": runs, "created": created, "batches": batches}


def test_a_starting_wave_of_150_servers_gets_two_batches_and_every_run_knows_its_batch(db, batch_rows):
    assert batch_rows["created"] == 2
    with db.engine.connect() as conn:
        sizes = [len(launch_batches.members(conn, b.id)) for b in batch_rows["batches"]]
        first, last = batch_rows["runs"][0], batch_rows["runs"][-1]
        assert launch_batches.batch_of(conn, first.id) == batch_rows["batches"][0].id
        assert launch_batches.batch_of(conn, last.id) == batch_rows["batches"][1].id
    assert sizes == [100, 50]
    assert {(b.region, b.account_id, b.status) for b in batch_rows["batches"]} == {
        ("us-west-2", "123456789012", "PENDING")
    }


def test_only_one_of_many_concurrent_claims_takes_the_start(db, batch_rows):
    batch_id = batch_rows["batches"][0].id

    def claim() -> int | None:
        with db.engine.begin() as conn:
            row = launch_batches.claim_start(conn, batch_id, stale_seconds=60)
        return None if row is None else row.start_attempts

    assert [won for won in all_at_once(12, claim) if won is not None] == [1]


def test_a_claim_given_back_after_a_retryable_error_is_taken_again_at_once(db, batch_rows):
    batch_id = batch_rows["batches"][0].id
    with db.engine.begin() as conn:
        first = launch_batches.claim_start(conn, batch_id, stale_seconds=60)
        assert launch_batches.release(conn, batch_id, first.start_attempts)
        second = launch_batches.claim_start(conn, batch_id, stale_seconds=60)

    assert second.start_attempts == 2 and second.status == "STARTING"


def test_a_silent_claim_is_taken_over_only_when_stale_and_its_late_record_is_refused(db, batch_rows):
    batch_id = batch_rows["batches"][0].id
    with db.engine.begin() as conn:
        silent = launch_batches.claim_start(conn, batch_id, stale_seconds=60)
        assert launch_batches.claim_start(conn, batch_id, stale_seconds=60) is None
        taken = launch_batches.claim_start(conn, batch_id, stale_seconds=0)
        late = launch_batches.record_start(
            conn, batch_id, silent.start_attempts, operation_id="job-1", detail={}, outcomes={}, actor="t", message="m"
        )
        recorded = launch_batches.record_start(
            conn, batch_id, taken.start_attempts, operation_id="job-2", detail={}, outcomes={}, actor="t", message="m"
        )
        assert launch_batches.claim_start(conn, batch_id, stale_seconds=0) is None  # started: never again

    assert late is None
    assert recorded.operation_id == "job-2" and recorded.status == "STARTED"


def test_one_member_at_a_time_refreshes_the_shared_status_look_up(db, batch_rows):
    batch_id = batch_rows["batches"][0].id
    with db.engine.begin() as conn:
        _start(conn, batch_id, "job")
        assert launch_batches.claim_view(conn, batch_id, max_age=30)
        assert not launch_batches.claim_view(conn, batch_id, max_age=30)
        launch_batches.store_view(conn, batch_id, {"status": "STARTED"})
        batch = launch_batches.get(conn, batch_id)

    assert batch.view == {"status": "STARTED"} and float(batch.view_age) < 30


def test_a_batch_that_cannot_be_started_is_failed_once_with_its_reason_on_the_timeline(db, batch_rows):
    batch_id = batch_rows["batches"][1].id
    with db.engine.begin() as conn:
        claim = launch_batches.claim_start(conn, batch_id, stale_seconds=60)
        failed = launch_batches.fail(conn, batch_id, claim.start_attempts, "AccessDeniedException: no", actor="worker")
        again = launch_batches.fail(conn, batch_id, claim.start_attempts, "again", actor="worker")
        events = conn.exec_driver_sql(
            "SELECT kind, message FROM execution_events WHERE execution_id = %s AND kind LIKE 'batch.%%'",
            (batch_rows["execution"],),
        ).all()

    assert failed.status == "FAILED" and again is None
    assert [kind for kind, _ in events] == ["batch.failed"] and "AccessDeniedException" in events[0][1]


def test_batches_of_one_account_and_region_are_looked_up_at_most_once_per_scope_gap(db, batch_rows):
    first, second = (b.id for b in batch_rows["batches"])
    with db.engine.begin() as conn:
        # an account of their own: other tests' batches looked up a moment ago must not share the scope
        conn.exec_driver_sql(
            "UPDATE launch_batches SET account_id = %s WHERE id IN (%s, %s)",
            (f"9{uuid.uuid4().int % 10**11:011d}", first, second),
        )
        for batch_id in (first, second):
            _start(conn, batch_id, f"job-{batch_id}")
    with db.engine.begin() as conn:
        assert launch_batches.claim_view(conn, first, max_age=0.1, scope_gap=0.3)
    with db.engine.begin() as conn:
        assert not launch_batches.claim_view(conn, second, max_age=0.1, scope_gap=0.3)  # its neighbour just did
        assert launch_batches.claim_view(conn, second, max_age=0.1)  # without a gap it may


def test_the_typical_duration_of_a_kind_is_the_lower_quartile_of_its_recent_successes(db):
    from sqlalchemy import text

    adapter = f"kind-{uuid.uuid4().hex[:6]}"
    with db.engine.begin() as conn:
        assert resources.typical_duration(conn, adapter, "instantiate") is None
        plan = plans.create(conn, name=f"durations {adapter}", description=None, waves=[], created_by="t")
        execution = insert_execution(conn, plan, {1: [f"arn:{adapter}:{n}" for n in range(4)]}, adapter=adapter)
        conn.execute(
            text(
                "UPDATE resource_runs SET status = 'SUCCEEDED', started_at = now() - make_interval(secs => 100),"
                " finished_at = now() - make_interval(secs => 100 - 10 * (id % 4 + 1)) WHERE execution_id = :id"
            ),
            {"id": execution.id},
        )
        assert resources.typical_duration(conn, adapter, "instantiate") == pytest.approx(17.5)
        assert resources.typical_duration(conn, adapter, "cleanup") is None


def test_the_batch_that_looks_up_its_job_claims_the_look_up_of_its_started_neighbours(db, batch_rows):
    first, second = (b.id for b in batch_rows["batches"])
    with db.engine.begin() as conn:
        for batch_id in (first, second):
            _start(conn, batch_id, f"job-{batch_id}")
        claimed = launch_batches.claim_scope_views(conn, first, max_age=30)
        again = launch_batches.claim_scope_views(conn, first, max_age=30)

    assert second in [row.id for row in claimed] and first not in [row.id for row in claimed]
    assert {row.phase for row in claimed} == {"instantiate"}
    assert second not in [row.id for row in again]  # just claimed: fresh for 30 s


def test_a_claimants_heartbeat_keeps_only_its_own_claim_fresh(db, batch_rows):
    batch_id = batch_rows["batches"][0].id
    with db.engine.begin() as conn:
        first = launch_batches.claim_start(conn, batch_id, stale_seconds=60)
        kept = launch_batches.keep_claim(conn, batch_id, first.start_attempts)
        refreshed = launch_batches.get(conn, batch_id).claimed_at
        taken = launch_batches.claim_start(conn, batch_id, stale_seconds=0)
        lost = launch_batches.keep_claim(conn, batch_id, first.start_attempts)
        after = launch_batches.get(conn, batch_id)

    assert kept and refreshed > first.claimed_at
    assert not lost and (after.start_attempts, after.claimed_at) == (2, taken.claimed_at)


def test_a_lone_starts_heartbeat_keeps_only_its_own_unrecorded_claim_fresh(db, batch_rows):
    run = batch_rows["runs"][0]
    with db.engine.begin() as conn:
        claimed = resources.move(conn, run.id, ResourceStatus.PENDING, ResourceStatus.STARTING, actor="t")
        kept = resources.keep_start(conn, run.id, claimed.start_attempts)
        retaken = resources.reclaim_stale_start(conn, run.id, claimed.start_attempts, stale_seconds=0)
        lost = resources.keep_start(conn, run.id, claimed.start_attempts)
        resources.move(
            conn, run.id, ResourceStatus.STARTING, ResourceStatus.IN_PROGRESS, actor="t", values={"operation_id": "op"}
        )
        recorded = resources.keep_start(conn, run.id, retaken.start_attempts)

    assert kept and retaken is not None and retaken.start_attempts == claimed.start_attempts + 1
    assert not lost and not recorded  # re-claimed by another, then recorded: the heartbeat stops


def test_a_stray_recorded_before_or_after_the_winning_start_stays_on_the_batch(db, batch_rows):
    early, late = (b.id for b in batch_rows["batches"])
    with db.engine.begin() as conn:
        for batch_id, stray_first in ((early, True), (late, False)):
            lost = launch_batches.claim_start(conn, batch_id, stale_seconds=60)
            won = launch_batches.claim_start(conn, batch_id, stale_seconds=0)

            def stray(batch_id=batch_id, lost=lost) -> None:
                launch_batches.record_stray(
                    conn, batch_id, lost.start_attempts, operation_id="job-1", detail={"jobID": "job-1"}, actor="t"
                )

            if stray_first:
                stray()
            _record_start(conn, batch_id, won.start_attempts, "job-2", {"jobID": "job-2"})
            if not stray_first:
                stray()
        rows = {b.id: b for b in launch_batches.list_for(conn, batch_rows["execution"])}
        kinds = [e.kind for e in events.list_for(conn, batch_rows["execution"])]

    for batch_id in (early, late):
        assert rows[batch_id].status == "STARTED" and rows[batch_id].operation_id == "job-2"
        assert rows[batch_id].detail == {
            "jobID": "job-2",
            "strays": [{"operationId": "job-1", "attempt": 1, "jobID": "job-1"}],
        }
    assert kinds.count("batch.stray") == 2


def test_a_later_phase_is_told_every_operation_of_the_executions_it_follows(db, batch_rows):
    first, second = batch_rows["batches"]
    with db.engine.begin() as conn:
        for batch_id, job in ((first.id, "job-1"), (second.id, "job-3")):
            _start(conn, batch_id, job)
        launch_batches.record_stray(conn, first.id, 0, operation_id="job-2", detail={}, actor="t")
        plan = plans.get(conn, executions.get(conn, batch_rows["execution"]).plan_id)
        activate = _follower(conn, plan, batch_rows["execution"], "activate")
        cleanup = _follower(conn, plan, activate, "cleanup")
        told = launch_batches.earlier_operations(conn, cleanup, "drs")
        unrelated = launch_batches.earlier_operations(conn, cleanup, "aurora")
        first_phase = launch_batches.earlier_operations(conn, batch_rows["execution"], "drs")

    assert told == EarlierOperations((activate, batch_rows["execution"]), ("job-1", "job-2", "job-3"))
    assert unrelated.operation_ids == () and first_phase == EarlierOperations()


def _follower(conn, plan, source: str, phase: str) -> str:
    row = insert_execution(conn, plan, {}, phase=phase, source=source)
    executions.move(conn, row.id, ExecutionStatus.PENDING, ExecutionStatus.FAILED, actor="test", message="t")
    return row.id


def _start(conn, batch_id: int, operation_id: str) -> None:
    """Claim ``batch_id`` and record its operation as started."""
    claim = launch_batches.claim_start(conn, batch_id, stale_seconds=60)
    _record_start(conn, batch_id, claim.start_attempts, operation_id)


def _record_start(conn, batch_id: int, attempt: int, operation_id: str, detail: dict | None = None) -> None:
    """The claimant's record of the operation it started (no member's outcome decided at start)."""
    launch_batches.record_start(
        conn, batch_id, attempt, operation_id=operation_id, detail=detail or {}, outcomes={}, actor="t", message="m"
    )
