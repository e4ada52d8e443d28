"""The `drwave` client commands run as the real command (a subprocess) against the API under gunicorn:
--json output parsed, watch exit codes, plain output without a terminal, errors on stderr."""

from __future__ import annotations

import json
import os
import pty
import stat
import subprocess
import time

import requests
from support import create_plan, paused_execution, sim, start, wait_for


def server_has(api_url: str, path: str) -> bool:
    """Whether the API under test documents `path` (approvals and reports arrive from other work)."""
    return path in requests.get(f"{api_url}/openapi.json", timeout=30).json()["paths"]


def two_waves(client, admin, gate: bool = False, fail: bool = False, ms: int = 300) -> str:
    return create_plan(
        client,
        admin,
        [
            {"name": "Data", "arns": [sim("db", ms=ms), sim("cache", ms=ms)]},
            {"name": "App", "arns": [sim("app", ms=ms, fail=fail)], "pauseBeforeWave": gate},
        ],
    )


def test_login_saves_a_profile_readable_only_by_its_owner(drwave, api_url, tmp_path):
    token = drwave.env["DRWAVE_TOKEN"]
    result = drwave("login", "--url", api_url, "--token", token, "--profile", "night", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["role"] == "operator"
    path = tmp_path / ".config" / "drwave" / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = drwave("--profile", "night", "exec", "list", "--json", DRWAVE_URL="http://127.0.0.1:1", DRWAVE_TOKEN="")
    assert listed.returncode == 0, listed.stderr
    assert "items" in json.loads(listed.stdout)


def test_login_honours_xdg_config_home(drwave, api_url, tmp_path):
    token = drwave.env["DRWAVE_TOKEN"]
    result = drwave("login", "--url", api_url, "--token", token, XDG_CONFIG_HOME=str(tmp_path / "x"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x" / "drwave" / "config.toml").exists()
    assert "Logged in" in result.stdout


def test_json_output_is_the_apis_json(drwave, client, admin):
    plan_id = two_waves(client, admin)
    plans = json.loads(drwave("plans", "list", "--json").stdout)
    assert plan_id in {p["id"] for p in plans["items"]}
    plan = json.loads(drwave("plans", "show", plan_id, "--json").stdout)
    assert [w["name"] for w in plan["waves"]] == ["Data", "App"]
    group_id = plan["waves"][0]["protectionGroupIds"][0]
    assert json.loads(drwave("groups", "show", group_id, "--json").stdout)["id"] == group_id
    assert group_id in {g["id"] for g in json.loads(drwave("groups", "list", "--json").stdout)["items"]}


def test_validate_and_preview_print_their_findings(drwave, client, admin, token_for):
    plan_id = two_waves(client, admin)
    manager = token_for("recovery-manager")["Authorization"].split(" ", 1)[1]
    validation = drwave("plans", "validate", plan_id, "--json", DRWAVE_TOKEN=manager)
    assert json.loads(validation.stdout)["ready"] is True
    text = drwave("plans", "validate", plan_id, DRWAVE_TOKEN=manager)
    assert "RTO estimate" in text.stdout and "ready: yes" in text.stdout
    preview = drwave(
        "groups", "preview", "--region", "us-west-2", "--tag", "Customer=NOBODY", "--json", DRWAVE_TOKEN=manager
    )
    assert preview.returncode == 0, preview.stderr
    assert json.loads(preview.stdout)["counts"]["total"] == 0
    resources = drwave("resources", "list", "--region", "us-west-2", "--tag", "Customer=NOBODY", "--json")
    assert resources.returncode == 0, resources.stderr
    assert json.loads(resources.stdout)["items"] == []


def test_an_api_error_prints_its_code_and_message_on_stderr_and_exits_1(drwave):
    result = drwave("exec", "show", "ex-does-not-exist", "--json")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("EXECUTION_NOT_FOUND: ")
    bad_tag = drwave("resources", "list", "--region", "us-west-2", "--tag", "novalue")
    assert bad_tag.returncode == 1 and bad_tag.stderr.startswith("INVALID_REQUEST: tag: ")


def test_start_with_watch_prints_plain_lines_without_a_terminal_and_exits_0(drwave, client, admin):
    plan_id = two_waves(client, admin)
    result = drwave("exec", "start", plan_id, "--drill", "--reason", "game day", "--watch")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\x1b" not in result.stdout and "\r" not in result.stdout
    lines = result.stdout.splitlines()
    assert any("wave 1 'Data' SUCCEEDED [####################] 2/2" in line for line in lines)
    assert any("wave 2 'App' SUCCEEDED" in line for line in lines)
    assert "COMPLETED" in lines[-1] or any(" COMPLETED (drill instantiate)" in line for line in lines)
    assert len(lines) == len(set(lines))  # one line per change, not one per poll


def test_watch_exits_2_when_a_resource_fails(drwave, client, admin):
    execution_id = start(client, admin, two_waves(client, admin, fail=True))
    result = drwave("exec", "watch", execution_id)
    assert result.returncode == 2, result.stdout + result.stderr


def test_watch_until_paused_returns_3_at_a_gate_and_approve_lets_it_finish(drwave, api_url, client, admin):
    execution_id = start(client, admin, two_waves(client, admin, gate=True))
    parked = drwave("exec", "watch", execution_id, "--until-paused")
    assert parked.returncode == 3, parked.stdout + parked.stderr
    assert f"to approve: drwave exec approve {execution_id}" in parked.stdout
    approved = drwave("exec", "approve", execution_id, "--comment", "db is healthy", "--json")
    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["execution"]["status"] == "RUNNING"
    fell_back = "no approvals API; resuming instead" in approved.stderr
    assert fell_back != server_has(api_url, "/v1/executions/{id}/approve")  # a resume only where /approve is missing
    assert drwave("exec", "watch", execution_id).returncode == 0


def test_watch_exits_1_for_a_cancelled_execution(drwave, client, admin):
    execution_id = start(client, admin, two_waves(client, admin, gate=True))
    wait_for(client, admin, execution_id, {"PAUSED"})
    cancelled = drwave("exec", "cancel", execution_id)
    assert cancelled.returncode == 0 and "Cancelling" in cancelled.stdout
    assert drwave("exec", "watch", execution_id).returncode == 1


def test_watch_json_prints_one_api_document_per_change(drwave, client, admin):
    execution_id = start(client, admin, two_waves(client, admin))
    result = drwave("exec", "watch", execution_id, "--json")
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0 and documents[-1]["status"] == "COMPLETED"
    assert all(doc["id"] == execution_id for doc in documents)


def test_events_follow_prints_the_timeline_until_the_end(drwave, client, admin):
    execution_id = start(client, admin, two_waves(client, admin))
    result = drwave("exec", "events", execution_id, "--follow", "--json")
    kinds = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    assert result.returncode == 0 and kinds and kinds[0].startswith("execution.")
    assert len(json.loads(drwave("exec", "events", execution_id, "--json").stdout)["items"]) == len(kinds)


def test_report_prints_the_report_or_says_the_server_has_none(drwave, api_url, client, admin, tmp_path):
    execution_id = start(client, admin, two_waves(client, admin))
    wait_for(client, admin, execution_id, {"COMPLETED"})
    result = drwave("exec", "report", execution_id, "--json")
    html = drwave("exec", "report", execution_id, "--html", str(tmp_path / "report.html"))
    if server_has(api_url, "/v1/executions/{id}/report"):
        assert result.returncode == 0 and isinstance(json.loads(result.stdout), dict)
        assert html.returncode == 0 and "<html" in (tmp_path / "report.html").read_text().lower()
    else:
        assert result.returncode == 1 and result.stderr.startswith("REPORTS_UNAVAILABLE: ")
        assert html.returncode == 1 and not (tmp_path / "report.html").exists()


def test_watch_on_a_terminal_redraws_in_place(drwave, client, admin):
    """Under a pseudo-terminal the display is rich's live panel (cursor control codes, redrawn)."""
    execution_id = start(client, admin, two_waves(client, admin, ms=2500))
    main, child = pty.openpty()
    process = subprocess.Popen(
        [drwave.command, "exec", "watch", execution_id],
        env={**drwave.env, "COLUMNS": "160"},
        stdin=child,
        stdout=child,
        stderr=child,
        close_fds=True,
    )
    os.close(child)
    output = b""
    deadline = time.monotonic() + 120
    while process.poll() is None or output.count(b"\n") == 0:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        output += chunk
        if time.monotonic() > deadline:
            process.kill()
            break
    process.wait(timeout=30)
    os.close(main)
    assert process.returncode == 0
    assert b"\x1b[" in output  # control codes: the panel is redrawn in place
    assert output.count(b"elapsed / target") >= 2  # redrawn more than once while the waves ran


def test_exec_skip_and_executions_retry_drive_a_paused_execution_to_completed(drwave, client, admin):
    broken, flaky = sim("db-broken", fail=True), sim("db-flaky", fail_first=1)
    execution_id = paused_execution(
        client,
        admin,
        [{"name": "Data", "arns": [broken, flaky], "onFailure": "pause"}, {"name": "App", "arns": [sim("app")]}],
    )

    missing = drwave("exec", "skip", execution_id, "--arn", broken)
    assert missing.returncode != 0 and "--reason" in missing.stderr
    skipped = drwave("exec", "skip", execution_id, "--arn", broken, "--reason", "retired host", "--json")
    assert skipped.returncode == 0, skipped.stderr
    assert json.loads(skipped.stdout)["execution"]["status"] == "PAUSED"
    retried = drwave("executions", "retry", execution_id, "--resource", flaky, "--comment", "flaky replica")
    assert retried.returncode == 0, retried.stderr
    assert f"Retrying {execution_id}: 1 failed resource(s)" in retried.stdout
    done = wait_for(client, admin, execution_id, {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"})
    assert done["status"] == "COMPLETED"
    again = drwave("exec", "retry", execution_id)
    assert again.returncode != 0 and "EXECUTION_NOT_RETRYABLE" in again.stderr


def test_shell_completion_completes_client_commands(drwave):
    completed = drwave("", COMP_WORDS="drwave exec ap", COMP_CWORD="2", _DRWAVE_COMPLETE="complete_bash")
    assert completed.returncode == 0 and completed.stdout.split() == ["approve"]
    commands = drwave("", COMP_WORDS="drwave ", COMP_CWORD="1", _DRWAVE_COMPLETE="complete_bash")
    assert commands.returncode == 0
    client = {"login", "plans", "groups", "resources", "exec"}
    assert sorted(commands.stdout.split()) == sorted(client | {"run", "tokens", "migrate", "status"})
    script = drwave("--show-completion", "bash")
    assert script.returncode == 0 and "_DRWAVE_COMPLETE=complete_bash" in script.stdout


def test_a_recovery_started_from_the_cli_carries_its_failover_options_and_resume_takes_a_comment(drwave, client, admin):
    plan_id = create_plan(client, admin, [{"name": "Data", "arns": [sim("db")], "pauseBeforeWave": True}])

    started = drwave("exec", "start", plan_id, "--recovery", "--failover", "ungraceful", "--allow-data-loss", "--json")

    assert started.returncode == 0, started.stderr
    execution = json.loads(started.stdout)["execution"]
    assert (execution["failover"], execution["allowDataLoss"]) == ("ungraceful", True)
    wait_for(client, admin, execution["id"], {"PAUSED"})
    resumed = drwave("exec", "resume", execution["id"], "--comment", "go", "--json")
    assert resumed.returncode == 0, resumed.stderr
    (gate,) = client.get(f"/v1/executions/{execution['id']}/approvals", headers=admin).get_json()["items"]
    assert [g["comment"] for g in gate["grants"]] == ["go"]
