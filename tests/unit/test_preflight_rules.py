"""Preflight rules: DRS quotas, replication state and lag, drill leftovers, readiness of a set of checks."""

from __future__ import annotations

import pytest

from shared.domain import preflight as rules
from shared.domain.preflight import DrsActivity, Leftover, Readiness, Status

ARN = "arn:aws:drs:us-west-2:123456789012:source-server/s-0123456789abcdef0"


def by_name(checks):
    return {c.name: c for c in checks}


def test_quotas_of_a_plan_that_fits_next_to_the_running_jobs_pass():
    checks = by_name(rules.drs_quota_checks("acct/us-west-2", {1: 250, 2: 30}, DrsActivity(17, 200)))

    assert {c.status for c in checks.values()} == {Status.OK}
    assert "wave 1 has 250 source servers, started as 3 job(s)" in checks["drs.quota.serversPerJob"].message
    assert "17 DRS job(s) running now + 3 for wave 1 = 20" in checks["drs.quota.concurrentJobs"].message


def test_one_job_too_many_or_one_server_too_many_is_an_error():
    jobs = by_name(rules.drs_quota_checks("here", {1: 100}, DrsActivity(20, 0)))
    servers = by_name(rules.drs_quota_checks("here", {1: 101}, DrsActivity(0, 400)))

    assert jobs["drs.quota.concurrentJobs"].status is Status.ERROR
    assert servers["drs.quota.serversInActiveJobs"].status is Status.ERROR
    assert servers["drs.quota.concurrentJobs"].status is Status.OK


def test_a_plan_without_drs_servers_has_no_quota_checks():
    assert rules.drs_quota_checks("here", {1: 0}, DrsActivity(0, 0)) == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("PT0S", 0), ("PT900S", 900), ("PT15M", 900), ("PT1H2M3S", 3723), ("P1DT1S", 86401), ("PT1.5S", 1.5)],
)
def test_drs_lag_durations_are_read_as_iso_8601(value, seconds):
    assert rules.duration_seconds(value) == seconds


@pytest.mark.parametrize("value", [None, "", "15 minutes", "P"])
def test_a_lag_that_is_not_a_duration_is_unknown(value):
    assert rules.duration_seconds(value) in (None, 0)


@pytest.mark.parametrize("state", ["STALLED", "DISCONNECTED", "PAUSED", "INITIAL_SYNC", None])
def test_replication_other_than_continuous_is_an_error(state):
    check = rules.replication_check(ARN, state, "PT0S", 900)
    assert check.status is Status.ERROR and check.resource_arn == ARN


def test_lag_over_the_limit_is_a_warning_and_at_the_limit_is_fine():
    assert rules.replication_check(ARN, "CONTINUOUS", "PT901S", 900).status is Status.WARNING
    assert rules.replication_check(ARN, "CONTINUOUS", "PT15M", 900).status is Status.OK


def test_leftover_drill_instances_are_a_warning_naming_them_and_their_execution():
    check = rules.leftover_check(ARN, [Leftover("i-1", "ex-7"), Leftover("i-2", None)])
    assert check.status is Status.WARNING
    assert "i-1 (launched by ex-7), i-2" in check.message


def test_a_plan_is_ready_only_when_every_check_passed():
    passed = [rules.ok("a", "fine")]
    assert rules.readiness_of(passed) is Readiness.READY
    assert rules.readiness_of([*passed, rules.warning("b", "look")]) is Readiness.ACTION_REQUIRED
    assert rules.errors_of([*passed, rules.error("c", "broken")])[0].name == "c"


def test_a_check_without_a_resource_has_no_resource_arn_on_the_wire():
    assert rules.ok("drs.quota.concurrentJobs", "fine").as_json() == {
        "name": "drs.quota.concurrentJobs",
        "status": "ok",
        "message": "fine",
    }


def test_an_aurora_secondary_lag_over_the_limit_is_a_warning_and_an_unknown_lag_only_informs():
    arn = "arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2"

    assert rules.aurora_lag_check(arn, "orders-usw2", 900_000, 900).status is Status.OK
    over = rules.aurora_lag_check(arn, "orders-usw2", 900_001, 900)
    assert over.status is Status.WARNING and "900.0 s is over 900 s" in over.message
    unknown = rules.aurora_lag_check(arn, "orders-usw2", None, 900)
    assert unknown.status is Status.OK and "lag not available (no AuroraGlobalDBReplicationLag" in unknown.message
    refused = rules.aurora_lag_check(arn, "orders-usw2", None, 900, "cloudwatch.get_metric_statistics: AccessDenied")
    assert refused.status is Status.OK and refused.message.endswith("(cloudwatch.get_metric_statistics: AccessDenied)")
