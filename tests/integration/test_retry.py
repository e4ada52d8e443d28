"""Retry and skip (issue 12) through Postgres, Celery on Redis and real worker processes."""

from __future__ import annotations

from sqlalchemy import text
from support import TERMINAL, all_at_once, create_plan, insert_execution, sim, start, wait_for

from shared.domain.states import ResourceStatus as RS
from shared.store import plans, resources


def runs_by_arn(execution: dict) -> dict[str, dict]:
    return {r["arn"]: r for w in execution["waves"] for r in w["resources"]}


def retry(client, headers, execution_id: str, body: dict | None = None):
    return client.post(f"/v1/executions/{execution_id}/retry", json=body or {}, headers=headers)


def count(db, sql: str, **params) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(text(sql), params)


def test_a_fail1_resource_paused_after_its_wave_succeeds_on_attempt_two_and_keeps_its_history(client, admin, db):
    flaky, steady = sim("db-flaky", 100, fail_first=1), sim("db-ok", 100)
    plan = create_plan(
        client,
        admin,
        [{"name": "db", "arns": [flaky, steady], "onFailure": "pause"}, {"name": "app", "arns": [sim("app")]}],
    )
    execution_id = start(client, admin, plan)
    paused = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    assert (paused["status"], paused["pausedBeforeWave"]) == ("PAUSED", 2)
    first_ok = runs_by_arn(paused)[steady]

    response = retry(client, admin, execution_id, {"comment": "replica was lagging"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["execution"]["status"] == "RUNNING"

    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    assert [w["status"] for w in done["waves"]] == ["SUCCEEDED", "SUCCEEDED"]
    run = runs_by_arn(done)[flaky]
    assert (run["status"], run["attempt"]) == ("SUCCEEDED", 2)
    assert [(a["attempt"], a["status"]) for a in run["attempts"]] == [(1, "FAILED"), (2, "SUCCEEDED")]
    assert run["attempts"][0]["error"].startswith("simulated failure of db-flaky")
    assert run["attempts"][0]["operationId"] != run["attempts"][1]["operationId"] == run["operationId"]
    assert all(a["startedAt"] and a["finishedAt"] for a in run["attempts"])
    ok = runs_by_arn(done)[steady]  # never started again
    assert (ok["attempt"], ok["startedAt"], ok["operationId"]) == (1, first_ok["startedAt"], first_ok["operationId"])

    events = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    retried = next(e for e in events if e["kind"] == "execution.retried")
    assert retried["actor"].endswith("(admin)") and "replica was lagging" in retried["message"]
    approvals = client.get(f"/v1/executions/{execution_id}/approvals", headers=admin).get_json()["items"]
    assert [a["status"] for a in approvals] == ["superseded"]
    notified = "SELECT count(*) FROM notification_outbox WHERE execution_id = :id AND kind = 'execution.retried'"
    assert count(db, notified, id=execution_id) == 1  # the outbox trigger copies the retry


def test_a_retry_after_completed_with_failures_runs_only_the_failed_resource(client, admin, db):
    broken = sim("app-broken", fail_first=1)
    plan = create_plan(
        client,
        admin,
        [{"name": "db", "arns": [sim("db")]}, {"name": "app", "arns": [sim("app"), broken]}],
    )
    execution_id = start(client, admin, plan)
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED_WITH_FAILURES"

    assert retry(client, admin, execution_id).status_code == 200
    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    assert [r["attempt"] for r in done["waves"][1]["resources"] if r["arn"] == broken] == [2]
    claims = count(
        db,
        "SELECT sum(start_attempts) FROM resource_runs WHERE execution_id = :id",
        id=execution_id,
    )
    assert claims == 4  # db, app, broken twice: nothing that succeeded was claimed again
    wave_one_starts = count(
        db,
        "SELECT count(*) FROM execution_events WHERE execution_id = :id AND kind = 'wave.running' AND wave_number = 1",
        id=execution_id,
    )
    assert wave_one_starts == 1


def test_a_retry_after_an_abort_runs_the_failed_wave_again_and_then_the_skipped_waves(client, admin):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db", fail_first=1), sim("db-ok")], "onFailure": "abort"},
            {"name": "app", "arns": [sim("app")]},
            {"name": "web", "arns": [sim("web")]},
        ],
    )
    execution_id = start(client, admin, plan)
    failed = wait_for(client, admin, execution_id, TERMINAL)
    assert [w["status"] for w in failed["waves"]] == ["COMPLETED_WITH_FAILURES", "SKIPPED", "SKIPPED"]

    assert retry(client, admin, execution_id).status_code == 200
    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    assert [w["status"] for w in done["waves"]] == ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]
    assert all(r["status"] == "SUCCEEDED" for w in done["waves"] for r in w["resources"])


def test_nothing_to_retry_and_unknown_or_succeeded_resources_are_refused_naming_the_field(client, admin):
    ok = sim("db")
    plan = create_plan(client, admin, [{"name": "db", "arns": [ok]}, {"name": "app", "arns": [sim("app", fail=True)]}])
    execution_id = start(client, admin, plan)
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED_WITH_FAILURES"

    unknown = retry(client, admin, execution_id, {"resources": ["arn:drwave:simulated:us-west-2:1:resource/nope"]})
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "RESOURCE_NOT_IN_EXECUTION"
    assert unknown.get_json()["error"]["details"]["field"] == "resources"
    succeeded = retry(client, admin, execution_id, {"resources": [ok]})
    assert succeeded.status_code == 409 and succeeded.get_json()["error"]["code"] == "RESOURCE_NOT_FAILED"
    bad = retry(client, admin, execution_id, {"resources": "not-a-list", "extra": 1})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "INVALID_REQUEST"

    clean = start(client, admin, create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}]))
    assert wait_for(client, admin, clean, TERMINAL)["status"] == "COMPLETED"
    completed = retry(client, admin, clean)
    assert completed.status_code == 409 and completed.get_json()["error"]["code"] == "EXECUTION_NOT_RETRYABLE"

    paused = start(
        client,
        admin,
        create_plan(
            client,
            admin,
            [{"name": "db", "arns": [sim("db")]}, {"name": "b", "arns": [sim("b")], "pauseBeforeWave": True}],
        ),
    )
    wait_for(client, admin, paused, {"PAUSED"})
    nothing = client.post(f"/v1/executions/{paused}/retry", headers=admin)  # the body is optional
    assert nothing.status_code == 409 and nothing.get_json()["error"]["code"] == "NOTHING_TO_RETRY"


def test_plan_managers_and_read_only_may_neither_retry_nor_skip(client, admin, token_for):
    failing = sim("db-broken", fail=True)
    plan = create_plan(
        client, admin, [{"name": "db", "arns": [failing], "onFailure": "pause"}, {"name": "app", "arns": [sim("app")]}]
    )
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"})

    for role in ("plan-manager", "read-only"):
        headers = token_for(role)
        refused = [
            retry(client, headers, execution_id, {"comment": "again"}),
            client.post(f"/v1/executions/{execution_id}/skip", json={"arn": failing, "reason": "x"}, headers=headers),
        ]
        for response in refused:
            assert response.status_code == 403, (role, response.get_json())
            assert response.get_json()["error"]["details"]["permission"] == "executions:control"
    unchanged = client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()
    assert unchanged["status"] == "PAUSED"
    assert (runs_by_arn(unchanged)[failing]["status"], runs_by_arn(unchanged)[failing]["attempt"]) == ("FAILED", 1)
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)
    wait_for(client, admin, execution_id, TERMINAL)


def test_a_hundred_concurrent_retries_give_exactly_one_transition_and_one_new_attempt(app, client, admin, db):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db", fail_first=1), sim("db-ok")]}])
    execution_id = start(client, admin, plan)
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED_WITH_FAILURES"

    def once() -> int:
        return app.test_client().post(f"/v1/executions/{execution_id}/retry", json={}, headers=admin).status_code

    assert sorted(all_at_once(100, once)) == [200] + [409] * 99
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"
    retried = count(
        db,
        "SELECT count(*) FROM execution_events WHERE execution_id = :id AND kind = 'execution.retried'",
        id=execution_id,
    )
    attempts = count(db, "SELECT max(attempt) FROM resource_runs WHERE execution_id = :id", id=execution_id)
    assert (retried, attempts) == (1, 2)


def test_a_skipped_failure_counts_as_accepted_and_resume_continues_to_completed(client, admin):
    failing = sim("db-broken", fail=True)
    plan = create_plan(
        client,
        admin,
        [{"name": "db", "arns": [failing, sim("db-ok")], "onFailure": "pause"}, {"name": "app", "arns": [sim("app")]}],
    )
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"})

    no_reason = client.post(f"/v1/executions/{execution_id}/skip", json={"arn": failing}, headers=admin)
    assert no_reason.status_code == 400
    assert no_reason.get_json()["error"]["details"]["errors"][0]["field"] == "reason"
    skipped = client.post(
        f"/v1/executions/{execution_id}/skip", json={"arn": failing, "reason": "decommissioned"}, headers=admin
    )
    assert skipped.status_code == 200, skipped.get_json()
    again = client.post(f"/v1/executions/{execution_id}/skip", json={"arn": failing, "reason": "x"}, headers=admin)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "RESOURCE_NOT_FAILED"
    assert client.post(f"/v1/executions/{execution_id}/resume", headers=admin).status_code == 200

    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    assert [w["status"] for w in done["waves"]] == ["SUCCEEDED", "SUCCEEDED"]
    run = runs_by_arn(done)[failing]
    assert (run["status"], run["skipReason"]) == ("SKIPPED", "decommissioned")
    events = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    entry = next(e for e in events if e["kind"] == "resource.skipped")
    assert entry["actor"].endswith("(admin)") and "decommissioned" in entry["message"]
    late = client.post(f"/v1/executions/{execution_id}/skip", json={"arn": failing, "reason": "x"}, headers=admin)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "EXECUTION_NOT_PAUSED"


def test_a_status_write_for_an_earlier_attempt_matches_no_row_in_postgres(db):
    with db.engine.begin() as conn:
        plan = plans.create(conn, name="attempt guard", description=None, waves=[], created_by="t")
        execution = insert_execution(conn, plan, {1: [sim("db-guarded")]})
        (run,) = resources.for_wave(conn, execution.id, 1)
        conn.execute(text("UPDATE resource_runs SET attempt = 2 WHERE id = :id"), {"id": run.id})

        late = resources.move(conn, run.id, RS.PENDING, RS.STARTING, actor="t", attempt=1)
        own = resources.move(conn, run.id, RS.PENDING, RS.STARTING, actor="t", attempt=2)

    assert late is None
    assert (own.status, own.attempt) == ("STARTING", 2)
