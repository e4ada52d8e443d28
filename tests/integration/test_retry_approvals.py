"""A retry supersedes the approval request of the gate it leaves; a pause requested while the retried wave
runs again parks the execution before that gate with no request of its own, and resume must continue it.
A gate already approved is not asked again when a retry runs the wave behind it once more."""

from __future__ import annotations

import pytest
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


@pytest.mark.parametrize(("on_failure", "ended"), [("continue", "COMPLETED_WITH_FAILURES"), ("abort", "FAILED")])
def test_a_retry_of_a_failure_behind_an_approved_gate_completes_without_asking_the_gate_again(
    client, admin, token_for, on_failure, ended
):
    flaky = sim("app-flaky", 100, fail_first=1)
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db")]},
            {"name": "app", "arns": [sim("app"), flaky], "pauseBeforeWave": True, "onFailure": on_failure},
        ],
    )
    execution_id = start(client, admin, plan)
    gate = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    assert (gate["status"], gate["pausedBeforeWave"]) == ("PAUSED", 2)
    approved = client.post(
        f"/v1/executions/{execution_id}/approve", json={"comment": "db checked"}, headers=token_for("operator")
    )
    assert approved.status_code == 200, approved.get_json()
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == ended

    retried = client.post(f"/v1/executions/{execution_id}/retry", json={}, headers=admin)
    assert retried.status_code == 200, retried.get_json()
    done = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)  # a gate asked again would park it

    assert done["status"] == "COMPLETED", done["statusReason"]
    assert [w["status"] for w in done["waves"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert next(r["attempt"] for r in done["waves"][1]["resources"] if r["arn"] == flaky) == 2
    approvals = client.get(f"/v1/executions/{execution_id}/approvals", headers=admin).get_json()["items"]
    assert [(a["wave"], a["status"]) for a in approvals] == [(2, "granted")]
    assert [g["comment"] for g in approvals[0]["grants"]] == ["db checked"]
