"""The processes `drwave run` supervises, as written to ``<state dir>/processes.json`` by its supervisor
and read by `drwave status` and the API's ``/readyz``.

The file is only a report: whoever reads it checks that the supervisor and each process are still
alive (a `drwave run` killed with SIGKILL cannot update it), so a stale file never reads as "running".
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

STATE_FILE = "processes.json"

RUNNING = "running"
RESTARTING = "restarting"  # exited; a restart is due after its backoff
FAILED = "failed"  # exited too often: the supervisor gave up on it
EXITED = "exited"  # exited and not restarted (not a supervised kind of process)
GONE = "gone"  # reported running, but the process (or its supervisor) no longer exists
STOPPED = "stopped"  # stopped on purpose (drwave run is shutting down)


@dataclass(frozen=True)
class ProcessState:
    name: str
    state: str
    pid: int | None
    restarts: int = 0
    last_exit: str | None = None  # "signal 9", "code 1"
    since: str | None = None  # ISO time of the last change


@dataclass(frozen=True)
class Supervision:
    supervisor_pid: int
    updated_at: str
    processes: list[ProcessState] = field(default_factory=list)

    @property
    def supervisor_alive(self) -> bool:
        return pid_alive(self.supervisor_pid)

    @property
    def all_running(self) -> bool:
        return self.supervisor_alive and all(p.state == RUNNING for p in self.processes)


def write(state_dir: Path, supervision: Supervision) -> None:
    """Atomically replace the state file (readers never see half a file)."""
    path = Path(state_dir) / STATE_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(supervision), indent=2))
    os.replace(partial, path)


def read(state_dir: Path) -> Supervision | None:
    """The last report, with every process that is no longer alive marked `gone`; None without a report."""
    path = Path(state_dir) / STATE_FILE
    try:
        raw = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    supervision = Supervision(
        supervisor_pid=raw["supervisor_pid"],
        updated_at=raw["updated_at"],
        processes=[ProcessState(**p) for p in raw["processes"]],
    )
    alive = supervision.supervisor_alive
    checked = [
        replace(p, state=GONE) if p.state == RUNNING and not (alive and p.pid is not None and pid_alive(p.pid)) else p
        for p in supervision.processes
    ]
    return replace(supervision, processes=checked)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped by its parent) is not alive for our purpose
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:  # it exited between the two looks
        return False
    except (OSError, IndexError):  # no /proc here: trust kill(0)
        return True
