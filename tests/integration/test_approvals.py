"""Approvals at gates: identity, comments, the two-person rule, expiry, and 50 approvers at once."""

from __future__ import annotations

import threading

from support import TERMINAL, create_plan, sim, start, wait_for, wait_until


def gated_plan(client, headers, **approvals) -> str:
    return create_plan(
        client,
        headers,
        [
            {"name": "db", "arns": [sim("db")]},
            {"name": "app", "arns": [sim("app-a"), sim("app-b")], "pauseBeforeWave": True},
        ],
        approvals=approvals,
    )


def approve(client, headers, execution_id, comment=None):
    body = {} if comment is None else {"comment": comment}
    return client.post(f"/v1/executions/{execution_id}/approve", json=body, headers=headers)


def approvals_of(client, headers, execution_id) -> list[dict]:
    response = client.get(f"/v1/executions/{execution_id}/approvals", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_recovery_needs_two_approvers_and_records_who_approved_with_their_comments(client, admin, token_for):
    plan = gated_plan(client, admin, required=1, recoveryRequired=2)
    execution_id = start(client, admin, plan, mode="recovery")
    wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    [pending] = approvals_of(client, admin, execution_id)
    assert (pending["wave"], pending["status"], pending["required"], pending["grants"]) == (2, "pending", 2, [])

    alice, bob = token_for("operator"), token_for("recovery-manager")
    first = approve(client, alice, execution_id, "replica lag is 0 s")
    assert first.status_code == 200, first.get_json()
    alice_name = client.get("/v1/me", headers=alice).get_json()["name"]
    assert first.get_json()["message"] == (
        f"Approved {execution_id} wave 2 by {alice_name} (1 of 2): waiting for one more"
    )
    assert first.get_json()["execution"]["status"] == "PAUSED"

    again = approve(client, alice, execution_id, "me again")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "ALREADY_APPROVED"

    second = approve(client, bob, execution_id, "go")
    assert second.status_code == 200, second.get_json()
    assert "(2 of 2): wave 2 'app' starting, 2 resources" in second.get_json()["message"]
    assert second.get_json()["execution"]["status"] == "RUNNING"

    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    [granted] = approvals_of(client, admin, execution_id)
    assert granted["status"] == "granted"
    assert [(g["role"], g["comment"]) for g in granted["grants"]] == [
        ("operator", "replica lag is 0 s"),
        ("recovery-manager", "go"),
    ]
    timeline = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    grants = [e for e in timeline if e["kind"] == "approval.granted"]
    assert len(grants) == 2
    assert grants[0]["actor"] == f"{alice_name} (operator)"
    assert '"replica lag is 0 s"' in grants[0]["message"]


def test_a_drill_needs_only_the_required_approvals_and_resume_is_an_approval_without_comment(client, admin):
    plan = gated_plan(client, admin, required=1, recoveryRequired=2)
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    response = client.post(f"/v1/executions/{execution_id}/resume", headers=admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["message"] == f"Resumed {execution_id}: wave 2 'app' starting, 2 resources"
    wait_for(client, admin, execution_id, TERMINAL)
    [granted] = approvals_of(client, admin, execution_id)
    assert granted["status"] == "granted"
    assert [g["comment"] for g in granted["grants"]] == [None]


def test_the_starter_may_not_approve_when_the_plan_says_so(client, admin, token_for):
    starter = token_for("operator")
    plan = gated_plan(client, admin, starterMayApprove=False)
    execution_id = start(client, starter, plan)
    wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    refused = approve(client, starter, execution_id, "my own change")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "APPROVER_IS_STARTER"
    assert approve(client, token_for("operator"), execution_id).status_code == 200
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"


def test_plan_managers_and_read_only_may_not_approve(client, admin, token_for):
    execution_id = start(client, admin, gated_plan(client, admin))
    wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    for role in ("plan-manager", "read-only"):
        response = approve(client, token_for(role), execution_id, "hi")
        assert response.status_code == 403, role
        assert response.get_json()["error"]["details"]["permission"] == "executions:approve"
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)
    wait_for(client, admin, execution_id, TERMINAL)


def test_an_expired_gate_with_abort_cancels_the_execution(client, admin):
    plan = gated_plan(client, admin, timeoutSeconds=1, onTimeout="abort")
    execution_id = start(client, admin, plan)
    done = wait_for(client, admin, execution_id, TERMINAL, timeout=90)
    assert done["status"] == "CANCELLED"
    assert done["statusReason"] == "approval for wave 2 timed out"
    assert [w["status"] for w in done["waves"]] == ["SUCCEEDED", "CANCELLED"]
    [expired] = approvals_of(client, admin, execution_id)
    assert expired["status"] == "expired"
    timeline = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    assert [e["actor"] for e in timeline if e["kind"] == "approval.expired"] == ["reconciler"]


def test_an_expired_gate_that_stays_paused_opens_a_fresh_request_on_the_next_approval(client, admin, token_for):
    plan = gated_plan(client, admin, timeoutSeconds=1, onTimeout="stay-paused")
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    wait_until(lambda: approvals_of(client, admin, execution_id)[0]["status"] == "expired", "the approval expiring", 90)
    assert client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()["status"] == "PAUSED"
    response = approve(client, token_for("operator"), execution_id, "late, but checked")
    assert response.status_code == 200, response.get_json()
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"
    assert [a["status"] for a in approvals_of(client, admin, execution_id)] == ["expired", "granted"]


def test_fifty_concurrent_approvals_of_a_two_approval_gate_record_two_grants_and_one_resume(client, admin, token_for):
    plan = gated_plan(client, admin, required=2)
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    operators = [token_for("operator") for _ in range(50)]
    barrier = threading.Barrier(len(operators))
    answers: list[int] = []
    lock = threading.Lock()

    def approve_once(headers):
        own = client.application.test_client()
        barrier.wait()
        status = approve(own, headers, execution_id, "ok").status_code
        with lock:
            answers.append(status)

    threads = [threading.Thread(target=approve_once, args=(h,)) for h in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers).count(200) == 2
    assert all(status == 409 for status in answers if status != 200)
    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    [granted] = approvals_of(client, admin, execution_id)
    assert len(granted["grants"]) == 2
    timeline = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    assert [e["kind"] for e in timeline].count("execution.running") == 2  # the start and one resume


def test_a_pause_requested_before_a_two_person_gate_still_needs_both_approvals(client, admin, token_for):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db-slow", 3000)]},
            {"name": "app", "arns": [sim("app")], "pauseBeforeWave": True},
        ],
        approvals={"recoveryRequired": 2},
    )
    execution_id = start(client, admin, plan, mode="recovery")
    wait_for(client, admin, execution_id, {"RUNNING"} | TERMINAL)
    paused = client.post(f"/v1/executions/{execution_id}/pause", headers=admin)
    assert paused.status_code == 200, paused.get_json()
    assert wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)["status"] == "PAUSED"
    [pending] = approvals_of(client, admin, execution_id)
    assert (pending["wave"], pending["status"], pending["required"]) == (2, "pending", 2)

    resumed = client.post(f"/v1/executions/{execution_id}/resume", headers=token_for("operator"))

    assert resumed.status_code == 200, resumed.get_json()
    assert resumed.get_json()["execution"]["status"] == "PAUSED"  # one of two: the gate holds
    assert approve(client, token_for("recovery-manager"), execution_id).status_code == 200
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"
