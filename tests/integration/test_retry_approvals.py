"""A retry supersedes the approval request of the gate it leaves; a pause requested while the retried wave
runs again parks the execution before that gate with no request of its own, and resume must continue it."""

from __future__ import annotations

from support import TERMINAL, create_plan, sim, start, wait_for


def test_a_pause_requested_during_a_retry_before_a_superseded_gate_can_be_resumed(client, admin):
    flaky = sim("db-flaky", 5000, fail_first=1)  # long enough to request the pause while it runs again
    plan = create_plan(
        client,
        admin,
        [{"name": "db", "arns": [flaky]}, {"name": "app", "arns": [sim("app")], "pauseBeforeWave": True}],
    )
    execution_id = start(client, admin, plan)
    gate = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    assert (gate["status"], gate["pausedBeforeWave"]) == ("PAUSED", 2)

    retried = client.post(f"/v1/executions/{execution_id}/retry", json={}, headers=admin)
    assert retried.status_code == 200, retried.get_json()
    paused = client.post(f"/v1/executions/{execution_id}/pause", headers=admin)
    assert paused.status_code == 200, paused.get_json()
    parked = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    assert (parked["status"], parked["pausedBeforeWave"]) == ("PAUSED", 2)
    approvals = client.get(f"/v1/executions/{execution_id}/approvals", headers=admin).get_json()["items"]
    # the retry superseded the gate's request without passing the gate: the pause there asks it again
    assert [a["status"] for a in approvals] == ["superseded", "pending"]

    resumed = client.post(f"/v1/executions/{execution_id}/resume", headers=admin)
    assert resumed.status_code == 200, resumed.get_json()
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"
