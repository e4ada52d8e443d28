"""The failover rules of a recovery's Aurora global databases (pure) and the start request that carries them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.api.errors import field_path
from services.api.schemas import ExecutionStart
from shared.domain.failover import (
    Failover,
    WriterMove,
    approval_reason,
    describe,
    drill_problem,
    fails_over_when_primary_unreachable,
    first_move,
)

G, U, A = Failover.GRACEFUL, Failover.UNGRACEFUL, Failover.AUTO


def test_only_ungraceful_fails_over_first_the_others_switch_over():
    assert [first_move(f) for f in (G, U, A)] == [WriterMove.SWITCHOVER, WriterMove.FAILOVER, WriterMove.SWITCHOVER]


@pytest.mark.parametrize(
    ("failover", "allow", "expected"),
    [(A, True, True), (A, False, False), (G, True, False), (G, False, False)],
)
def test_only_auto_with_allow_data_loss_fails_over_around_an_unreachable_primary(failover, allow, expected):
    assert fails_over_when_primary_unreachable(failover, allow) is expected


def test_the_approval_reason_names_the_region_and_the_resource_exactly():
    arn = "arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2"

    assert approval_reason("us-east-1", arn) == (
        "primary Region us-east-1 unreachable for arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2: "
        "approve data loss to fail over"
    )


def test_a_drill_refuses_ungraceful_and_allow_data_loss_naming_the_field():
    assert drill_problem(U, False)[0] == "failover"
    assert drill_problem(A, True)[0] == "allowDataLoss"
    assert drill_problem(G, False) is None and drill_problem(A, False) is None


def test_each_choice_is_described_differently():
    lines = {describe(f, allow) for f in (G, U, A) for allow in (False, True)}
    assert len(lines) == 4  # graceful and ungraceful do not depend on allowDataLoss


# --- the start request -----------------------------------------------------------------------------------


def _refused(body: dict) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ExecutionStart.model_validate({"planId": "plan-1", **body})
    return [field_path(e["loc"]) for e in caught.value.errors()]


def test_a_recovery_request_defaults_to_auto_without_data_loss():
    request = ExecutionStart.model_validate({"planId": "plan-1", "mode": "recovery"})
    assert (request.failover, request.allow_data_loss) == (A, False)


def test_a_recovery_request_takes_ungraceful_and_allow_data_loss():
    request = ExecutionStart.model_validate(
        {"planId": "plan-1", "mode": "recovery", "failover": "ungraceful", "allowDataLoss": True}
    )
    assert (request.failover, request.allow_data_loss) == (U, True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "recovery", "failover": "sideways"}, "failover"),
        ({"mode": "recovery", "failover": 1}, "failover"),
        ({"mode": "recovery", "allowDataLoss": "yes"}, "allowDataLoss"),
        ({"mode": "recovery", "allowDataLoss": 1}, "allowDataLoss"),
        ({"failover": "ungraceful"}, "failover"),
        ({"mode": "drill", "allowDataLoss": True}, "allowDataLoss"),
    ],
)
def test_a_bad_failover_option_is_refused_naming_its_field(body, field):
    assert _refused(body) == [field]


def test_a_drill_accepts_graceful_and_auto_which_it_runs_as_a_switchover():
    for failover in ("graceful", "auto"):
        request = ExecutionStart.model_validate({"planId": "p", "mode": "drill", "failover": failover})
        assert request.failover == failover
