"""How an execution reads at a glance, as plain text: one line per wave, the gate and the exit code.
Pure functions of the API's JSON, shared by the CLI (`exec watch`, `exec show`) and the web console's templates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.domain.states import RESOURCE_TERMINAL

TERMINAL_RESOURCE = frozenset(s.value for s in RESOURCE_TERMINAL)
EXIT_CODES = {"COMPLETED": 0, "COMPLETED_WITH_FAILURES": 2, "FAILED": 1, "CANCELLED": 1}
PAUSED_EXIT = 3
BAR_WIDTH = 20


def is_finished(execution: dict[str, Any]) -> bool:
    return execution["status"] in EXIT_CODES


def wave_progress(wave: dict[str, Any]) -> tuple[int, int]:
    """(terminal resources, all resources) of a wave."""
    counts = wave.get("counts") or {}
    return sum(n for status, n in counts.items() if status in TERMINAL_RESOURCE), sum(counts.values())


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "." * (width - filled) + "]"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _parse(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None


def wave_elapsed(wave: dict[str, Any], now: datetime | None = None) -> float | None:
    started = _parse(wave.get("startedAt"))
    if started is None:
        return None
    ended = _parse(wave.get("finishedAt")) or now or datetime.now(UTC)
    return (ended - started).total_seconds()


def counts_text(counts: dict[str, int]) -> str:
    return " ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "no resources"


def target_seconds(wave: dict[str, Any]) -> int | None:
    """What a wave's elapsed time is measured against: its RTO target, else its timeout."""
    if wave.get("rtoTargetMinutes"):
        return wave["rtoTargetMinutes"] * 60
    return wave.get("timeoutSeconds")


def target_label(wave: dict[str, Any]) -> str:
    return "RTO target" if wave.get("rtoTargetMinutes") else "wave timeout"


def wave_line(wave: dict[str, Any], now: datetime | None = None, elapsed: bool = True) -> str:
    """`wave 2 'App tier' RUNNING [##########..........] 2/4 IN_PROGRESS 2 SUCCEEDED 2 elapsed 0:42 / target 60:00`
    (the wave's RTO target, else its timeout)."""
    done, total = wave_progress(wave)
    line = f"wave {wave['number']} '{wave['name']}' {wave['status']} {bar(done, total)} {done}/{total}"
    line += f" {counts_text(wave.get('counts') or {})}"
    if elapsed:
        target = target_seconds(wave)
        line += f" elapsed {duration(wave_elapsed(wave, now))}" + (f" / target {duration(target)}" if target else "")
    return line


def headline(execution: dict[str, Any]) -> str:
    line = (
        f"{execution['id']} {execution['status']} ({execution['mode']} {execution['phase']}) "
        f"plan '{execution['planName']}'"
    )
    return line + (f": {execution['statusReason']}" if execution.get("statusReason") else "")


def approve_command(execution_id: str, profile: str | None) -> str:
    return "drwave " + (f"--profile {profile} " if profile else "") + f"exec approve {execution_id}"


def gate_lines(execution: dict[str, Any], profile: str | None) -> list[str]:
    """At a gate: why it stopped and the exact command that lets it go on."""
    if execution["status"] != "PAUSED":
        return []
    before = execution.get("pausedBeforeWave")
    waves = {w["number"]: w for w in execution.get("waves", [])}
    where = f"before wave {before} '{waves[before]['name']}'" if before in waves else ""
    reason = execution.get("statusReason") or "paused"
    return [f"PAUSED {where}: {reason}".replace("  ", " "), f"to approve: {approve_command(execution['id'], profile)}"]


def snapshot_lines(execution: dict[str, Any], profile: str | None, elapsed: bool = True) -> list[str]:
    return [
        headline(execution),
        *(wave_line(w, elapsed=elapsed) for w in execution.get("waves", [])),
        *gate_lines(execution, profile),
    ]
