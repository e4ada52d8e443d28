"""The product as an on-call engineer or a chat bot uses it: HTTP against gunicorn, real workers."""

from __future__ import annotations

import time
import uuid

import requests
from support import PATIENCE, all_at_once

from services.demo import Api, run_demo


def test_the_demo_drill_pauses_resumes_and_reports_its_failing_resource(api_url, admin):
    token = admin["Authorization"].removeprefix("Bearer ")
    lines: list[str] = []
    execution = run_demo(api_url, token, out=lines.append)
    assert execution["status"] == "COMPLETED_WITH_FAILURES"
    assert [w["status"] for w in execution["waves"]] == ["SUCCEEDED", "COMPLETED_WITH_FAILURES", "SUCCEEDED"]
    failed = [r["arn"] for w in execution["waves"] for r in w["resources"] if r["status"] == "FAILED"]
    assert len(failed) == 1 and "report-worker" in failed[0]
    assert any("PAUSED before wave 2" in line for line in lines)
    assert any(f"Resumed {execution['id']}: wave 2 'App tier' starting, 4 resources" in line for line in lines)


def test_concurrent_resumes_over_http_give_exactly_one_200(api_url, admin):
    token = admin["Authorization"].removeprefix("Bearer ")
    api = Api(api_url, token)
    sim = "arn:drwave:simulated:us-west-2:123456789012:resource"
    group = api.ok(
        "POST",
        "/v1/protection-groups",
        json={
            "name": f"e2e {uuid.uuid4().hex[:8]}",
            "region": "us-west-2",
            "selection": {"resourceArns": [f"{sim}/e2e-{uuid.uuid4().hex[:8]}"]},
        },
    )["id"]
    plan = api.ok(
        "POST",
        "/v1/recovery-plans",
        json={
            "name": f"e2e plan {uuid.uuid4().hex[:8]}",
            "waves": [{"name": "gated", "protectionGroupIds": [group], "pauseBeforeWave": True}],
        },
    )["id"]
    execution_id = api.ok("POST", "/v1/executions", json={"planId": plan})["execution"]["id"]
    deadline = time.monotonic() + PATIENCE
    while api.ok("GET", f"/v1/executions/{execution_id}")["status"] != "PAUSED":
        assert time.monotonic() < deadline, "execution never paused"
        time.sleep(0.1)

    def resume() -> int:
        return requests.post(f"{api_url}/v1/executions/{execution_id}/resume", headers=admin, timeout=30).status_code

    assert sorted(all_at_once(20, resume)) == [200] + [409] * 19
