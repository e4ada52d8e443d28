"""Keeps the processes of `drwave run` up: a scheduler, worker, API or Flower that exits unexpectedly is
started again after a backoff, and given up on after too many restarts within a minute.

`RestartPolicy` is the pure decision; `Supervisor` is the thread that watches a :class:`~services.stack.Stack`,
applies it, logs ``scheduler exited with signal 9; restarting (1/5)`` and reports every process in
``<state dir>/processes.json`` (see :mod:`shared.processes`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shared import processes as reports

log = logging.getLogger("drwave.supervisor")


@dataclass(frozen=True)
class Restart:
    number: int  # 1..max_restarts within the window
    delay: float  # seconds to wait before starting it again


@dataclass(frozen=True)
class GiveUp:
    restarts: int


class RestartPolicy:
    """At most `max_restarts` restarts within `window` seconds, each after an exponential backoff."""

    def __init__(self, max_restarts: int = 5, window: float = 60.0, first_delay: float = 0.5, max_delay: float = 8.0):
        self.max_restarts = max_restarts
        self.window = window
        self.first_delay = first_delay
        self.max_delay = max_delay

    def decide(self, recent_restarts: deque[float], now: float) -> Restart | GiveUp:
        """What to do about an exit at `now`, given the times of earlier restarts (pruned in place)."""
        while recent_restarts and recent_restarts[0] <= now - self.window:
            recent_restarts.popleft()
        if len(recent_restarts) >= self.max_restarts:
            return GiveUp(len(recent_restarts))
        number = len(recent_restarts) + 1
        return Restart(number, min(self.first_delay * 2 ** (number - 1), self.max_delay))


def describe_exit(returncode: int) -> str:
    """`signal 9` for a process killed by a signal (Popen's negative return code), else `code N`."""
    return f"signal {-returncode}" if returncode < 0 else f"code {returncode}"


@dataclass
class _Watched:
    restart: Callable[[], subprocess.Popen] | None  # None: report the exit, never restart
    recent: deque[float]
    restarts: int = 0
    state: str = reports.RUNNING
    last_exit: str | None = None
    since: str | None = None
    due: float | None = None  # when a pending restart happens


class Supervisor:
    """Watches `processes` (name -> Popen, shared with the stack and updated in place on restart)."""

    def __init__(
        self,
        processes: dict[str, subprocess.Popen],
        restarters: dict[str, Callable[[], subprocess.Popen]],
        state_dir: Path,
        log_dir: Path,
        policy: RestartPolicy | None = None,
        check_interval: float = 0.2,
    ):
        self.processes = processes
        self.state_dir = Path(state_dir)
        self.log_dir = log_dir
        self.policy = policy or RestartPolicy()
        self.check_interval = check_interval
        self.lock = threading.Lock()  # held while processes change (a restart, or the stack stopping)
        self._watched = {name: _Watched(restarters.get(name), deque(), since=_now()) for name in processes}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drwave-supervisor", daemon=True)

    def start(self) -> Supervisor:
        self._report()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (the caller then stops the processes); the report says `stopped`."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self.lock:
            for watched in self._watched.values():
                watched.state, watched.since = reports.STOPPED, _now()
            self._report()

    def _run(self) -> None:
        while not self._stop.wait(self.check_interval):
            with self.lock:
                if self._stop.is_set():
                    return
                changed = False
                for name, watched in self._watched.items():
                    changed |= self._check(name, watched)
                if changed:
                    self._report()

    def _check(self, name: str, watched: _Watched) -> bool:
        now = time.monotonic()
        if watched.state == reports.RESTARTING and watched.due is not None and now >= watched.due:
            _kill_group(self.processes[name])  # no orphaned pool child or beat may outlive its parent
            watched.recent.append(now)
            watched.restarts += 1
            watched.due, watched.since = None, _now()
            try:
                self.processes[name] = watched.restart()
            except OSError as error:  # e.g. the interpreter or the log file is gone: nothing more to try
                watched.state = reports.FAILED
                log.error("%s could not be started again: %s; giving up", name, error)
                return True
            watched.state = reports.RUNNING
            return True
        process = self.processes[name]
        if watched.state != reports.RUNNING or process.poll() is None:
            return False
        watched.last_exit, watched.since = describe_exit(process.returncode), _now()
        if watched.restart is None:
            watched.state = reports.EXITED
            log.error("%s exited with %s; it is not restarted (see %s)", name, watched.last_exit, self._log_of(name))
            return True
        decision = self.policy.decide(watched.recent, now)
        if isinstance(decision, GiveUp):
            watched.state = reports.FAILED
            log.error(
                "%s exited with %s; restarted %d times within %.0fs, giving up (see %s)",
                name,
                watched.last_exit,
                decision.restarts,
                self.policy.window,
                self._log_of(name),
            )
            return True
        watched.state, watched.due = reports.RESTARTING, now + decision.delay
        log.warning(
            "%s exited with %s; restarting (%d/%d)", name, watched.last_exit, decision.number, self.policy.max_restarts
        )
        return True

    def _log_of(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _report(self) -> None:
        reports.write(
            self.state_dir,
            reports.Supervision(
                supervisor_pid=os.getpid(),
                updated_at=_now(),
                processes=[
                    reports.ProcessState(
                        name=name,
                        state=watched.state,
                        pid=self.processes[name].pid,
                        restarts=watched.restarts,
                        last_exit=watched.last_exit,
                        since=watched.since,
                    )
                    for name, watched in self._watched.items()
                ],
            ),
        )


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL what is left of a dead process's group (each child runs in a session of its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
