"""More of `drwave` as the real command against the API under gunicorn: names that look like rich markup,
pause and cancel with a comment, the filters and start options, and watch of a FAILED execution."""

from __future__ import annotations

import json

from support import TERMINAL, create_plan, sim, start, unique, wait_for

MARKUP_LOOKALIKE = "[ops] night [/x] shift"  # `[/x]` closes a tag never opened: rich raises MarkupError
WIDE = {"COLUMNS": "400"}  # tables fold long cells at the width of the (absent) terminal


def events_of(drwave, execution_id: str) -> list[dict]:
    result = drwave("exec", "events", execution_id, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["items"]


def arns_of(execution: dict) -> list[str]:
    return [run["arn"] for wave in execution["waves"] for run in wave["resources"]]


def test_square_brackets_in_names_and_actors_print_as_written_never_as_rich_markup(drwave, client, admin):
    name = unique(MARKUP_LOOKALIKE)
    plan_id = create_plan(client, admin, [{"name": "[b]Data[/b]", "arns": [sim("db")]}], name=name)
    execution_id = start(client, admin, plan_id)
    wait_for(client, admin, execution_id, {"COMPLETED"})

    listed = drwave("plans", "list", **WIDE)
    assert listed.returncode == 0, listed.stderr
    assert name in listed.stdout
    shown = drwave("exec", "show", execution_id, **WIDE)
    assert shown.returncode == 0, shown.stderr
    assert f"plan '{name}'" in shown.stdout
    assert "wave 1 '[b]Data[/b]' SUCCEEDED [####################] 1/1" in shown.stdout
    timeline = drwave("exec", "events", execution_id, **WIDE)
    assert timeline.returncode == 0, timeline.stderr
    for event in events_of(drwave, execution_id):
        assert f"[{event['actor']}] {event['message']}" in timeline.stdout


def test_exec_pause_parks_a_running_execution_and_pause_and_cancel_record_their_comments(drwave, client, admin):
    plan_id = create_plan(
        client,
        admin,
        [
            {"name": "Data", "arns": [sim("db", ms=3000)]},
            {"name": "App", "arns": [sim("app", ms=3000)]},
            {"name": "Web", "arns": [sim("web")]},
        ],
    )
    execution_id = start(client, admin, plan_id)
    wait_for(client, admin, execution_id, {"RUNNING"})

    paused = drwave("exec", "pause", execution_id, "--comment", "db team asked for a hold")
    assert paused.returncode == 0, paused.stderr
    assert f"Pause requested for {execution_id}" in paused.stdout
    parked = wait_for(client, admin, execution_id, {"PAUSED"})
    assert parked["pausedBeforeWave"] in (2, 3)
    cancelled = drwave("exec", "cancel", execution_id, "--comment", "drill called off", "--json")
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["execution"]["status"] == "CANCELLING"
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "CANCELLED"

    by_kind = {event["kind"]: event for event in events_of(drwave, execution_id)}
    pause, cancel = by_kind["execution.pause_requested"], by_kind["execution.cancelling"]
    assert pause["detail"]["comment"] == "db team asked for a hold" and pause["actor"].endswith("(operator)")
    assert cancel["detail"]["comment"] == "drill called off" and cancel["actor"].endswith("(operator)")
    assert '"drill called off"' in cancel["message"]


def test_exec_list_filters_by_status_and_plan(drwave, client, admin):
    finished_plan = create_plan(client, admin, [{"name": "Data", "arns": [sim("db")]}])
    finished = start(client, admin, finished_plan)
    wait_for(client, admin, finished, {"COMPLETED"})
    gated_plan = create_plan(client, admin, [{"name": "Data", "arns": [sim("db")], "pauseBeforeWave": True}])
    gated = start(client, admin, gated_plan)
    wait_for(client, admin, gated, {"PAUSED"})

    def listed(*options: str) -> list[dict]:
        result = drwave("exec", "list", *options, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["items"]

    assert [e["id"] for e in listed("--plan", finished_plan)] == [finished]
    assert [e["id"] for e in listed("--plan", finished_plan, "--status", "COMPLETED")] == [finished]
    assert listed("--plan", finished_plan, "--status", "PAUSED") == []
    paused = listed("--status", "PAUSED", "--limit", "500")
    assert gated in [e["id"] for e in paused] and {e["status"] for e in paused} == {"PAUSED"}
    table = drwave("exec", "list", "--plan", gated_plan, **WIDE)
    assert table.returncode == 0 and gated in table.stdout and finished not in table.stdout
    client.post(f"/v1/executions/{gated}/cancel", headers=admin)


def test_exec_start_with_a_phase_and_a_source_follows_the_earlier_executions_successes(drwave, client, admin):
    healthy, broken = sim("app"), sim("app-broken", fail=True)
    plan_id = create_plan(client, admin, [{"name": "App", "arns": [healthy, broken], "onFailure": "continue"}])
    source = start(client, admin, plan_id)
    assert wait_for(client, admin, source, TERMINAL)["status"] == "COMPLETED_WITH_FAILURES"

    result = drwave("exec", "start", plan_id, "--phase", "activate", "--source", source, "--watch", "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    started, *_, last = [json.loads(line) for line in result.stdout.splitlines()]
    assert f"following {source}" in started["message"]
    assert (last["status"], last["phase"], last["sourceExecutionId"]) == ("COMPLETED", "activate", source)
    assert arns_of(last) == [healthy]


def test_skip_invalid_starts_without_the_resources_a_start_refuses(drwave, client, admin):
    valid, invalid = sim("db"), sim("db-typo") + "/soon"  # not an option a simulated ARN has
    plan_id = create_plan(client, admin, [{"name": "Data", "arns": [valid, invalid]}])

    refused = drwave("exec", "start", plan_id)
    assert refused.returncode == 1 and refused.stderr.startswith("INVALID_RESOURCES: ")
    started = drwave("exec", "start", plan_id, "--skip-invalid", "--json")

    assert started.returncode == 0, started.stderr
    answer = json.loads(started.stdout)
    assert "1 invalid skipped" in answer["message"]
    done = wait_for(client, admin, answer["execution"]["id"], TERMINAL)
    assert done["status"] == "COMPLETED" and arns_of(done) == [valid]


def test_watch_exits_1_for_a_failed_execution(drwave, client, admin):
    plan_id = create_plan(
        client,
        admin,
        [{"name": "Data", "arns": [sim("db", fail=True)], "onFailure": "abort"}, {"name": "App", "arns": [sim("app")]}],
    )
    execution_id = start(client, admin, plan_id)

    result = drwave("exec", "watch", execution_id)

    assert result.returncode == 1, result.stdout + result.stderr
    assert any(line.startswith(f"{execution_id} FAILED") for line in result.stdout.splitlines())
