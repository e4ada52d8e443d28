"""Request models of discovery, groups, auto-waved plans and target accounts: bad input names its field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.api.errors import field_path
from services.api.schemas import (
    GroupCreate,
    PlanCreate,
    ResourceQuery,
    Selection,
    TargetAccountCreate,
)

ARN = "arn:aws:lambda:us-west-2:123456789012:function:f"
AUTO = {"accountId": "123456789012", "region": "us-west-2", "tags": {"Customer": "ABCD"}}


def problem(model, data) -> tuple[str, str]:
    """(field, message) of the first validation error, as the API reports it."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    first = caught.value.errors()[0]
    return field_path(first["loc"]), first["msg"]


def test_a_selection_by_tags_is_stored_as_tags_only():
    assert Selection.model_validate({"tags": {"Customer": "ABCD"}}).stored() == {"tags": {"Customer": "ABCD"}}


def test_a_selection_by_arns_is_stored_as_resource_arns_only():
    assert Selection.model_validate({"resourceArns": [ARN]}).stored() == {"resourceArns": [ARN]}


def test_a_selection_with_both_tags_and_arns_is_refused_naming_the_selection():
    field, message = problem(
        GroupCreate, {"name": "g", "region": "us-west-2", "selection": {"tags": {"a": "b"}, "resourceArns": [ARN]}}
    )
    assert field == "selection" and "either tags or resourceArns, not both" in message


def test_a_selection_with_neither_tags_nor_arns_is_refused_naming_the_selection():
    field, message = problem(GroupCreate, {"name": "g", "region": "us-west-2", "selection": {}})
    assert field == "selection" and "tags or resourceArns" in message


def test_reserved_aws_tag_keys_cannot_be_selected():
    field, message = problem(Selection, {"tags": {"aws:cloudformation:stack-name": "x"}})
    assert field == "tags" and "reserved" in message


def test_more_than_fifty_tags_cannot_be_selected():
    field, _ = problem(Selection, {"tags": {f"k{n}": "v" for n in range(51)}})
    assert field == "tags"


def test_a_plan_with_both_waves_and_auto_waves_is_refused_naming_auto_waves():
    field, message = problem(PlanCreate, {"name": "p", "waves": [{"name": "w"}], "autoWaves": AUTO})
    assert field == "autoWaves" and "not both" in message


def test_a_plan_with_neither_waves_nor_auto_waves_is_refused():
    field, message = problem(PlanCreate, {"name": "p"})
    assert field == "" and "needs waves or autoWaves" in message  # the API reports it as "body: ..."


def test_an_auto_waved_plan_needs_a_region_and_tags():
    assert problem(PlanCreate, {"name": "p", "autoWaves": {"tags": {}}})[0] == "autoWaves.region"
    assert problem(PlanCreate, {"name": "p", "autoWaves": {"region": "us-west-2"}})[0] == "autoWaves.tags"


def test_auto_wave_gates_must_name_waves_one_to_five():
    field, _ = problem(PlanCreate, {"name": "p", "autoWaves": {**AUTO, "pauseBeforeWaves": [6]}})
    assert field == "autoWaves.pauseBeforeWaves"


def test_auto_wave_gates_are_kept_sorted_and_unique():
    plan = PlanCreate.model_validate({"name": "p", "autoWaves": {**AUTO, "pauseBeforeWaves": [3, 1, 3]}})
    assert plan.auto_waves.pause_before_waves == [1, 3]


def test_resource_query_tags_are_key_equals_value_and_values_may_contain_equals():
    query = ResourceQuery.model_validate({"region": "us-west-2", "tag": ["Customer=ABCD", "Note=a=b"]})
    assert query.tags() == {"Customer": "ABCD", "Note": "a=b"}


def test_a_resource_query_tag_without_equals_is_refused_naming_tag():
    field, message = problem(ResourceQuery, {"region": "us-west-2", "tag": ["Customer"]})
    assert field == "tag" and "KEY=VALUE" in message


def test_a_resource_query_tag_given_twice_with_different_values_is_refused():
    field, message = problem(ResourceQuery, {"region": "us-west-2", "tag": ["Customer=A", "Customer=B"]})
    assert field == "tag" and "twice" in message


TARGET = {
    "accountId": "111122223333",
    "roleArn": "arn:aws:iam::111122223333:role/drwave",
    "externalId": "ext-1234",
    "regions": ["us-east-1", "us-west-2"],
}


def test_a_target_account_id_has_twelve_digits():
    assert problem(TargetAccountCreate, {**TARGET, "accountId": "1234"})[0] == "accountId"


def test_a_target_account_role_must_be_an_iam_role_arn():
    assert problem(TargetAccountCreate, {**TARGET, "roleArn": "arn:aws:iam::111122223333:user/bob"})[0] == "roleArn"


def test_a_target_account_external_id_uses_the_characters_sts_allows():
    assert problem(TargetAccountCreate, {**TARGET, "externalId": "has space"})[0] == "externalId"


def test_target_account_regions_are_region_names_given_once():
    assert problem(TargetAccountCreate, {**TARGET, "regions": ["us-west-2", "us-west-2"]})[0] == "regions"
    assert problem(TargetAccountCreate, {**TARGET, "regions": ["Oregon"]})[0] == "regions"
    assert problem(TargetAccountCreate, {**TARGET, "regions": []})[0] == "regions"
