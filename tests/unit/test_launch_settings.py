"""DRS launch settings: what is written, what counts as drift, what the Region refuses; tag sync plans."""

from __future__ import annotations

import pytest

from shared.aws.drs_ops import plan_tags
from shared.domain import launch_settings as rules

S1, S2 = "s-0123456789abcdef0", "s-0123456789abcdef1"
NO_RIGHT_SIZING = {"targetInstanceTypeRightSizingMethod": "NONE"}
SETTINGS = {
    "launchDisposition": "STOPPED",
    "targetInstanceTypeRightSizingMethod": "NONE",
    "copyPrivateIp": False,
    "copyTags": True,
    "instanceType": "t3.small",
    "subnetId": "subnet-1",
    "securityGroupIds": ["sg-2", "sg-1"],
    "staticPrivateIps": {S1: "10.0.1.5"},
}


def test_the_configuration_update_carries_the_four_drs_fields():
    assert rules.configuration_update(SETTINGS) == {
        "launchDisposition": "STOPPED",
        "targetInstanceTypeRightSizingMethod": "NONE",
        "copyPrivateIp": False,
        "copyTags": True,
    }


def test_the_template_data_keeps_the_current_interface_and_sets_the_servers_ip():
    current = {"NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": False}], "ImageId": "ami-1"}

    data = rules.template_data(SETTINGS, S1, current)

    assert data == {
        "InstanceType": "t3.small",
        "NetworkInterfaces": [
            {
                "DeviceIndex": 0,
                "AssociatePublicIpAddress": False,
                "SubnetId": "subnet-1",
                "Groups": ["sg-2", "sg-1"],
                "PrivateIpAddress": "10.0.1.5",
            }
        ],
    }
    assert "PrivateIpAddress" not in rules.template_data(SETTINGS, S2, {})["NetworkInterfaces"][0]


def test_settings_of_the_configuration_alone_touch_no_template():
    assert not rules.touches_template({"launchDisposition": "STARTED", "copyTags": False})


def test_matching_state_is_not_drift_and_each_differing_field_is_named():
    configuration = rules.configuration_update(SETTINGS)
    template = rules.template_data(SETTINGS, S1, {})
    assert rules.drifted_fields(SETTINGS, S1, configuration, {**template, "Groups": None}) == []

    drifted = rules.drifted_fields(
        SETTINGS, S1, {**configuration, "copyTags": False}, {"InstanceType": "m5.large", "NetworkInterfaces": [{}]}
    )
    assert drifted == ["copyTags", "instanceType", "subnetId", "securityGroupIds", f"staticPrivateIps.{S1}"]


def test_a_static_ip_outside_the_subnet_used_twice_or_for_another_server_is_refused():
    settings = {
        "subnetId": "subnet-1",
        "staticPrivateIps": {S1: "10.0.1.5", S2: "10.0.1.5", "s-0000000000000000f": "10.9.0.1"},
    }

    problems = rules.problems(settings, [S1, S2], "10.0.1.0/24", None)

    fields = [field for field, _ in problems]
    assert f"launchSettings.staticPrivateIps.{S2}" in fields
    assert fields.count("launchSettings.staticPrivateIps.s-0000000000000000f") == 2  # not a member, outside
    assert any("10.0.1.5 is also given to" in problem for _, problem in problems)


def test_static_ips_need_a_subnet_and_an_instance_type_must_be_offered():
    settings = {"staticPrivateIps": {S1: "10.0.1.5"}, "instanceType": "x1.huge", **NO_RIGHT_SIZING}
    problems = rules.problems(settings, [S1], None, False)
    assert [field for field, _ in problems] == ["launchSettings.subnetId", "launchSettings.instanceType"]
    assert rules.problems(SETTINGS, [S1], "10.0.0.0/16", True) == []


@pytest.mark.parametrize("sizing", ["BASIC", "IN_AWS", None])
def test_an_instance_type_is_refused_unless_right_sizing_is_none_since_drs_would_pick_its_own(sizing):
    settings = {"instanceType": "t3.small", "targetInstanceTypeRightSizingMethod": sizing}

    ((field, problem),) = rules.problems(settings, [S1], None, True)

    assert field == "launchSettings.instanceType"
    assert problem.startswith(f"an instance type needs targetInstanceTypeRightSizingMethod NONE (it is {sizing})")
    assert rules.problems({**settings, **NO_RIGHT_SIZING}, [S1], None, True) == []
    assert rules.problems({"targetInstanceTypeRightSizingMethod": sizing}, [S1], None, None) == []


def test_tag_sync_sets_only_what_differs_and_removes_only_with_prune():
    current = {"dr:wave": "1", "Owner": "sre", "old": "x"}
    wanted = {"dr:wave": "2", "Owner": "sre", "aws:cloudformation:stack-name": "s", "new": "y"}

    assert plan_tags(current, wanted, None, prune=False) == ({"dr:wave": "2", "new": "y"}, [])
    assert plan_tags(current, wanted, None, prune=True) == ({"dr:wave": "2", "new": "y"}, ["old"])
    assert plan_tags(current, wanted, {"dr:wave", "old"}, prune=True) == ({"dr:wave": "2"}, ["old"])
