"""The restart decision of `drwave run`'s supervisor and the process report it writes, without processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import deque

from services.supervisor import GiveUp, Restart, RestartPolicy, describe_exit
from shared import processes
from shared.processes import ProcessState, Supervision


def test_restarts_back_off_exponentially_up_to_the_cap():
    policy = RestartPolicy(max_restarts=5, window=60, first_delay=0.5, max_delay=4)
    recent: deque[float] = deque()
    delays = []
    for now in range(5):
        decision = policy.decide(recent, float(now))
        assert isinstance(decision, Restart)
        delays.append((decision.number, decision.delay))
        recent.append(float(now))
    assert delays == [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0)]


def test_the_sixth_exit_within_a_minute_gives_up():
    policy = RestartPolicy(max_restarts=5, window=60)
    recent = deque([0.0, 1.0, 2.0, 3.0, 4.0])
    assert policy.decide(recent, 5.0) == GiveUp(5)


def test_restarts_older_than_the_window_no_longer_count():
    policy = RestartPolicy(max_restarts=5, window=60)
    recent = deque([0.0, 1.0, 2.0, 3.0, 4.0])
    decision = policy.decide(recent, 61.5)
    assert decision == Restart(number=4, delay=4.0)
    assert list(recent) == [2.0, 3.0, 4.0]


def test_an_exit_is_described_by_its_signal_or_its_code():
    assert describe_exit(-9) == "signal 9"
    assert describe_exit(1) == "code 1"


def test_the_report_reads_back_what_was_written(tmp_path):
    report = Supervision(
        supervisor_pid=os.getpid(),
        updated_at="2026-01-01T00:00:00+00:00",
        processes=[ProcessState("scheduler", processes.RUNNING, os.getpid(), restarts=1, last_exit="signal 9")],
    )
    processes.write(tmp_path, report)
    assert processes.read(tmp_path) == report
    assert processes.read(tmp_path).all_running


def test_a_process_reported_running_that_no_longer_exists_reads_as_gone(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    processes.write(
        tmp_path,
        Supervision(os.getpid(), "t", [ProcessState("api", processes.RUNNING, dead.pid)]),
    )
    report = processes.read(tmp_path)
    assert report.processes[0].state == processes.GONE
    assert not report.all_running


def test_a_report_whose_supervisor_is_dead_shows_nothing_running(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    processes.write(tmp_path, Supervision(dead.pid, "t", [ProcessState("api", processes.RUNNING, os.getpid())]))
    report = processes.read(tmp_path)
    assert not report.supervisor_alive
    assert report.processes[0].state == processes.GONE


def test_no_report_reads_as_none(tmp_path):
    assert processes.read(tmp_path) is None
