"""The on-call loop's pure rules: approval policies, event types and filters, retry backoff, targets."""

from __future__ import annotations

import random

import pytest

from shared.domain.approvals import (
    AlreadyApproved,
    ApprovalPolicy,
    ApproverIsStarter,
    OnTimeout,
    check_grant,
    progress_message,
)
from shared.domain.notifications import EventType, Retry, event_type, matches
from shared.notify.senders import signature_headers
from shared.notify.targets import TargetRefused, check_url


def test_the_default_policy_needs_one_approval_in_both_modes_and_never_expires():
    policy = ApprovalPolicy.from_json(None)
    assert (policy.required_for("drill"), policy.required_for("recovery")) == (1, 1)
    assert policy.timeout_seconds is None and policy.on_timeout is OnTimeout.STAY_PAUSED


def test_recovery_required_is_the_two_person_rule_of_a_real_failover_only():
    policy = ApprovalPolicy.from_json({"required": 1, "recoveryRequired": 2})
    assert (policy.required_for("drill"), policy.required_for("recovery")) == (1, 2)
    assert ApprovalPolicy.from_json(policy.to_json()) == policy


def test_the_same_approver_twice_is_refused_only_when_approvers_must_be_distinct():
    with pytest.raises(AlreadyApproved):
        check_grant(ApprovalPolicy(), approver="alice", is_starter=False, earlier=["alice"], wave=2)
    check_grant(ApprovalPolicy(distinct_approvers=False), approver="alice", is_starter=False, earlier=["alice"], wave=2)


def test_the_starter_is_refused_when_the_starter_may_not_approve():
    with pytest.raises(ApproverIsStarter):
        check_grant(ApprovalPolicy(starter_may_approve=False), approver="bob", is_starter=True, earlier=[], wave=1)
    check_grant(ApprovalPolicy(), approver="bob", is_starter=True, earlier=[], wave=1)


def test_the_approval_message_says_how_many_are_still_missing():
    assert progress_message("ex-7", 2, "alice", 1, 2) == "Approved ex-7 wave 2 by alice (1 of 2): waiting for one more"
    assert progress_message("ex-7", 2, "alice", 1, 3).endswith("waiting for 2 more")
    assert progress_message("ex-7", 2, "bob", 2, 2) == "Approved ex-7 wave 2 by bob (2 of 2)"


def test_running_after_a_pause_is_a_resume_and_terminal_statuses_are_a_finish():
    assert event_type("execution.running", was_paused=False) is EventType.EXECUTION_STARTED
    assert event_type("execution.running", was_paused=True) is EventType.EXECUTION_RESUMED
    assert event_type("execution.cancelled", was_paused=True) is EventType.EXECUTION_FINISHED
    assert event_type("resource.timed_out", was_paused=False) is EventType.RESOURCE_FAILED
    assert event_type("execution.retried", was_paused=True) is EventType.EXECUTION_RETRIED


def test_the_latest_outbox_trigger_copies_every_notifiable_timeline_kind():
    import importlib.util
    from pathlib import Path

    from shared.domain.notifications import TIMELINE_TYPES

    versions = Path(__file__).parents[2] / "shared/db/migrations/versions"
    latest = max((p for p in versions.glob("*.py") if "NOTIFIABLE_KINDS = (" in p.read_text()), key=lambda p: p.name)
    spec = importlib.util.spec_from_file_location(latest.stem, latest)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.NOTIFIABLE_KINDS) == set(TIMELINE_TYPES)


def test_subscriptions_filter_by_event_type_and_plan_and_never_receive_another_ones_test():
    assert matches(["*"], None, EventType.WAVE_STARTED, "plan-1")
    assert not matches(["execution.paused"], None, EventType.WAVE_STARTED, "plan-1")
    assert not matches(["*"], ["plan-2"], EventType.WAVE_STARTED, "plan-1")
    assert not matches(["*"], None, EventType.TEST, None)


def test_retries_back_off_exponentially_with_jitter_up_to_the_cap_and_stop_after_the_window():
    retry = Retry(window_seconds=24 * 3600, base_seconds=2, cap_seconds=600)
    rand = random.Random(7)
    delays = [retry.delay(n, rand) for n in range(1, 12)]
    for attempt, delay in enumerate(delays, start=1):
        bound = min(600, 2 * 2 ** (attempt - 1))
        assert bound / 2 <= delay <= bound
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered
    assert not retry.gives_up(23 * 3600, 600)
    assert retry.gives_up(24 * 3600 - 100, 600)


def test_signatures_follow_standard_webhooks():
    from datetime import UTC, datetime

    from standardwebhooks.webhooks import Webhook

    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = signature_headers(secret, "evt_1", '{"a":1}', datetime.now(UTC))
    assert headers["webhook-id"] == "evt_1" and headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify('{"a":1}', headers) == {"a": 1}


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "169.254.169.254", "10.0.0.5", "172.16.3.4", "192.168.1.1", "::1", "fe80::1", "0.0.0.0"]
)
def test_internal_addresses_are_refused(address):
    with pytest.raises(TargetRefused):
        check_url("https://hooks.example.com/x", allow_private=False, resolver=lambda host: [address])


def test_public_addresses_pass_and_private_ones_pass_when_allowed():
    assert check_url("https://hooks.example.com/x", allow_private=False, resolver=lambda host: ["93.184.216.34"])
    assert check_url("http://127.0.0.1:9/x", allow_private=True)
    with pytest.raises(TargetRefused):
        check_url("ftp://example.com/x", allow_private=True)
