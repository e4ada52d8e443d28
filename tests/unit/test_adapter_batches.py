"""Launch batches and ARNs (pure): how a wave's DRS servers are split, and the batch state machine."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.domain.arns import Arn, InvalidArn, location
from shared.domain.batches import EarlierOperations, RunRef, split
from shared.domain.states import BatchStatus, IllegalTransition, check_move

DRS = "arn:aws:drs:{region}:{account}:source-server/s-{n:017x}"


def drs(n: int, region: str = "us-west-2", account: str = "123456789012") -> str:
    return DRS.format(region=region, account=account, n=n)


def test_a_wave_of_300_drs_servers_is_split_into_three_batches_of_100():
    runs = [RunRef(n, "drs", drs(n)) for n in range(1, 301)]

    batches = split(runs)

    assert [len(b.run_ids) for b in batches] == [100, 100, 100]
    assert [run_id for b in batches for run_id in b.run_ids] == list(range(1, 301))
    assert {(b.account_id, b.region) for b in batches} == {("123456789012", "us-west-2")}


def test_a_remainder_gets_a_smaller_last_batch():
    assert [len(b.run_ids) for b in split([RunRef(n, "drs", drs(n)) for n in range(250)])] == [100, 100, 50]


def test_servers_of_other_accounts_or_regions_never_share_a_batch():
    runs = [
        RunRef(1, "drs", drs(1)),
        RunRef(2, "drs", drs(2, region="eu-west-1")),
        RunRef(3, "drs", drs(3, account="210987654321")),
        RunRef(4, "drs", drs(4)),
    ]

    batches = split(runs)

    assert [(b.account_id, b.region, b.run_ids) for b in batches] == [
        ("123456789012", "us-west-2", (1, 4)),
        ("123456789012", "eu-west-1", (2,)),
        ("210987654321", "us-west-2", (3,)),
    ]


def test_resources_of_adapters_that_start_one_by_one_are_left_out():
    runs = [RunRef(1, "ecs", "arn:aws:ecs:us-west-2:123456789012:service/c/web"), RunRef(2, "simulated", "arn:x")]

    assert split(runs) == []


def test_the_limit_comes_from_the_adapter():
    batches = split([RunRef(n, "drs", drs(n)) for n in range(5)], {"drs": 2})

    assert [b.run_ids for b in batches] == [(0, 1), (2, 3), (4,)]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (BatchStatus.PENDING, BatchStatus.STARTING),
        (BatchStatus.STARTING, BatchStatus.STARTED),
        (BatchStatus.STARTING, BatchStatus.FAILED),
        (BatchStatus.STARTING, BatchStatus.PENDING),
        (BatchStatus.STARTING, BatchStatus.STARTING),
    ],
)
def test_a_batch_moves_from_pending_through_starting_to_started_or_failed(current, target):
    assert check_move(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (BatchStatus.PENDING, BatchStatus.STARTED),
        (BatchStatus.STARTED, BatchStatus.STARTING),
        (BatchStatus.FAILED, BatchStatus.PENDING),
    ],
)
def test_a_started_or_failed_batch_is_never_started_again(current, target):
    with pytest.raises(IllegalTransition):
        check_move(current, target)


def test_an_arn_names_its_partition_service_region_account_and_resource():
    arn = Arn.parse("arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2")

    assert (arn.partition, arn.service, arn.region, arn.account) == ("aws", "rds", "us-west-2", "123456789012")
    assert arn.resource_id == "orders-usw2"
    assert str(arn) == "arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2"


def test_a_global_arn_has_no_region_or_account():
    assert location("arn:aws:route53:::healthcheck/abc") == (None, None)
    assert Arn.parse("arn:aws:route53:::healthcheck/abc").resource_id == "abc"


@pytest.mark.parametrize("text", ["", "arn:aws", "not-an-arn:aws:drs:r:a:x", "arn:aws:drs:us-west-2:1:"])
def test_malformed_arns_are_refused(text):
    with pytest.raises(InvalidArn):
        Arn.parse(text)
    assert location(text) == (None, None)


def test_earlier_operations_list_each_recorded_and_stray_operation_once_in_batch_order():
    batches = [
        SimpleNamespace(operation_id="job-2", detail={"strays": [{"operationId": "job-1"}, {"operationId": "job-2"}]}),
        SimpleNamespace(operation_id=None, detail=None),  # never started
        SimpleNamespace(operation_id="job-3", detail={"jobID": "job-3"}),
    ]

    earlier = EarlierOperations.of(["ex-2", "ex-1"], batches)

    assert earlier == EarlierOperations(("ex-2", "ex-1"), ("job-2", "job-1", "job-3"))
