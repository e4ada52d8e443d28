"""ExecutionCommands over a fake unit of work: start, pause, resume, cancel and their conflicts,
with the messages each one publishes after commit (and none after a rollback)."""

from __future__ import annotations

import pytest
from fakes import FakeUnits, add_plan

from services.api.auth import Principal
from services.api.commands.executions import ExecutionCommands, StartRequest
from services.api.commands.resolve import Found, ResolvedPlan, ResolvedWave
from shared.domain import errors
from shared.domain.failover import Failover
from shared.domain.progress import Mode, Phase
from shared.domain.roles import Role
from shared.domain.states import ExecutionStatus
from shared.domain.tags import TagError, TagEvaluation
from shared.messaging import AdvanceExecution, StartExecution

ES = ExecutionStatus
ALICE = Principal("alice", Role.OPERATOR)


def found(name: str, *, valid: bool = True) -> Found:
    arn = f"arn:drwave:simulated:us-west-2:123456789012:resource/{name}"
    errors = () if valid else (TagError(arn, "dr:wave", "9", "INVALID_WAVE", f"Resource {arn}: dr:wave 9"),)
    return Found(TagEvaluation(arn, True, None, None, None, "simulated", errors))


class FakeResolver:
    """Resolves every plan to the waves it is given; ``changes`` bumps the plan version that many times
    between resolving and creating (another writer editing the plan)."""

    def __init__(self, units: FakeUnits, waves: list[list[str]], *, invalid: int = 0, changes: int = 0):
        self.units, self.waves, self.invalid, self.changes = units, waves, invalid, changes

    def plan(self, plan_id: str) -> ResolvedPlan:
        plan = self.units.tables.plans[plan_id]
        resolved = ResolvedPlan(
            plan_id,
            plan.name,
            plan.version,
            waves=[
                ResolvedWave(n, f"wave {n}", False, "continue", 3600, [found(name) for name in names])
                for n, names in enumerate(self.waves, start=1)
            ],
            invalid=[found(f"bad-{i}", valid=False) for i in range(self.invalid)],
        )
        if self.changes:
            self.changes -= 1
            plan.version += 1
        return resolved


class FakePreflight:
    """A preflight whose checks fail (``failed``) or pass; records the plans it was asked about."""

    def __init__(self, failed: list[dict[str, str]] | None = None):
        self.failed = failed or []
        self.gated: list[tuple[str, bool]] = []

    def gate(self, resolved: ResolvedPlan, *, force: bool) -> list[dict[str, str]]:
        self.gated.append((resolved.plan_id, force))
        if self.failed and not force:
            raise errors.PreflightFailed(self.failed)
        return self.failed


@pytest.fixture
def units() -> FakeUnits:
    units = FakeUnits()
    add_plan(units.tables)
    return units


def commands(
    units: FakeUnits, waves=(("a", "b"), ("c",)), preflight: FakePreflight | None = None, **resolver
) -> ExecutionCommands:
    return ExecutionCommands(
        units, FakeResolver(units, [list(w) for w in waves], **resolver), preflight or FakePreflight()
    )


def started(units: FakeUnits, **resolver) -> str:
    result = commands(units, **resolver).start(ALICE, StartRequest("plan-1"))
    return result.execution.id


def test_a_start_writes_execution_waves_runs_and_locks_then_publishes_the_start_after_commit(units):
    result = commands(units).start(ALICE, StartRequest("plan-1", mode=Mode.DRILL))
    execution_id = result.execution.id
    assert result.message == f"Started {execution_id} (drill, instantiate) of plan 'Plan': 2 waves, 3 resources"
    assert units.tables.executions[execution_id].status == ES.PENDING
    assert sorted(n for (_, n) in units.tables.waves) == [1, 2]
    assert len(units.tables.runs) == 3 and len(units.tables.locks) == 3
    assert units.publisher.sent == [StartExecution(execution_id)]


def test_a_recovery_stores_its_failover_options_and_the_timeline_says_who_asked_for_what(units):
    request = StartRequest("plan-1", mode=Mode.RECOVERY, failover=Failover.AUTO, allow_data_loss=True)

    execution = commands(units).start(ALICE, request).execution

    assert (execution.failover, execution.allow_data_loss) == ("auto", True)
    (entry,) = [e for e in units.tables.events if e.kind == "execution.failover_options"]
    assert entry.actor == ALICE.actor
    assert f"'auto' requested by {ALICE.actor}" in entry.message and "data loss allowed" in entry.message


def test_a_drill_stores_a_switchover_without_data_loss_whatever_it_was_sent(units):
    request = StartRequest("plan-1", mode=Mode.DRILL, failover=Failover.AUTO)

    execution = commands(units).start(ALICE, request).execution

    assert (execution.failover, execution.allow_data_loss) == ("graceful", False)
    assert "execution.failover_options" not in units.tables.kinds(execution.id)


def test_a_second_start_of_an_executing_plan_is_refused_naming_the_other_execution(units):
    first = started(units)
    with pytest.raises(errors.PlanAlreadyExecuting) as refused:
        commands(units).start(ALICE, StartRequest("plan-1"))
    assert refused.value.other == first
    assert refused.value.details == {"executionId": first}


def test_a_start_whose_resource_another_execution_holds_rolls_back_and_publishes_nothing(units):
    add_plan(units.tables, "plan-2", "Other")
    other = commands(units).start(ALICE, StartRequest("plan-2")).execution.id
    units.publisher.sent.clear()
    before = (dict(units.tables.executions), dict(units.tables.runs), dict(units.tables.locks))
    with pytest.raises(errors.ResourceInActiveExecution) as refused:
        commands(units, waves=(("z", "a"),)).start(ALICE, StartRequest("plan-1"))
    assert refused.value.details["executionId"] == other
    assert refused.value.message.endswith(f"is already being recovered by active execution {other}")
    assert (units.tables.executions, units.tables.runs, units.tables.locks) == before
    assert units.publisher.sent == []


def test_invalid_resources_refuse_a_start_unless_skip_invalid_is_sent(units):
    with pytest.raises(errors.InvalidResources) as refused:
        commands(units, invalid=2).start(ALICE, StartRequest("plan-1"))
    assert len(refused.value.details["invalid"]) == 2
    result = commands(units, invalid=2).start(ALICE, StartRequest("plan-1", skip_invalid=True))
    assert result.message.endswith("3 resources, 2 invalid skipped")
    assert "execution.invalid_skipped" in units.tables.kinds(result.execution.id)


STALLED = {"name": "drs.replication", "status": "error", "resourceArn": "arn:x", "message": "replication is STALLED"}


def test_a_start_whose_preflight_has_errors_is_refused_and_writes_nothing(units):
    with pytest.raises(errors.PreflightFailed) as refused:
        commands(units, preflight=FakePreflight([STALLED])).start(ALICE, StartRequest("plan-1"))
    assert refused.value.details["checks"] == [STALLED]
    assert "drs.replication (arn:x): replication is STALLED" in refused.value.message
    assert units.tables.executions == {}
    assert units.publisher.sent == []


def test_a_forced_start_goes_past_failed_preflight_checks(units):
    preflight = FakePreflight([STALLED])
    result = commands(units, preflight=preflight).start(ALICE, StartRequest("plan-1", force=True))
    assert preflight.gated == [("plan-1", True)]
    assert "execution.preflight_forced" in units.tables.kinds(result.execution.id)


def test_a_plan_that_resolves_to_nothing_is_refused(units):
    with pytest.raises(errors.NoResources):
        commands(units, waves=((),)).start(ALICE, StartRequest("plan-1"))
    assert units.tables.executions == {}


def test_a_plan_that_keeps_changing_while_starting_is_a_version_conflict(units):
    with pytest.raises(errors.VersionConflict):
        commands(units, changes=3).start(ALICE, StartRequest("plan-1"))
    assert units.tables.executions == {}


def test_a_plan_that_changed_once_is_resolved_again_and_started(units):
    execution_id = started(units, changes=1)
    assert units.tables.executions[execution_id].status == ES.PENDING


def test_a_phase_start_needs_the_execution_it_follows(units):
    with pytest.raises(errors.SourceExecutionRequired):
        commands(units).start(ALICE, StartRequest("plan-1", phase=Phase.CLEANUP))


def test_pause_is_accepted_only_while_running(units):
    execution_id = started(units)
    with pytest.raises(errors.ExecutionNotRunning) as refused:
        commands(units).pause(ALICE, execution_id)
    assert refused.value.message == f"cannot pause {execution_id}: it is PENDING"
    units.tables.executions[execution_id].status = ES.RUNNING.value
    result = commands(units).pause(ALICE, execution_id)
    assert units.tables.executions[execution_id].pause_requested is True
    assert result.message == f"Pause requested for {execution_id}: it will stop after the current wave finishes"


def test_resume_passes_the_gate_and_publishes_an_advance_after_commit(units):
    execution_id = started(units)
    row = units.tables.executions[execution_id]
    row.status, row.paused_before_wave = ES.PAUSED.value, 2
    units.publisher.sent.clear()
    result = commands(units).resume(ALICE, execution_id)
    assert result.message == f"Resumed {execution_id}: wave 2 'wave 2' starting, 1 resources"
    assert row.status == ES.RUNNING and row.paused_before_wave is None
    assert units.tables.waves[(execution_id, 2)].gate_passed is True
    assert units.publisher.sent == [AdvanceExecution(execution_id)]


def test_resume_of_an_execution_that_is_not_paused_is_a_conflict_with_its_status(units):
    execution_id = started(units)
    units.publisher.sent.clear()
    with pytest.raises(errors.ExecutionNotPaused) as refused:
        commands(units).resume(ALICE, execution_id)
    assert refused.value.status == "PENDING"
    assert refused.value.details == {"status": "PENDING"}
    assert units.publisher.sent == []


def test_cancel_moves_through_cancelling_and_publishes_an_advance(units):
    execution_id = started(units)
    units.publisher.sent.clear()
    result = commands(units).cancel(ALICE, execution_id)
    assert units.tables.executions[execution_id].status == ES.CANCELLING
    assert result.message.startswith(f"Cancelling {execution_id}")
    assert units.publisher.sent == [AdvanceExecution(execution_id)]


def test_cancel_of_a_finished_execution_is_a_conflict(units):
    execution_id = started(units)
    units.tables.executions[execution_id].status = ES.COMPLETED.value
    with pytest.raises(errors.ExecutionNotCancellable) as refused:
        commands(units).cancel(ALICE, execution_id)
    assert refused.value.message == f"cannot cancel {execution_id}: it is COMPLETED"


def test_cancel_retries_when_the_scheduler_changes_the_status_under_it(units):
    execution_id = started(units)
    row = units.tables.executions[execution_id]
    row.status = ES.RUNNING.value
    moves = units.tables.executions

    class Racing(dict):  # the first read sees RUNNING, but the scheduler pauses it before the move
        raced = False

        def get(self, key, default=None):
            value = super().get(key, default)
            if not Racing.raced and value is not None and value.status == ES.RUNNING:
                Racing.raced = True
                snapshot = type(value)(**vars(value))
                value.status = ES.PAUSED.value
                return snapshot
            return value

    units.tables.executions = Racing(moves)
    commands(units).cancel(ALICE, execution_id)
    assert Racing.raced and units.tables.executions[execution_id].status == ES.CANCELLING


def test_control_of_an_unknown_execution_is_not_found(units):
    for action in (commands(units).pause, commands(units).resume, commands(units).cancel):
        with pytest.raises(errors.ExecutionNotFound):
            action(ALICE, "ex-404")


def test_a_message_is_dropped_when_its_unit_of_work_rolls_back_and_kept_when_it_commits(units):
    with pytest.raises(RuntimeError), units() as uow:
        uow.publish(AdvanceExecution("ex-1"))
        raise RuntimeError("the transaction fails")
    assert units.publisher.sent == []
    with units() as uow:
        uow.publish(AdvanceExecution("ex-1"))
        assert units.publisher.sent == []  # not before the commit
    assert units.publisher.sent == [AdvanceExecution("ex-1")]


def test_a_publish_that_fails_after_commit_does_not_undo_the_command(units):
    units.publisher.failing = True
    execution_id = started(units)
    assert units.tables.executions[execution_id].status == ES.PENDING  # the reconciler will start it


def test_pause_and_cancel_put_their_comment_on_the_timeline_with_who_asked(units):
    execution_id = started(units)
    units.tables.executions[execution_id].status = ES.RUNNING.value
    commands(units).pause(ALICE, execution_id, "db team asked for a hold")
    commands(units).cancel(ALICE, execution_id, "drill called off")
    pause, cancel = units.tables.events[-2:]
    assert (pause.kind, pause.actor) == ("execution.pause_requested", ALICE.actor)
    assert pause.message.endswith(' — "db team asked for a hold"')
    assert cancel.kind == "execution.cancelling"
    assert cancel.message == f'Cancel requested by {ALICE.actor} — "drill called off"'
