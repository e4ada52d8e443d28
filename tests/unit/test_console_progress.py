"""How an execution reads in both consoles: wave lines, bars, the gate and its approving command, exit codes."""

import io
import sys
from datetime import UTC, datetime

from services.console.cli.watch import watch
from services.console.progress import (
    EXIT_CODES,
    bar,
    duration,
    gate_lines,
    snapshot_lines,
    target_label,
    wave_line,
    wave_progress,
)


def wave(number=1, status="RUNNING", counts=None, started="2026-01-01T00:00:00+00:00", finished=None, timeout=3600):
    return {
        "number": number, "name": f"w{number}", "status": status, "counts": counts or {},
        "startedAt": started, "finishedAt": finished, "timeoutSeconds": timeout,
    }


def execution(status="RUNNING", waves=(), **extra):
    return {
        "id": "ex-7", "status": status, "mode": "drill", "phase": "instantiate", "planName": "p", "waves": list(waves),
        **extra,
    }


def test_progress_counts_only_resources_that_reached_an_end():
    assert wave_progress(wave(counts={"SUCCEEDED": 2, "FAILED": 1, "IN_PROGRESS": 3, "TIMED_OUT": 1})) == (4, 7)


def test_the_bar_fills_in_proportion_and_an_empty_wave_is_empty():
    assert bar(1, 2, width=10) == "[#####.....]"
    assert bar(0, 0, width=4) == "[....]"


def test_durations_read_as_minutes_or_hours():
    assert duration(75) == "1:15"
    assert duration(3600 + 61) == "1:01:01"
    assert duration(None) == "-"


def test_a_wave_line_shows_status_progress_counts_and_elapsed_against_its_target():
    line = wave_line(
        wave(counts={"SUCCEEDED": 1, "IN_PROGRESS": 1}, timeout=900), now=datetime(2026, 1, 1, 0, 0, 42, tzinfo=UTC)
    )
    expected = "wave 1 'w1' RUNNING [##########..........] 1/2 IN_PROGRESS 1 SUCCEEDED 1 elapsed 0:42 / target 15:00"
    assert line == expected


def test_a_wave_with_an_rto_target_is_measured_against_it_rather_than_its_timeout():
    with_rto = {**wave(timeout=3600), "rtoTargetMinutes": 15}
    assert wave_line(with_rto).endswith("/ target 15:00")
    assert target_label(with_rto) == "RTO target" and target_label(wave()) == "wave timeout"


def test_a_wave_not_started_has_no_elapsed_time():
    assert "elapsed - / target 1:00:00" in wave_line(wave(status="PENDING", started=None))


def test_at_a_gate_the_reason_and_the_exact_approving_command_are_printed():
    parked = execution("PAUSED", [wave(1, "SUCCEEDED"), wave(2, "PENDING")], pausedBeforeWave=2,
                       statusReason="approval required before wave 2 'w2'")
    assert gate_lines(parked, None) == [
        "PAUSED before wave 2 'w2': approval required before wave 2 'w2'",
        "to approve: drwave exec approve ex-7",
    ]
    assert gate_lines(parked, "prod")[1] == "to approve: drwave --profile prod exec approve ex-7"
    assert gate_lines(execution("RUNNING"), None) == []


def test_a_snapshot_is_a_headline_then_one_line_per_wave():
    lines = snapshot_lines(execution("RUNNING", [wave(1), wave(2, "PENDING")]), None, elapsed=False)
    assert lines[0] == "ex-7 RUNNING (drill instantiate) plan 'p'"
    assert [line.split(" [")[0] for line in lines[1:]] == ["wave 1 'w1' RUNNING", "wave 2 'w2' PENDING"]


def test_exit_codes_follow_the_contract():
    assert EXIT_CODES == {"COMPLETED": 0, "COMPLETED_WITH_FAILURES": 2, "FAILED": 1, "CANCELLED": 1}


class Terminal(io.StringIO):
    """What `watch` prints to when a person looks: rich's live panel."""

    def isatty(self) -> bool:
        return True


class OneAnswer:
    """The REST client's edge: every GET answers ``execution``."""

    def __init__(self, execution: dict):
        self.execution = execution

    def get(self, path: str) -> dict:
        return self.execution


def test_the_live_watch_panel_prints_markup_lookalike_names_as_written(monkeypatch):
    shown = {**wave(status="SUCCEEDED", counts={"SUCCEEDED": 1}), "name": "[b]Data[/b] [/x]"}
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("COLUMNS", "200")
    finished = execution(status="COMPLETED", waves=[shown], planName="[ops] night")
    code = watch(OneAnswer(finished), "ex-7", profile=None, until_paused=False, as_json=False, sleep=lambda _: None)
    assert code == EXIT_CODES["COMPLETED"]
    assert "[b]Data[/b] [/x]" in terminal.getvalue() and "plan '[ops] night'" in terminal.getvalue()
