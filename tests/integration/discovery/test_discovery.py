"""Discovery of the seeded demo estate through the API: GET /v1/resources and group preview.

Expectations come from ``deploy/localaws/demo-estate.yaml``: DR tags sit on the DRS source servers,
the us-west-2 Aurora secondaries, the DR ECS services and Lambda functions (us-west-2) and the
Route 53 health checks (global).
"""

from __future__ import annotations

from discovery_support import DR, PRIMARY, error_of

ABCD_PROD = {"Customer": "ABCD", "Environment": "Production"}


def resources(client, headers, region=DR, account=None, **tags):
    query = [("region", region)] + [("tag", f"{k}={v}") for k, v in tags.items()]
    if account:
        query.append(("accountId", account))
    return client.get("/v1/resources", query_string=query, headers=headers)


def by_arn(items: list[dict]) -> dict[str, dict]:
    return {item["arn"]: item for item in items}


def expected_arns(estate, region: str, tags: dict[str, str]) -> set[str]:
    """What the seed says discovery must find: dr:enabled present, scope tags equal, region or global."""
    return {
        r["arn"]
        for r in estate["resources"]
        if r["region"] in (region, "global")
        and "dr:enabled" in r["tags"]
        and all(r["tags"].get(k) == v for k, v in tags.items())
    }


def test_discovery_of_one_customer_and_environment_returns_exactly_its_dr_tagged_resources(
    client, admin, estate, arn_of
):
    response = resources(client, admin, **ABCD_PROD)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    found = by_arn(body["items"])
    assert set(found) == expected_arns(estate, DR, ABCD_PROD)
    assert len(found) == 12  # 5 DRS servers, 1 Aurora secondary, 3 ECS services, 2 Lambdas, 1 health check
    assert body["counts"] == {"total": 12, "valid": 12, "invalid": 0, "notEnrolled": 0}
    assert arn_of("abcd-prod-orders-use1") not in found  # the primary writer carries no dr: tags


def test_discovered_resources_carry_the_wave_adapter_and_rto_their_tags_give(client, admin, estate, arn_of):
    found = by_arn(resources(client, admin, **ABCD_PROD).get_json()["items"])

    def derived(name: str) -> tuple:
        item = found[arn_of(name)]
        return item["wave"], item["adapter"], item["rtoTargetMinutes"], item["status"]

    assert derived("abcd-prod-db-01") == (1, "drs", 15, "valid")
    assert derived("abcd-prod-app-01") == (2, "drs", 30, "valid")  # no strategy tag: the ARN decides
    assert derived("abcd-prod-batch-01") == (5, "drs", 240, "valid")  # dr:wave=5 wins over low -> 4
    assert derived("abcd-prod-orders-usw2") == (1, "aurora", 15, "valid")
    assert derived("abcd-prod-dr/worker") == (3, "ecs", 60, "valid")
    assert derived("abcd-prod-report") == (4, "lambda", 240, "valid")
    assert derived("abcd-app-primary") == (2, "route53", 30, "valid")
    assert found[arn_of("abcd-prod-db-01")]["region"] == DR
    assert found[arn_of("abcd-app-primary")]["region"] == PRIMARY  # Route 53 is listed in us-east-1


def test_invalid_tags_surface_per_resource_naming_tag_and_value(client, admin, estate, arn_of):
    found = by_arn(resources(client, admin, Customer="WXYZ", Environment="Production").get_json()["items"])

    def problems(name: str) -> list[tuple]:
        item = found[arn_of(name)]
        assert item["status"] == "invalid"
        return [(e["code"], e["tag"], e["value"]) for e in item["errors"]]

    assert problems("wxyz-prod-app-01") == [("UNSUPPORTED_STRATEGY", "dr:recovery-strategy", "eks-dns")]
    assert problems("wxyz-prod-app-02") == [("INVALID_PRIORITY", "dr:priority", "urgent")]
    assert problems("wxyz-prod-dr/api") == [("INVALID_WAVE", "dr:wave", "9")]
    assert problems("wxyz-prod-legacy") == [("MISSING_PRIORITY", "dr:priority", None)]
    assert arn_of("wxyz-prod-app-01") in found[arn_of("wxyz-prod-app-01")]["errors"][0]["message"]
    assert found[arn_of("wxyz-prod-db-01")]["status"] == "valid"


def test_resources_that_opted_out_are_listed_as_not_enrolled_without_errors(client, admin, estate, arn_of):
    found = by_arn(resources(client, admin, Customer="WXYZ", Environment="Staging").get_json()["items"])

    item = found[arn_of("wxyz-stg-app-01")]
    assert (item["status"], item["enrolled"], item["wave"], item["errors"]) == ("not-enrolled", False, None, [])
    assert found[arn_of("wxyz-stg-notify")]["errors"][0]["code"] == "UNSUPPORTED_STRATEGY"


def test_discovery_is_per_region(client, admin, estate, arn_of):
    found = by_arn(resources(client, admin, region=PRIMARY, Customer="ABCD", Environment="Staging").get_json()["items"])
    assert set(found) == expected_arns(estate, PRIMARY, {"Customer": "ABCD", "Environment": "Staging"})
    assert arn_of("abcd-stg-reporting") in found and arn_of("abcd-stg-db-01") not in found


def test_a_group_selected_by_tags_previews_its_resources_grouped_into_derived_waves(client, token_for, estate):
    body = {"region": DR, "accountId": estate["accountId"], "selection": {"tags": ABCD_PROD}}
    response = client.post("/v1/protection-groups/preview", json=body, headers=token_for("plan-manager"))

    assert response.status_code == 200, response.get_json()
    preview = response.get_json()
    assert [(w["number"], w["resourceCount"], w["rtoTargetMinutes"]) for w in preview["waves"]] == [
        (1, 3, 15),
        (2, 5, 30),
        (3, 2, 60),
        (4, 1, 240),
        (5, 1, 240),
    ]
    assert preview["waves"][0]["name"] == "Wave 1 (critical)"
    assert {r["arn"] for r in preview["resources"]} == expected_arns(estate, DR, ABCD_PROD)
    assert "12 resources, 12 valid" in preview["message"]


def test_previewing_explicit_arns_asks_no_tags_and_takes_the_adapter_from_the_arn(client, admin, arn_of):
    lambda_arn, odd = arn_of("abcd-prod-ingest"), "arn:aws:s3:::a-bucket"
    body = {"region": DR, "selection": {"resourceArns": [lambda_arn, odd]}}
    preview = client.post("/v1/protection-groups/preview", json=body, headers=admin).get_json()
    found = by_arn(preview["resources"])
    assert (found[lambda_arn]["adapter"], found[lambda_arn]["status"], found[lambda_arn]["wave"]) == (
        "lambda",
        "valid",
        None,
    )
    assert found[odd]["errors"][0]["code"] == "UNKNOWN_SERVICE"


def test_an_account_that_is_neither_registered_nor_drwaves_own_is_refused(client, admin, estate):
    response = resources(client, admin, account="999999999999", Customer="ABCD")
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]["field"]) == ("ACCOUNT_NOT_REGISTERED", "accountId")
    assert estate["accountId"] in error["message"]


def test_a_tag_filter_that_is_not_key_equals_value_is_a_400_naming_tag(client, admin):
    response = client.get("/v1/resources?region=us-west-2&tag=Customer", headers=admin)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("tag:")


def test_resources_need_a_region(client, admin):
    response = client.get("/v1/resources?tag=Customer=ABCD", headers=admin)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("region:")


def test_read_only_may_list_resources_but_an_operator_may_not_preview(client, token_for, estate):
    assert resources(client, token_for("read-only"), **ABCD_PROD).status_code == 200
    body = {"region": DR, "selection": {"tags": ABCD_PROD}}
    assert client.post("/v1/protection-groups/preview", json=body, headers=token_for("operator")).status_code == 403


def test_aws_refusing_discovery_is_reported_without_a_500(client, admin, estate, local_aws):
    import requests

    rule = {"service": "resourcegroupstaggingapi", "operation": "*", "throttleRate": 1.0}
    requests.post(f"{local_aws}/_localaws/faults", json=rule, timeout=10).raise_for_status()
    try:
        response = resources(client, admin, **ABCD_PROD)
    finally:
        requests.delete(f"{local_aws}/_localaws/faults", timeout=10).raise_for_status()
    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "AWS_UNAVAILABLE" and "Throttl" in error["message"]
