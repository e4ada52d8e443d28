"""`drwave exec watch`: follow an execution until it ends (or parks, with --until-paused).

On a terminal it redraws a live panel (rich) every second; without one (a pipe, CI, cron) it prints a
plain line each time a wave or the execution changes, with no control codes."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ..progress import (
    EXIT_CODES,
    PAUSED_EXIT,
    counts_text,
    duration,
    gate_lines,
    headline,
    is_finished,
    target_seconds,
    wave_elapsed,
    wave_line,
    wave_progress,
)
from .client import Client
from .common import plain_console

POLL_SECONDS = 1.0


def watch(
    client: Client,
    execution_id: str,
    *,
    profile: str | None,
    until_paused: bool,
    as_json: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll the execution once a second; return the exit code of how it ended."""
    fetch = lambda: client.get(f"/v1/executions/{execution_id}")  # noqa: E731
    if as_json:
        return _watch_json(fetch, until_paused, sleep)
    if sys.stdout.isatty():
        return _watch_live(fetch, profile, until_paused, sleep)
    return _watch_plain(fetch, profile, until_paused, sleep)


def _outcome(execution: dict[str, Any], until_paused: bool) -> int | None:
    if is_finished(execution):
        return EXIT_CODES[execution["status"]]
    if until_paused and execution["status"] == "PAUSED":
        return PAUSED_EXIT
    return None


def _watch_json(fetch, until_paused: bool, sleep) -> int:
    """One line of the API's JSON per change of the execution."""
    last = None
    while True:
        execution = fetch()
        line = json.dumps(execution, sort_keys=True)
        if line != last:
            print(line, flush=True)
            last = line
        if (code := _outcome(execution, until_paused)) is not None:
            return code
        sleep(POLL_SECONDS)


def _watch_plain(fetch, profile: str | None, until_paused: bool, sleep) -> int:
    seen: dict[str, str] = {}
    while True:
        execution = fetch()
        keyed = [("execution", headline(execution), headline(execution))]
        keyed += [(f"wave {w['number']}", wave_line(w, elapsed=False), wave_line(w)) for w in execution["waves"]]
        keyed += [(f"gate {i}", line, line) for i, line in enumerate(gate_lines(execution, profile))]
        for key, identity, shown in keyed:
            if seen.get(key) != identity:
                print(shown, flush=True)
                seen[key] = identity
        if execution["status"] != "PAUSED":
            seen = {k: v for k, v in seen.items() if not k.startswith("gate")}
        if (code := _outcome(execution, until_paused)) is not None:
            return code
        sleep(POLL_SECONDS)


def panel(execution: dict[str, Any], profile: str | None) -> Group:
    """The live view: a headline, one row per wave (status, bar, counts, elapsed vs RTO), the gate."""
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for column in ("wave", "status", "progress", "done", "by status", "elapsed / target"):
        table.add_column(column)
    for wave in execution["waves"]:
        done, total = wave_progress(wave)
        target = target_seconds(wave)
        table.add_row(
            f"{wave['number']} {wave['name']}",
            wave["status"],
            ProgressBar(total=max(total, 1), completed=done, width=20),
            f"{done}/{total}",
            counts_text(wave.get("counts") or {}),
            f"{duration(wave_elapsed(wave))} / {duration(target) if target else '-'}",
        )
    gate = [Text(line, style="bold yellow") for line in gate_lines(execution, profile)]
    return Group(Text(headline(execution), style="bold"), table, *gate)


def _watch_live(fetch, profile: str | None, until_paused: bool, sleep) -> int:
    console = plain_console()
    execution = fetch()
    with Live(panel(execution, profile), console=console, refresh_per_second=4, transient=False) as live:
        while (code := _outcome(execution, until_paused)) is None:
            sleep(POLL_SECONDS)
            execution = fetch()
            live.update(panel(execution, profile))
    return code
