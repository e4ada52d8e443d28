"""ECS sizes and Lambda concurrency read from tags (pure), and ARNs the two adapters accept."""

from __future__ import annotations

import pytest

from services.workers.adapters.base import Failed
from services.workers.adapters.ecs import rollout, service_of, target_count
from services.workers.adapters.lambda_fn import function_of, wanted_alias, wanted_concurrency


def test_the_dr_size_of_a_service_is_its_desired_count_tag():
    assert target_count({"dr:desired-count": " 4 "}) == 4
    assert target_count({"dr:desired-count": "0"}) == 0


def test_without_the_tag_the_dr_size_is_the_primarys_count():
    assert target_count({}, primary_count=6) == 6


@pytest.mark.parametrize("tags", [{}, {"dr:desired-count": "four"}, {"dr:desired-count": "-1"}])
def test_a_missing_or_bad_dr_size_is_a_failure_naming_the_tag(tags):
    with pytest.raises(Failed, match="dr:desired-count"):
        target_count(tags)


def test_the_rollout_state_is_the_primary_deployments():
    service = {
        "deployments": [
            {"status": "ACTIVE", "rolloutState": "FAILED"},
            {"status": "PRIMARY", "rolloutState": "IN_PROGRESS"},
        ]
    }

    assert rollout(service) == "IN_PROGRESS"
    assert rollout({}) is None


def test_an_ecs_service_arn_names_its_region_account_cluster_and_service():
    assert service_of("arn:aws:ecs:us-west-2:123456789012:service/shop-dr/web") == (
        "us-west-2",
        "123456789012",
        "shop-dr",
        "web",
    )
    with pytest.raises(Failed):
        service_of("arn:aws:ecs:us-west-2:123456789012:service/web")  # the old format names no cluster


def test_a_function_held_at_zero_is_released_and_a_tag_reserves_a_number():
    assert wanted_concurrency({}, 0) is None
    assert wanted_concurrency({}, None) == "keep"
    assert wanted_concurrency({}, 10) == "keep"
    assert wanted_concurrency({"dr:reserved-concurrency": "25"}, 0) == 25


@pytest.mark.parametrize("value", ["0", "lots", ""])
def test_a_bad_concurrency_tag_is_a_failure_naming_the_tag(value):
    with pytest.raises(Failed, match="dr:reserved-concurrency"):
        wanted_concurrency({"dr:reserved-concurrency": value}, 0)


def test_a_qualified_function_arn_acts_on_the_function():
    assert function_of("arn:aws:lambda:us-west-2:123456789012:function:ingest:live") == (
        "us-west-2",
        "123456789012",
        "arn:aws:lambda:us-west-2:123456789012:function:ingest",
    )


def test_an_alias_tag_names_the_alias_and_the_version_it_serves_in_dr():
    assert wanted_alias({}) is None
    assert wanted_alias({"dr:alias": "live", "dr:alias-version": "7"}) == ("live", "7")
    with pytest.raises(Failed, match="dr:alias-version"):
        wanted_alias({"dr:alias": "live"})
