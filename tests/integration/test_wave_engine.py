"""Plans run wave by wave through Postgres, Celery chords on Redis and real worker processes."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import text
from support import TERMINAL, all_at_once, create_plan, sim, start, wait_for


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def assert_waves_are_sequential(execution: dict) -> None:
    """No resource of wave N+1 started before every resource of wave N finished."""
    ran = [w for w in execution["waves"] if w["resources"] and w["status"] != "SKIPPED"]
    for earlier, later in itertools.pairwise(ran):
        last_finish = max(ts(r["finishedAt"]) for r in earlier["resources"])
        first_start = min(ts(r["startedAt"]) for r in later["resources"] if r["startedAt"])
        assert last_finish <= first_start, (earlier["number"], later["number"])


def test_a_three_wave_plan_pauses_before_wave_two_and_completes_after_resume(client, admin):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db-a", 300), sim("db-b", 100), sim("db-c")]},
            {"name": "app", "arns": [sim("app-a", 200), sim("app-b")], "pauseBeforeWave": True},
            {"name": "web", "arns": [sim("web-a", 100)]},
        ],
    )
    execution_id = start(client, admin, plan)

    paused = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    assert paused["status"] == "PAUSED"
    assert paused["pausedBeforeWave"] == 2
    assert [w["status"] for w in paused["waves"]] == ["SUCCEEDED", "PENDING", "PENDING"]

    response = client.post(f"/v1/executions/{execution_id}/resume", headers=admin)
    assert response.status_code == 200
    assert response.get_json()["message"] == f"Resumed {execution_id}: wave 2 'app' starting, 2 resources"

    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    assert done["pausedBeforeWave"] is None
    assert [w["status"] for w in done["waves"]] == ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]
    assert all(r["status"] == "SUCCEEDED" for w in done["waves"] for r in w["resources"])
    assert_waves_are_sequential(done)


def test_resources_of_one_wave_run_in_parallel(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim(f"p{i}", 1500) for i in range(4)]}])
    done = wait_for(client, admin, start(client, admin, plan), TERMINAL)
    resources = done["waves"][0]["resources"]
    latest_start = max(ts(r["startedAt"]) for r in resources)
    earliest_finish = min(ts(r["finishedAt"]) for r in resources)
    assert latest_start < earliest_finish  # all four were in flight at the same time


def test_a_failing_resource_with_continue_lets_later_waves_run(client, admin):
    failing = sim("app-broken", fail=True)
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db")]},
            {"name": "app", "arns": [sim("app"), failing], "onFailure": "continue"},
            {"name": "web", "arns": [sim("web")]},
        ],
    )
    done = wait_for(client, admin, start(client, admin, plan), TERMINAL)
    assert done["status"] == "COMPLETED_WITH_FAILURES"
    assert [w["status"] for w in done["waves"]] == ["SUCCEEDED", "COMPLETED_WITH_FAILURES", "SUCCEEDED"]
    broken = next(r for r in done["waves"][1]["resources"] if r["arn"] == failing)
    assert broken["status"] == "FAILED"
    assert broken["error"].startswith("simulated failure of app-broken")
    assert_waves_are_sequential(done)


def test_a_failing_resource_with_abort_fails_the_execution_and_skips_later_waves(client, admin):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db", fail=True), sim("db-ok")], "onFailure": "abort"},
            {"name": "app", "arns": [sim("app")]},
            {"name": "web", "arns": [sim("web")]},
        ],
    )
    done = wait_for(client, admin, start(client, admin, plan), TERMINAL)
    assert done["status"] == "FAILED"
    assert [w["status"] for w in done["waves"]] == ["COMPLETED_WITH_FAILURES", "SKIPPED", "SKIPPED"]
    assert all(r["status"] == "CANCELLED" and r["startedAt"] is None for w in done["waves"][1:] for r in w["resources"])


def test_on_failure_pause_parks_the_execution_until_someone_resumes(client, admin):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db", fail=True)], "onFailure": "pause"},
            {"name": "app", "arns": [sim("app")]},
        ],
    )
    execution_id = start(client, admin, plan)
    paused = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    assert (paused["status"], paused["pausedBeforeWave"]) == ("PAUSED", 2)
    assert "had failures" in paused["statusReason"]
    assert client.post(f"/v1/executions/{execution_id}/resume", headers=admin).status_code == 200
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED_WITH_FAILURES"


def test_an_empty_wave_is_skipped_with_a_reason_and_never_hangs(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}, {"name": "nothing", "arns": []}])
    done = wait_for(client, admin, start(client, admin, plan), TERMINAL)
    assert done["status"] == "COMPLETED"
    assert (done["waves"][1]["status"], done["waves"][1]["statusReason"]) == ("SKIPPED", "no resources in this wave")


def test_pause_before_the_first_wave_runs_nothing_until_resumed(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
    execution_id = start(client, admin, plan)
    paused = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    assert (paused["status"], paused["pausedBeforeWave"]) == ("PAUSED", 1)
    assert paused["waves"][0]["resources"][0]["startedAt"] is None
    client.post(f"/v1/executions/{execution_id}/resume", headers=admin)
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"


def two_waves_running(client, admin) -> str:
    """An execution of a 1.5 s database wave and an app wave, once it is RUNNING."""
    plan = create_plan(
        client, admin, [{"name": "db", "arns": [sim("db", 1500)]}, {"name": "app", "arns": [sim("app")]}]
    )
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"RUNNING"})
    return execution_id


def test_a_pause_request_parks_the_execution_after_the_current_wave(client, admin):
    execution_id = two_waves_running(client, admin)
    response = client.post(f"/v1/executions/{execution_id}/pause", headers=admin)
    assert response.status_code == 200, response.get_json()
    assert "will stop after" in response.get_json()["message"]
    paused = wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    assert (paused["status"], paused["pausedBeforeWave"]) == ("PAUSED", 2)
    assert paused["waves"][0]["status"] == "SUCCEEDED"
    client.post(f"/v1/executions/{execution_id}/resume", headers=admin)
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"


def test_cancel_lets_resources_in_flight_finish_and_cancels_later_waves(client, admin):
    execution_id = two_waves_running(client, admin)
    response = client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)
    assert response.status_code == 200
    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "CANCELLED"
    assert done["waves"][0]["resources"][0]["status"] in ("SUCCEEDED", "CANCELLED")
    assert done["waves"][1]["status"] == "CANCELLED"
    assert done["waves"][1]["resources"][0]["status"] == "CANCELLED"


def test_cancel_of_a_paused_execution_ends_it_cancelled(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"})
    assert client.post(f"/v1/executions/{execution_id}/cancel", headers=admin).status_code == 200
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "CANCELLED"


def test_resume_of_a_running_or_completed_execution_is_refused_with_its_status(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db", 1500)]}])
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"RUNNING"})
    running = client.post(f"/v1/executions/{execution_id}/resume", headers=admin)
    assert running.status_code == 409
    assert running.get_json()["error"]["code"] == "EXECUTION_NOT_PAUSED"
    assert running.get_json()["error"]["details"]["status"] == "RUNNING"
    wait_for(client, admin, execution_id, TERMINAL)
    completed = client.post(f"/v1/executions/{execution_id}/resume", headers=admin)
    assert completed.status_code == 409
    assert completed.get_json()["error"]["details"]["status"] == "COMPLETED"


def test_twenty_concurrent_resumes_give_one_success_and_one_dispatch(app, client, admin, db):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db")]},
            {"name": "app", "arns": [sim("app-a"), sim("app-b")], "pauseBeforeWave": True},
        ],
    )
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"})

    def resume() -> int:
        return app.test_client().post(f"/v1/executions/{execution_id}/resume", headers=admin).status_code

    assert sorted(all_at_once(20, resume)) == [200] + [409] * 19
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"
    with db.engine.connect() as conn:
        dispatches = conn.scalar(
            text(
                "SELECT count(*) FROM execution_events"
                " WHERE execution_id = :id AND kind = 'wave.running' AND wave_number = 2"
            ),
            {"id": execution_id},
        )
        attempts = (
            conn.execute(
                text("SELECT start_attempts FROM resource_runs WHERE execution_id = :id AND wave_number = 2"),
                {"id": execution_id},
            )
            .scalars()
            .all()
        )
    assert dispatches == 1
    assert attempts == [1, 1]


def test_the_timeline_records_transitions_with_their_actor_in_order(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"PAUSED"})
    client.post(f"/v1/executions/{execution_id}/resume", headers=admin)
    wait_for(client, admin, execution_id, TERMINAL)
    items = client.get(f"/v1/executions/{execution_id}/events", headers=admin).get_json()["items"]
    kinds = [e["kind"] for e in items]
    assert kinds[:3] == ["execution.pending", "execution.running", "execution.paused"]
    assert kinds[-1] == "execution.completed"
    assert kinds.index("execution.running", 2) < kinds.index("wave.running") < kinds.index("resource.succeeded")
    resume_event = items[kinds.index("execution.running", 2)]
    assert resume_event["actor"].endswith("(admin)")
    assert [e["id"] for e in items] == sorted(e["id"] for e in items)


def test_executions_are_listed_newest_first_with_filters_and_cursor_paging(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    first = start(client, admin, plan)
    wait_for(client, admin, first, TERMINAL)
    second = start(client, admin, plan)
    wait_for(client, admin, second, TERMINAL)
    page = client.get(f"/v1/executions?planId={plan}&limit=1", headers=admin).get_json()
    assert [e["id"] for e in page["items"]] == [second]
    rest = client.get(f"/v1/executions?planId={plan}&limit=1&cursor={page['nextCursor']}", headers=admin).get_json()
    assert [e["id"] for e in rest["items"]] == [first]
    assert rest["nextCursor"] is None
    completed = client.get("/v1/executions?status=COMPLETED&limit=500", headers=admin).get_json()["items"]
    assert {first, second} <= {e["id"] for e in completed}
    assert all(e["status"] == "COMPLETED" for e in completed)
