import pytest

from shared.domain.simulated import InvalidSimulatedArn, SimulatedSpec, parse_simulated_arn

BASE = "arn:drwave:simulated:us-west-2:123456789012:resource"


def test_a_plain_simulated_arn_takes_no_time_and_succeeds():
    assert parse_simulated_arn(f"{BASE}/db-1") == SimulatedSpec("us-west-2", "123456789012", "db-1", 0, False)


def test_duration_and_failure_options_are_read_in_any_order():
    assert parse_simulated_arn(f"{BASE}/db-1/250ms/fail") == SimulatedSpec(
        "us-west-2", "123456789012", "db-1", 250, True
    )
    assert parse_simulated_arn(f"{BASE}/db-1/fail/10ms").duration_ms == 10


@pytest.mark.parametrize(
    "arn",
    [
        f"{BASE}/db-1/soon",
        f"{BASE}/",
        "arn:aws:drs:us-west-2:123456789012:source-server/s-1",
        f"{BASE}/a b",
        f"{BASE}/db-1/99999999ms",
    ],
)
def test_malformed_simulated_arns_are_refused_with_a_reason(arn):
    with pytest.raises(InvalidSimulatedArn):
        parse_simulated_arn(arn)
