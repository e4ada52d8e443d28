"""Bad input is a 400 naming the field, never a 500 or 503: NUL bytes anywhere, JSON nested too deep,
blank or padded names, Region names AWS does not have."""

from __future__ import annotations

import uuid

import pytest


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def group(name: str, region: str = "us-west-2", **selection) -> dict:
    return {"name": name, "region": region, "selection": selection or {"tags": {"App": "a"}}}


def error_of(response, status: int = 400) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    return response.get_json()["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (group("bad\x00name"), "name"),
        (group("ok", selection=None, tags={"App\x00": "a"}), "selection.tags.App\\u0000"),
        (group("ok", selection=None, tags={"App": "a\x00"}), "selection.tags.App"),
        (
            group("ok", selection=None, resourceArns=["arn:aws:ec2:us-west-2:1:instance/i\x00"]),
            "selection.resourceArns[0]",
        ),
    ],
)
def test_a_nul_byte_in_the_body_is_a_400_naming_the_field(client, admin, body, field):
    error = error_of(client.post("/v1/protection-groups", json=body, headers=admin))
    assert error["code"] == "INVALID_REQUEST"
    assert error["details"]["field"] == field and "NUL" in error["message"]


def test_a_nul_byte_in_the_query_or_the_path_is_a_400_naming_it(client, admin):
    query = error_of(client.get("/v1/executions", query_string={"status": "RUN\x00NING"}, headers=admin))
    assert query["details"] == {"field": "status", "location": "query"}
    path = error_of(client.get("/v1/executions/ex-1%00", headers=admin))
    assert path["details"] == {"field": "id", "location": "path"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [65, 1000, 50_000])
def test_json_nested_deeper_than_64_levels_is_malformed(client, admin, depth):
    body = '{"name": "deep", "region": "us-west-2", "selection": {"resourceArns": ' + nested(depth - 2) + "}}"
    response = client.post("/v1/protection-groups", data=body, content_type="application/json", headers=admin)
    error = error_of(response)
    assert error["code"] == "MALFORMED_JSON" and "64" in error["message"]


def test_json_nested_64_levels_is_parsed_and_validated_as_usual(client, admin):
    body = '{"name": "deep", "region": "us-west-2", "selection": {"resourceArns": ' + nested(62) + "}}"
    response = client.post("/v1/protection-groups", data=body, content_type="application/json", headers=admin)
    assert error_of(response)["code"] == "INVALID_REQUEST"


def test_names_are_trimmed_before_they_are_compared(client, admin):
    name = unique("Tier-1")
    created = client.post("/v1/protection-groups", json=group(f"  {name} "), headers=admin)
    assert created.status_code == 201 and created.get_json()["name"] == name
    twin = error_of(client.post("/v1/protection-groups", json=group(name.upper()), headers=admin), 409)
    assert twin["code"] == "NAME_TAKEN"
    plan = {"name": f" {name} ", "waves": [{"name": " db ", "protectionGroupIds": [created.get_json()["id"]]}]}
    made = client.post("/v1/recovery-plans", json=plan, headers=admin).get_json()
    assert made["name"] == name and made["waves"][0]["name"] == "db"
    assert error_of(client.post("/v1/recovery-plans", json={**plan, "name": name}, headers=admin), 409)


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_name_that_is_blank_after_trimming_is_a_400(client, admin, blank):
    error = error_of(client.post("/v1/protection-groups", json=group(blank), headers=admin))
    assert error["message"].startswith("name:")


MADE_UP = "ih-z-1"


def test_a_made_up_region_is_refused_when_it_is_sent(client, admin):
    auto = {"name": unique("auto"), "autoWaves": {"region": MADE_UP, "tags": {"Customer": "X"}}}
    assert error_of(client.post("/v1/recovery-plans", json=auto, headers=admin))["message"].startswith(
        "autoWaves.region:"
    )
    assert error_of(client.post("/v1/protection-groups", json=group("g", MADE_UP), headers=admin))[
        "message"
    ].startswith("region:")
    preview = {"region": MADE_UP, "selection": {"tags": {"App": "a"}}}
    assert error_of(client.post("/v1/protection-groups/preview", json=preview, headers=admin))
    resources = error_of(client.get("/v1/resources", query_string={"region": "aa-a-0"}, headers=admin))
    assert resources["message"].startswith("region:") and "not an AWS Region" in resources["message"]
    account = {"accountId": "123412341234", "roleArn": "arn:aws:iam::123412341234:role/x", "regions": [MADE_UP]}
    assert error_of(client.post("/v1/target-accounts", json=account, headers=admin))["message"].startswith("regions")


def test_a_configured_extra_region_is_accepted(make_app, admin):
    local = make_app(extra_regions=["zz-local-1"]).test_client()
    created = local.post("/v1/protection-groups", json=group(unique("local"), "zz-local-1"), headers=admin)
    assert created.status_code == 201, created.get_json()
