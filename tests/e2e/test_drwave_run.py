"""`drwave run` (what `make run` calls): the whole stack on embedded defaults, a demo, and Ctrl-C that
stops every process it started — even when Ctrl-C is pressed twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests
from support import PATIENCE

from shared.embedded import free_port


def processes_of(state_dir: str) -> list[psutil.Process]:
    """Every live process started for this state dir (children, and the daemonized PostgreSQL/Redis)."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            environ = process.info["environ"] or {}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if state_dir in cmdline or environ.get("DRWAVE_STATE_DIR") == state_dir:
            found.append(process)
    return [p for p in found if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_drwave_run_runs_the_demo_and_a_double_ctrl_c_stops_everything_it_started(tmp_path):
    state_dir = str(tmp_path / "state")
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DRWAVE_DATABASE_URL", "DRWAVE_REDIS_URL")}
    env.update(
        DRWAVE_STATE_DIR=state_dir,
        DRWAVE_API_PORT=str(api_port),
        DRWAVE_FLOWER_PORT=str(free_port()),
        DRWAVE_LOCAL_AWS_PORT=str(free_port()),
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "--demo", "simulated"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + PATIENCE
        while not any("drwave is up" in line for line in output):
            assert run.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "".join(output)
            output.append(run.stdout.readline())
        text = "".join(output)
        assert "Token    drw_" in text
        assert "demo: Resumed" in text or "resume -> Resumed" in text
        assert "finished COMPLETED_WITH_FAILURES" in text
        report = next(line for line in output if "demo: report of" in line).rsplit(" written to ", 1)[1].strip()
        assert Path(report).parent == Path(state_dir).resolve() / "reports"
        assert "<svg" in Path(report).read_text()
        assert requests.get(f"http://127.0.0.1:{api_port}/healthz", timeout=5).status_code == 200
        started = processes_of(state_dir)
        assert len(started) >= 5  # postgres, redis, local AWS, scheduler, worker, API, Flower (+ their children)

        run.send_signal(signal.SIGINT)
        time.sleep(0.3)
        run.send_signal(signal.SIGINT)
        run.wait(timeout=PATIENCE)
        psutil.wait_procs(started, timeout=PATIENCE)
        assert processes_of(state_dir) == []
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        for process in processes_of(state_dir):
            process.kill()
