"""Discovery through boto3: tag filters, the shared match rule, pagination, DRS, errors sorted.

No network: clients come from a real SessionFactory and are answered by botocore's ``Stubber``
(the edge), so paging and error handling run through boto3's own paginators.
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from shared.aws.discovery import (
    GLOBAL_RESOURCE_TYPES,
    REGIONAL_RESOURCE_TYPES,
    AccountAccess,
    Discovery,
    DiscoveryError,
    matches,
    tag_filters,
    tags_from_list,
)
from shared.aws.sessions import SessionFactory

ABCD = {"Customer": "ABCD", "Environment": "Production"}
ARN_A = "arn:aws:lambda:us-west-2:123456789012:function:a"
ARN_B = "arn:aws:ecs:us-west-2:123456789012:service/c/b"
HEALTH = "arn:aws:route53:::healthcheck/h-1"
SERVER = "arn:aws:drs:us-west-2:123456789012:source-server/s-1111111111111111a"


pytestmark = pytest.mark.usefixtures("hermetic_aws_environment")


@pytest.fixture
def sessions() -> SessionFactory:
    return SessionFactory(
        default_region="us-east-1",
        max_attempts=1,
        base_session_kwargs={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
    )


def stub(sessions: SessionFactory, service: str, region: str) -> Stubber:
    stubber = Stubber(sessions.client(service, region=region))
    stubber.activate()
    return stubber


def mapping(arn: str, tags: dict[str, str]) -> dict:
    return {"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def no_servers(sessions: SessionFactory, region: str = "us-west-2") -> Stubber:
    drs = stub(sessions, "drs", region)
    drs.add_response("describe_source_servers", {"items": []}, {"filters": {}, "maxResults": 200})
    return drs


# --- the pure parts ------------------------------------------------------------------------------


def test_tag_filters_ask_for_the_enrolment_key_with_any_value_and_each_scope_tag_exactly():
    assert tag_filters(ABCD) == [
        {"Key": "dr:enabled"},
        {"Key": "Customer", "Values": ["ABCD"]},
        {"Key": "Environment", "Values": ["Production"]},
    ]


def test_tag_filters_use_a_wanted_enrolment_value_instead_of_any_value():
    assert tag_filters({"dr:enabled": "true"}) == [{"Key": "dr:enabled", "Values": ["true"]}]


def test_a_resource_without_the_enrolment_key_is_not_discovered_even_when_its_scope_matches():
    assert not matches(ABCD, ABCD)
    assert matches({**ABCD, "dr:enabled": "false"}, ABCD)


def test_scope_tags_match_exactly_as_the_tagging_api_does():
    tags = {"dr:enabled": "true", "Customer": "abcd", "Environment": "Production"}
    assert not matches(tags, ABCD)
    assert not matches({**tags, "Customer": " ABCD"}, ABCD)
    assert matches({**tags, "Customer": "ABCD"}, ABCD)


def test_no_wanted_tags_match_every_enrolled_resource():
    assert matches({"dr:enabled": "maybe"}, None) and matches({"dr:enabled": "true"}, {})


def test_tagging_api_tag_lists_become_dicts():
    assert tags_from_list([{"Key": "a", "Value": "1"}, {"Key": "b"}]) == {"a": "1", "b": ""}


# --- through boto3 --------------------------------------------------------------------------------


def test_discovery_follows_pagination_tokens_and_adds_global_route53_and_drs(sessions):
    regional = stub(sessions, "resourcegroupstaggingapi", "us-west-2")
    base = {
        "TagFilters": tag_filters(ABCD),
        "ResourceTypeFilters": list(REGIONAL_RESOURCE_TYPES),
        "ResourcesPerPage": 100,
    }
    regional.add_response(
        "get_resources",
        {"ResourceTagMappingList": [mapping(ARN_B, {**ABCD, "dr:enabled": "true"})], "PaginationToken": "page-2"},
        base,
    )
    regional.add_response(
        "get_resources",
        {"ResourceTagMappingList": [mapping(ARN_A, {**ABCD, "dr:enabled": "true"})], "PaginationToken": ""},
        {**base, "PaginationToken": "page-2"},
    )
    global_ = stub(sessions, "resourcegroupstaggingapi", "us-east-1")
    global_.add_response(
        "get_resources",
        {"ResourceTagMappingList": [mapping(HEALTH, {**ABCD, "dr:enabled": "true"})]},
        {**base, "ResourceTypeFilters": list(GLOBAL_RESOURCE_TYPES)},
    )
    drs = stub(sessions, "drs", "us-west-2")
    drs.add_response(
        "describe_source_servers",
        {
            "items": [{"arn": SERVER, "sourceServerID": "s-1111111111111111a", "tags": {**ABCD, "dr:enabled": "true"}}],
            "nextToken": "t2",
        },
        {"filters": {}, "maxResults": 200},
    )
    drs.add_response(
        "describe_source_servers",
        {"items": [{"arn": SERVER.replace("1a", "1b"), "tags": {"Customer": "WXYZ", "dr:enabled": "true"}}]},
        {"filters": {}, "maxResults": 200, "nextToken": "t2"},
    )

    found = Discovery(sessions).resources(AccountAccess(), "us-west-2", ABCD)

    assert [(r.arn, r.source) for r in found] == [  # by ARN; the WXYZ server is out of scope
        (SERVER, "drs"),
        (ARN_B, "tagging"),
        (ARN_A, "tagging"),
        (HEALTH, "tagging"),
    ]
    assert found[0].tags["Customer"] == "ABCD" and found[3].region == "us-east-1"
    for stubber in (regional, global_, drs):
        stubber.assert_no_pending_responses()


def test_discovery_without_global_resources_does_not_ask_the_global_region(sessions):
    regional = stub(sessions, "resourcegroupstaggingapi", "us-west-2")
    regional.add_response("get_resources", {"ResourceTagMappingList": []})
    global_ = stub(sessions, "resourcegroupstaggingapi", "us-east-1")
    no_servers(sessions)

    assert Discovery(sessions).resources(AccountAccess(), "us-west-2", include_global=False) == []
    global_.assert_no_pending_responses()  # nothing was queued and nothing was asked


def test_a_region_where_drs_was_never_initialised_has_no_source_servers(sessions):
    stub(sessions, "resourcegroupstaggingapi", "us-west-2").add_response(
        "get_resources", {"ResourceTagMappingList": [mapping(ARN_A, {"dr:enabled": "true"})]}
    )
    stub(sessions, "drs", "us-west-2").add_client_error(
        "describe_source_servers", "UninitializedAccountException", "Account not initialized", 400
    )

    found = Discovery(sessions).resources(AccountAccess(), "us-west-2", include_global=False)

    assert [r.arn for r in found] == [ARN_A]


def test_access_denied_is_a_discovery_error_that_waiting_does_not_fix(sessions):
    stub(sessions, "resourcegroupstaggingapi", "us-west-2").add_client_error(
        "get_resources", "AccessDeniedException", "not authorized to perform tag:GetResources", 400
    )

    with pytest.raises(DiscoveryError) as caught:
        Discovery(sessions).resources(AccountAccess(), "us-west-2", include_global=False)

    assert (caught.value.retryable, caught.value.code, caught.value.region) == (
        False,
        "AccessDeniedException",
        "us-west-2",
    )
    assert "not authorized" in str(caught.value)


def test_throttling_is_a_discovery_error_worth_retrying(sessions):
    no_servers(sessions)
    stub(sessions, "resourcegroupstaggingapi", "us-west-2").add_client_error(
        "get_resources", "ThrottlingException", "Rate exceeded", 400
    )

    with pytest.raises(DiscoveryError) as caught:
        Discovery(sessions).resources(AccountAccess(), "us-west-2", include_global=False)

    assert caught.value.retryable


def test_the_caller_identity_names_account_and_arn(sessions):
    stub(sessions, "sts", "us-east-1").add_response(
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/drwave", "UserId": "AIDAEXAMPLE"},
    )

    assert Discovery(sessions).caller_identity(AccountAccess()) == (
        "123456789012",
        "arn:aws:iam::123456789012:user/drwave",
    )
