"""A state-changing POST sent twice with the same Idempotency-Key acts once and answers the same."""

from __future__ import annotations

import uuid

from support import TERMINAL, create_plan, sim, wait_for


def test_a_replayed_start_returns_the_first_response_and_starts_nothing_new(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/v1/executions", json={"planId": plan}, headers=headers)
    assert first.status_code == 202
    wait_for(client, admin, first.get_json()["execution"]["id"], TERMINAL)
    again = client.post("/v1/executions", json={"planId": plan}, headers=headers)
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    listed = client.get(f"/v1/executions?planId={plan}", headers=admin).get_json()["items"]
    assert len(listed) == 1


def test_a_key_reused_for_a_different_request_is_refused(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    execution_id = client.post("/v1/executions", json={"planId": plan}, headers=headers).get_json()["execution"]["id"]
    response = client.post(f"/v1/executions/{execution_id}/cancel", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)


def test_without_a_key_each_post_acts_on_its_own(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
    execution_id = client.post("/v1/executions", json={"planId": plan}, headers=admin).get_json()["execution"]["id"]
    assert client.post("/v1/executions", json={"planId": plan}, headers=admin).status_code == 409
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)
