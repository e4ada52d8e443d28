"""The supervisor of `drwave run` on real processes: a killed process is started again, and one that keeps
dying is given up on after five restarts within a minute, saying so."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from functools import partial

import pytest
from support import PATIENCE

from services.supervisor import RestartPolicy, Supervisor
from shared import processes

FAST_BACKOFF = RestartPolicy(max_restarts=5, window=60, first_delay=0.05, max_delay=0.2)


def spawn(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def supervise(state_dir, name: str, code: str, restartable: bool = True) -> tuple[Supervisor, dict]:
    """A started supervisor of one process ``name`` running ``code`` (restarted as the same code when
    ``restartable``), and the dict of running processes it keeps up to date."""
    spawner = partial(spawn, code)
    running = {name: spawner()}
    restarts = {name: spawner} if restartable else {}
    return Supervisor(running, restarts, state_dir, state_dir, FAST_BACKOFF).start(), running


@pytest.fixture(autouse=True)
def supervisor_logs(caplog) -> None:
    """The supervisor says what it does at INFO; every test reads it."""
    caplog.set_level(logging.INFO, logger="drwave.supervisor")


def wait_until(check, what: str, timeout: float = PATIENCE):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.05)
    return value


def report_of(state_dir, name):
    report = processes.read(state_dir)
    return next(p for p in report.processes if p.name == name) if report else None


def test_a_killed_process_is_started_again_and_reported_running(tmp_path, caplog):
    supervisor, running = supervise(tmp_path, "scheduler", "import time; time.sleep(600)")
    try:
        first_pid = running["scheduler"].pid
        os.kill(first_pid, signal.SIGKILL)
        state = wait_until(
            lambda: (s := report_of(tmp_path, "scheduler")) and s.restarts == 1 and s.state == "running" and s,
            "restarted",
        )
        assert state.pid == running["scheduler"].pid != first_pid
        assert state.last_exit == "signal 9"
        assert processes.pid_alive(state.pid)
        assert "scheduler exited with signal 9; restarting (1/5)" in caplog.messages
    finally:
        supervisor.stop()
        for process in running.values():
            process.kill()
            process.wait()
    assert report_of(tmp_path, "scheduler").state == "stopped"


def test_a_process_that_keeps_dying_is_given_up_after_five_restarts_within_a_minute(tmp_path, caplog):
    supervisor, _ = supervise(tmp_path, "worker-0", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    try:
        state = wait_until(lambda: (s := report_of(tmp_path, "worker-0")) and s.state == "failed" and s, "gave up")
    finally:
        supervisor.stop()
    assert state.restarts == 5
    restarts = [m for m in caplog.messages if "restarting" in m]
    assert restarts == [f"worker-0 exited with signal 9; restarting ({n}/5)" for n in range(1, 6)]
    assert caplog.messages[-1].startswith("worker-0 exited with signal 9; restarted 5 times within 60s, giving up")


def test_a_process_the_supervisor_may_not_restart_is_reported_exited(tmp_path, caplog):
    supervisor, _ = supervise(tmp_path, "localaws", "raise SystemExit(3)", restartable=False)
    try:
        state = wait_until(lambda: (s := report_of(tmp_path, "localaws")) and s.state == "exited" and s, "exited")
    finally:
        supervisor.stop()
    assert state.last_exit == "code 3" and state.restarts == 0
    assert any(m.startswith("localaws exited with code 3; it is not restarted") for m in caplog.messages)
