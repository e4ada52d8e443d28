"""Auto-waved plans over the demo estate: validation (dry run), start-time resolution, wave order.

The workers of the test session consume only the queues of adapters that exist (``simulated`` for
now) and have no AWS endpoint, so a run over real ARNs ends with resources TIMED_OUT at a short wave
deadline (or FAILED, once real adapters exist). What is asserted is what drwave decided: the waves it
resolved at start, which resource landed in which wave, and the order the waves ran in.
"""

from __future__ import annotations

from discovery_support import DR, add_source_servers, error_of
from support import unique, wait_for

TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}
ABCD_PROD = {"Customer": "ABCD", "Environment": "Production"}
WXYZ_PROD = {"Customer": "WXYZ", "Environment": "Production"}
INVALID_WXYZ_PROD = ("wxyz-prod-app-01", "wxyz-prod-app-02", "wxyz-prod-dr/api", "wxyz-prod-legacy")


def auto_plan(client, headers, tags, region=DR, account=None, **options) -> str:
    spec = {"region": region, "tags": tags, **options}
    if account:
        spec["accountId"] = account
    response = client.post("/v1/recovery-plans", json={"name": unique("auto"), "autoWaves": spec}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def validate(client, headers, plan_id: str) -> dict:
    response = client.post(f"/v1/recovery-plans/{plan_id}/validate", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_validation_shows_the_waves_a_start_would_run_now_with_an_rto_estimate(client, token_for, estate, arn_of):
    plan_id = auto_plan(client, token_for("plan-manager"), ABCD_PROD, account=estate["accountId"])

    report = validate(client, token_for("plan-manager"), plan_id)

    assert report["ready"] is True and report["errors"] == [] and report["warnings"] == []
    waves = {w["number"]: {r["arn"] for r in w["resources"]} for w in report["waves"]}
    assert sorted(waves) == [1, 2, 3, 4, 5]
    assert waves[1] == {arn_of(n) for n in ("abcd-prod-db-01", "abcd-prod-db-02", "abcd-prod-orders-usw2")}
    assert waves[5] == {arn_of("abcd-prod-batch-01")}
    assert report["waves"][0]["adapters"] == {"aurora": 1, "drs": 2}
    assert report["rtoEstimateMinutes"] == 15 + 30 + 60 + 240 + 240


def test_validation_warns_about_invalid_tags_and_the_plan_is_not_ready(client, admin, estate, arn_of):
    report = validate(client, admin, auto_plan(client, admin, WXYZ_PROD))

    assert report["ready"] is False
    invalid = [w for w in report["warnings"] if w["code"] == "INVALID_TAGS"]
    assert sorted(w["arn"] for w in invalid) == sorted(arn_of(n) for n in INVALID_WXYZ_PROD)
    assert {r["arn"] for r in report["invalidResources"]} == {arn_of(n) for n in INVALID_WXYZ_PROD}
    resolved = {r["arn"] for w in report["waves"] for r in w["resources"]}
    assert arn_of("wxyz-prod-db-01") in resolved and not resolved & {arn_of(n) for n in INVALID_WXYZ_PROD}


def test_starting_a_plan_with_invalid_resources_is_refused_listing_them(client, admin, estate, arn_of):
    plan_id = auto_plan(client, admin, WXYZ_PROD)

    response = client.post("/v1/executions", json={"planId": plan_id}, headers=admin)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_RESOURCES"
    assert sorted(i["arn"] for i in error["details"]["invalid"]) == sorted(arn_of(n) for n in INVALID_WXYZ_PROD)
    assert client.get(f"/v1/executions?planId={plan_id}", headers=admin).get_json()["items"] == []


def test_skip_invalid_starts_the_valid_resources_and_records_what_was_skipped(client, admin, estate, arn_of):
    plan_id = auto_plan(client, admin, WXYZ_PROD, pauseBeforeWaves=[1])

    response = client.post("/v1/executions", json={"planId": plan_id, "skipInvalid": True}, headers=admin)

    assert response.status_code == 202, response.get_json()
    assert "4 invalid skipped" in response.get_json()["message"]
    execution_id = response.get_json()["execution"]["id"]
    detail = client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()
    stored = {r["arn"] for w in detail["waves"] for r in w["resources"]}
    assert arn_of("wxyz-prod-db-01") in stored and not stored & {arn_of(n) for n in INVALID_WXYZ_PROD}
    events = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    skipped = next(e for e in events if e["kind"] == "execution.invalid_skipped")
    assert len(skipped["detail"]["skippedInvalid"]) == 4
    wait_for(client, admin, execution_id, {"PAUSED"})
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)
    wait_for(client, admin, execution_id, TERMINAL)


def test_an_auto_waved_plan_runs_its_tag_derived_waves_in_ascending_order(client, admin, estate, arn_of):
    plan_id = auto_plan(client, admin, ABCD_PROD, timeoutSeconds=2)  # bounded, whatever the adapters do
    preview = validate(client, admin, plan_id)
    expected = {r["arn"]: w["number"] for w in preview["waves"] for r in w["resources"]}

    response = client.post("/v1/executions", json={"planId": plan_id}, headers=admin)
    assert response.status_code == 202, response.get_json()
    done = wait_for(client, admin, response.get_json()["execution"]["id"], TERMINAL)

    stored = {r["arn"]: w["number"] for w in done["waves"] for r in w["resources"]}
    assert stored == expected
    assert stored[arn_of("abcd-prod-batch-01")] == 5 and stored[arn_of("abcd-prod-report")] == 4
    assert [w["name"] for w in done["waves"]][:2] == ["Wave 1 (critical)", "Wave 2 (high)"]
    events = client.get(f"/v1/executions/{done['id']}/events", headers=admin).get_json()["items"]
    started = [e["waveNumber"] for e in events if e["kind"] == "wave.running"]
    assert started == [1, 2, 3, 4, 5]
    waves = done["waves"]
    assert all(waves[i]["finishedAt"] <= waves[i + 1]["startedAt"] for i in range(len(waves) - 1))


def test_later_tag_changes_do_not_alter_a_running_execution(client, admin, estate, aws, local_aws):
    tags = {"Customer": unique("TAGS").replace(" ", "-"), "Environment": "Production"}
    server = add_source_servers(
        local_aws, DR, [{"hostname": "retag-01", "tags": {**tags, "dr:enabled": "true", "dr:priority": "low"}}]
    )[0]
    plan_id = auto_plan(client, admin, tags, pauseBeforeWaves=[4])
    execution_id = client.post("/v1/executions", json={"planId": plan_id}, headers=admin).get_json()["execution"]["id"]
    wait_for(client, admin, execution_id, {"PAUSED"})

    aws("drs").tag_resource(resourceArn=server["arn"], tags={"dr:priority": "critical"})

    detail = client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()
    assert [(w["number"], [r["arn"] for r in w["resources"]]) for w in detail["waves"]] == [(4, [server["arn"]])]
    assert [w["number"] for w in validate(client, admin, plan_id)["waves"]] == [1]  # a new start would see it
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)
    wait_for(client, admin, execution_id, TERMINAL)


def test_a_wave_larger_than_the_drs_job_quota_is_a_warning(client, admin, estate, local_aws):
    tags = {"Customer": "BIG", "Environment": "Production"}
    servers = [
        {"hostname": f"big-{n:03}", "tags": {**tags, "dr:enabled": "true", "dr:priority": "high"}} for n in range(101)
    ]
    add_source_servers(local_aws, "eu-west-1", servers)

    report = validate(client, admin, auto_plan(client, admin, tags, region="eu-west-1"))

    quota = [w for w in report["warnings"] if w["code"] == "WAVE_EXCEEDS_DRS_JOB_QUOTA"]
    assert [(w["wave"], w["details"]["drsServers"]) for w in quota] == [(2, 101)]
    assert report["ready"] is True  # a warning, not an error: the wave is started as two DRS jobs


def test_a_plan_whose_selection_finds_nothing_cannot_start(client, admin, estate):
    plan_id = auto_plan(client, admin, {"Customer": "NOBODY"})

    report = validate(client, admin, plan_id)
    response = client.post("/v1/executions", json={"planId": plan_id}, headers=admin)

    assert [e["code"] for e in report["errors"]] == ["NO_RESOURCES"] and report["ready"] is False
    assert response.status_code == 400
    assert error_of(response)["code"] == "NO_RESOURCES"
