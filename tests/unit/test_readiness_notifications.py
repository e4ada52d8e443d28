"""plan.readiness_changed: a recorded change of a plan's readiness is an outbox event in the same unit of
work, with the plan, both statuses, a chat line and the checks that are not ok."""

from __future__ import annotations

import pytest
from fakes import FakeUnits, add_plan

from services.api.commands.preflight import Evaluation
from services.api.oncall_schemas import SubscriptionFields
from services.scheduler.readiness import PassReport, ReadinessEvaluator
from shared.domain import notifications
from shared.domain import preflight as rules
from shared.domain.notifications import EventType

ARN = "arn:aws:drs:us-west-2:123456789012:source-server/s-0123456789abcdef0"
HEALTHY = [rules.ok("drs.replication", "replication CONTINUOUS", ARN), rules.ok("rto.forecast", "within")]
STALLED = [
    rules.error("drs.replication", "replication is STALLED, not CONTINUOUS: DRS would skip this server", ARN),
    rules.ok("drs.leftoverInstances", "none", ARN),
    rules.warning("rto.forecast", "p90 forecast 90 min exceeds the plan's RTO target of 60 min"),
]


class ScriptedPreflight:
    """Answers each plan's evaluations in turn, as AWS would report them pass after pass."""

    def __init__(self, *answers: list[rules.Check]) -> None:
        self.answers = list(answers)

    def evaluate(self, plan_id: str) -> Evaluation:
        return Evaluation(self.answers.pop(0), {"p50Minutes": 1})


def evaluator(units: FakeUnits, *answers: list[rules.Check]) -> ReadinessEvaluator:
    return ReadinessEvaluator(None, ScriptedPreflight(*answers), units=units)  # type: ignore[arg-type]  # no SQL


@pytest.fixture
def units() -> FakeUnits:
    units = FakeUnits()
    add_plan(units.tables, "plan-1", "Payments")
    return units


def test_a_plan_turning_action_required_records_the_change_and_writes_its_event_in_one_unit(units):
    readiness = evaluator(units, HEALTHY, STALLED)
    readiness.record("plan-1", readiness.preflight.evaluate("plan-1"))
    commits = units.tables.commits

    envelope = readiness.record("plan-1", readiness.preflight.evaluate("plan-1"))

    assert units.tables.commits == commits + 1
    (_, change) = units.tables.readiness_changes
    assert (change.from_status, change.to_status) == ("ready", "actionRequired")
    assert [row.envelope for row in units.tables.outbox][-1] == envelope
    assert units.tables.outbox[-1].kind == "plan.readiness_changed" and units.tables.outbox[-1].execution_id is None
    data = envelope["data"]
    assert envelope["type"] == "plan.readiness_changed" and envelope["id"].startswith("evt_")
    assert (data["planId"], data["planName"], data["statusBefore"], data["status"]) == (
        "plan-1",
        "Payments",
        "ready",
        "actionRequired",
    )
    assert [(c["name"], c["status"]) for c in data["checks"]] == [
        ("drs.replication", "error"),
        ("rto.forecast", "warning"),
    ]
    assert data["checks"][0]["resourceArn"] == ARN
    assert data["message"] == (
        "Plan 'Payments' is now actionRequired (was ready): drs.replication: replication is STALLED, not "
        "CONTINUOUS: DRS would skip this server (+1 more)"
    )


def test_the_first_evaluation_is_a_change_from_not_evaluated_and_an_unchanged_status_notifies_nothing(units):
    readiness = evaluator(units, HEALTHY, HEALTHY)

    first = readiness.record("plan-1", readiness.preflight.evaluate("plan-1"))
    again = readiness.record("plan-1", readiness.preflight.evaluate("plan-1"))

    assert again is None and len(units.tables.outbox) == 1
    assert (first["data"]["statusBefore"], first["data"]["status"], first["data"]["checks"]) == (
        "notEvaluated",
        "ready",
        [],
    )
    assert first["data"]["message"] == "Plan 'Payments' is now ready (was notEvaluated): every check passed"
    assert units.tables.readiness["plan-1"].status == "ready"


def test_a_change_whose_event_cannot_be_written_is_not_recorded_either(units, monkeypatch):
    readiness = evaluator(units, STALLED)

    def outbox_down(self, **_):
        raise ConnectionError("outbox insert failed")

    monkeypatch.setattr("fakes.FakeOutbox.emit", outbox_down)
    report = PassReport()
    with pytest.raises(ConnectionError):
        readiness._evaluate("plan-1", report)

    assert units.tables.readiness_changes == [] and units.tables.readiness == {}


def test_a_plan_deleted_before_its_result_is_stored_records_and_notifies_nothing(units):
    readiness = evaluator(units, STALLED)
    del units.tables.plans["plan-1"]
    report = PassReport()

    readiness._evaluate("plan-1", report)

    assert units.tables.readiness == {} and units.tables.outbox == []
    assert (report.evaluated, report.changed) == (1, 0)


def test_a_subscription_can_list_plan_readiness_changed_and_receives_it_only_for_its_plans():
    fields = SubscriptionFields(
        name="on-call", kind="webhook", target="https://hooks.example.com/x", events=["plan.readiness_changed"]
    )

    assert fields.events == ["plan.readiness_changed"]
    kind = EventType.PLAN_READINESS_CHANGED
    assert notifications.matches(fields.events, ["plan-1"], kind, "plan-1") is True
    assert notifications.matches(fields.events, ["plan-2"], kind, "plan-1") is False
    assert notifications.matches(["*"], None, kind, "plan-1") is True
    assert notifications.matches(["execution.finished"], None, kind, "plan-1") is False
