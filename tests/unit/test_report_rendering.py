"""The report document, its HTML page and SVG timeline, from plain rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from shared.reports import html, model, svg

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def wave_row(number: int, name: str, status: str, started: float, finished: float, *, rto: int) -> SimpleNamespace:
    """A wave_runs row, started and finished ``started`` / ``finished`` seconds after T0."""
    return SimpleNamespace(
        number=number,
        name=name,
        status=status,
        status_reason=None,
        started_at=at(started),
        finished_at=at(finished),
        rto_target_minutes=rto,
    )


def inputs(resources_per_wave: int = 2) -> model.Inputs:
    execution = SimpleNamespace(
        id="ex-7",
        plan_id="plan-1",
        plan_name="Payments",
        mode="drill",
        phase="instantiate",
        status="COMPLETED_WITH_FAILURES",
        status_reason="finished; some resources failed",
        created_by="alice (operator)",
        reason="drill",
        source_execution_id=None,
        created_at=at(-1),
        started_at=at(0),
        finished_at=at(700),
        updated_at=at(700),
    )
    waves = [
        wave_row(1, "db", "SUCCEEDED", 0, 100, rto=15),
        wave_row(2, "app", "COMPLETED_WITH_FAILURES", 400, 700, rto=4),
    ]
    runs = []
    for wave in waves:
        start = (wave.started_at - T0).total_seconds()
        for i in range(resources_per_wave):
            failed = wave.number == 2 and i == 0
            runs.append(
                SimpleNamespace(
                    wave_number=wave.number,
                    arn=f"arn:drwave:simulated:us-west-2:1:resource/w{wave.number}-{i}",
                    adapter="simulated",
                    status="FAILED" if failed else "SUCCEEDED",
                    error="boom" if failed else None,
                    operation_id=f"op-{wave.number}-{i}",
                    started_at=at(start),
                    finished_at=at(start + 50),
                )
            )
    events = [
        SimpleNamespace(kind="execution.running", at=at(0), message="Execution started"),
        SimpleNamespace(kind="execution.paused", at=at(100), message="Paused before wave 2: approval required"),
        SimpleNamespace(kind="execution.running", at=at(400), message="Resumed"),
    ]
    grant = SimpleNamespace(approver="bob", role="operator", comment="go", at=at(399))
    approvals = [SimpleNamespace(wave_number=2, status="granted", grants=[grant])]
    return model.Inputs(execution=execution, waves=waves, runs=runs, events=events, approvals=approvals)


def test_gate_waits_are_counted_and_the_rto_excludes_them():
    report = model.build(inputs())
    assert report["durationSeconds"] == 700
    assert report["gateWaitSeconds"] == 300
    assert report["rto"] == {
        "targetMinutes": 19,
        "actualSeconds": 700,
        "actualExcludingGatesSeconds": 400,
        "met": True,
    }
    db, app = report["waves"]
    assert (db["rtoMet"], app["rtoMet"]) == (True, False)  # 300 s against a 4 min target
    assert app["failures"] == [
        {
            "arn": "arn:drwave:simulated:us-west-2:1:resource/w2-0",
            "status": "FAILED",
            "error": "boom",
            "operationId": "op-2-0",
            "attempt": 1,
            "attempts": [
                {
                    "attempt": 1,
                    "status": "FAILED",
                    "error": "boom",
                    "operationId": "op-2-0",
                    "startedAt": at(400).isoformat(),
                    "finishedAt": at(450).isoformat(),
                }
            ],
        }
    ]
    assert app["approvals"][0] | {"at": None} == {
        "by": "bob",
        "role": "operator",
        "comment": "go",
        "at": None,
        "status": "granted",
    }


def test_the_timeline_draws_a_bar_per_wave_and_resource_a_gate_and_marks_failures():
    timeline = svg.render(model.build(inputs()))
    assert timeline.startswith("<svg") and timeline.endswith("</svg>")
    assert timeline.count("<title>") == 2 + 4 + 1  # waves, resources, the gate
    assert timeline.count("✕") == 1
    assert "gate 300s" in timeline


def test_the_html_page_is_self_contained():
    page = html.render(model.build(inputs()))
    assert page.startswith("<!DOCTYPE html>")
    for external in ("<script", "<link", "src=", "@import", "url(http"):
        assert external not in page
    assert "Payments" in page and "bob" in page and "boom" in page and "<svg" in page


def test_names_are_escaped():
    data = inputs()
    data.execution.plan_name = "<b>x</b>"
    assert "<b>x</b>" not in html.render(model.build(data))


def test_a_retried_resource_shows_every_attempt_and_the_retry_ends_the_pause():
    data = inputs()
    run = data.runs[2]  # wave 2's failed run, retried: attempt 2 succeeded
    earlier = {"attempt": 1, "status": "FAILED", "error": "boom", "operationId": "op-2-0"}
    earlier |= {"startedAt": at(400).isoformat(), "finishedAt": at(450).isoformat()}
    run.status, run.error, run.operation_id, run.attempt, run.attempts = "SUCCEEDED", None, "op-2-0-b", 2, [earlier]
    data.events.append(SimpleNamespace(kind="execution.paused", at=at(450), message="Paused: wave 2 had failures"))
    retried = SimpleNamespace(kind="execution.retried", at=at(500), actor="alice (operator)", message="Retried: flaky")
    data.events.append(retried)

    report = model.build(data)

    shown = next(r for r in report["waves"][1]["resources"] if r["arn"] == run.arn)
    assert [(a["attempt"], a["status"], a["operationId"]) for a in shown["attempts"]] == [
        (1, "FAILED", "op-2-0"),
        (2, "SUCCEEDED", "op-2-0-b"),
    ]
    assert report["retries"] == [{"at": at(500).isoformat(), "by": "alice (operator)", "message": "Retried: flaky"}]
    assert report["gates"][-1]["seconds"] == 50  # paused at 450, retried at 500
    page = html.render(report)
    assert "Attempts of retried resources and actions" in page and "op-2-0-b" in page and "Retried: flaky" in page


def test_a_wave_s_actions_are_listed_apart_from_its_resources_in_order_and_a_failed_one_is_a_failure():
    source = inputs()
    check = {"type": "lambda", "functionArn": "arn:aws:lambda:us-west-2:1:function:check", "when": "pre"}
    smoke = {"type": "ssm-automation", "documentName": "smoke", "when": "post"}
    for stage, spec, status, error in (
        (1, smoke, "FAILED", "automation a-1 Failed: 500"),
        (-1, check, "SUCCEEDED", None),
    ):
        source.runs.append(
            SimpleNamespace(
                wave_number=2,
                arn=f"action:wave2:{spec['when']}1:{spec['type']}",
                adapter="action-lambda",
                status=status,
                error=error,
                operation_id="a-1",
                started_at=at(400),
                finished_at=at(410),
                stage=stage,
                action=spec,
                detail={"output": "<ok>"},
            )
        )

    app = model.build(source)["waves"][1]
    page = html.render(model.build(source))

    assert [(a["phase"], a["type"], a["target"], a["status"]) for a in app["actions"]] == [
        ("pre", "lambda", "arn:aws:lambda:us-west-2:1:function:check", "SUCCEEDED"),
        ("post", "ssm-automation", "smoke", "FAILED"),
    ]
    assert app["resourceCount"] == 2 and "action:wave2:post1:ssm-automation" in [f["arn"] for f in app["failures"]]
    assert "<h2>Wave actions</h2>" in page and "&lt;ok&gt;" in page and "<ok>" not in page


def first_failed_attempt(error: str, operation_id: str, finished: int) -> dict:
    """Attempt 1 of a retried run, as the store keeps it: it started at 400 s and failed."""
    times = {"startedAt": at(400).isoformat(), "finishedAt": at(finished).isoformat()}
    return {"attempt": 1, "status": "FAILED", "error": error, "operationId": operation_id} | times


def attempts_of(entry: dict, field: str) -> list[tuple]:
    """A report entry's attempts as (attempt, status, field), checking the entry names its latest attempt."""
    assert entry["attempt"] == len(entry["attempts"])
    return [(a["attempt"], a["status"], a[field]) for a in entry["attempts"]]


def test_a_run_that_failed_again_after_a_retry_is_one_failure_with_both_attempts_in_json_and_html():
    data = inputs()
    run = data.runs[2]  # wave 2's failed run, retried: attempt 2 failed too
    run.attempt, run.attempts = 2, [first_failed_attempt("first boom", "op-first", finished=450)]

    report = model.build(data)

    (failure,) = report["waves"][1]["failures"]
    assert attempts_of(failure, "error") == [(1, "FAILED", "first boom"), (2, "FAILED", "boom")]
    page = html.render(report)
    failures = page.split("<h2>Failures</h2>")[1].split("<h2>")[0]
    assert "<th>attempt</th>" in failures and "<td>2</td>" in failures
    attempts = page.split("<h2>Attempts of retried resources and actions</h2>")[1].split("<h2>")[0]
    assert "first boom" in attempts and "op-first" in attempts


def test_a_retried_action_shows_both_attempts_in_the_report():
    source = inputs()
    smoke = {"type": "ssm-automation", "documentName": "smoke", "when": "post"}
    earlier = first_failed_attempt("automation a-1 Failed: 500", "a-1", finished=410)
    source.runs.append(
        SimpleNamespace(
            wave_number=2,
            arn="action:wave2:post1:ssm-automation",
            adapter="action-ssm",
            status="SUCCEEDED",
            error=None,
            operation_id="a-2",
            started_at=at(500),
            finished_at=at(510),
            stage=1,
            action=smoke,
            detail={"output": "{}"},
            attempt=2,
            attempts=[earlier],
        )
    )

    report = model.build(source)

    (action,) = report["waves"][1]["actions"]
    assert attempts_of(action, "operationId") == [(1, "FAILED", "a-1"), (2, "SUCCEEDED", "a-2")]
    attempts = html.render(report).split("<h2>Attempts of retried resources and actions</h2>")[1].split("<h2>")[0]
    assert "action:wave2:post1:ssm-automation" in attempts and "automation a-1 Failed: 500" in attempts
