import pytest

from shared.domain.simulated import ALWAYS, InvalidSimulatedArn, SimulatedSpec, parse_simulated_arn

BASE = "arn:drwave:simulated:us-west-2:123456789012:resource"


def test_a_plain_simulated_arn_takes_no_time_and_succeeds():
    assert parse_simulated_arn(f"{BASE}/db-1") == SimulatedSpec("us-west-2", "123456789012", "db-1", 0, 0)


def test_duration_and_failure_options_are_read_in_any_order():
    assert parse_simulated_arn(f"{BASE}/db-1/250ms/fail") == SimulatedSpec(
        "us-west-2", "123456789012", "db-1", 250, ALWAYS
    )
    assert parse_simulated_arn(f"{BASE}/db-1/fail/10ms").duration_ms == 10


def test_fail_n_fails_the_first_n_attempts_and_then_succeeds():
    spec = parse_simulated_arn(f"{BASE}/db-1/100ms/fail1")
    assert (spec.duration_ms, spec.fail_attempts) == (100, 1)
    assert [spec.fails(attempt) for attempt in (1, 2, 3)] == [True, False, False]
    assert [parse_simulated_arn(f"{BASE}/db-1/fail2").fails(a) for a in (1, 2, 3)] == [True, True, False]


def test_plain_fail_fails_every_attempt():
    assert all(parse_simulated_arn(f"{BASE}/db-1/fail").fails(attempt) for attempt in (1, 2, 50))


@pytest.mark.parametrize(
    "arn",
    [
        f"{BASE}/db-1/soon",
        f"{BASE}/",
        "arn:aws:drs:us-west-2:123456789012:source-server/s-1",
        f"{BASE}/a b",
        f"{BASE}/db-1/99999999ms",
        f"{BASE}/db-1/failx",
        f"{BASE}/db-1/fail1234",
    ],
)
def test_malformed_simulated_arns_are_refused_with_a_reason(arn):
    with pytest.raises(InvalidSimulatedArn):
        parse_simulated_arn(arn)
