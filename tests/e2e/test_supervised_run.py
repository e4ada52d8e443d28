"""`drwave run` supervises what it started: SIGKILL of the scheduler's main process in the middle of a wave
is logged, the scheduler is started again, and the execution completes with every resource started once.
`drwave status` and /readyz show the restart. Run with DRWAVE_LOG_FORMAT=json, every line the API, the
scheduler and the worker write is one JSON object, naming the execution, wave, resource run and ARN."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import requests
from sqlalchemy import create_engine, text
from support import PATIENCE

from shared import processes
from shared.embedded import ensure_postgres, free_port


class RunOutput:
    """The lines `drwave run` prints, read in a thread so waiting on them never blocks."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, fragment: str, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + PATIENCE
        while fragment not in self.text:
            assert process.poll() is None, self.text
            assert time.monotonic() < deadline, self.text
            time.sleep(0.1)


def wait_until(check, what: str, limit: float = PATIENCE):
    deadline = time.monotonic() + limit
    while not (result := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return result


def sim(name: str, ms: int = 0) -> str:
    arn = f"arn:drwave:simulated:us-west-2:123456789012:resource/{name}-{uuid.uuid4().hex[:8]}"
    return arn + (f"/{ms}ms" if ms else "")


# Celery writes its shutdown notices ("worker: Warm shutdown (MainProcess)") straight to the file
# descriptor from its signal handler, bypassing logging (where a lock could deadlock the handler).
CELERY_SIGNAL_NOTICES = ("worker: Warm shutdown", "worker: Cold shutdown")


def json_lines(path: Path) -> list[dict]:
    lines = [
        line for line in path.read_text().splitlines() if line.strip() and not line.startswith(CELERY_SIGNAL_NOTICES)
    ]
    assert lines, path
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{path.name}: not a JSON line: {line}") from None
    return parsed


def test_a_scheduler_killed_mid_wave_is_restarted_and_the_execution_completes(tmp_path):
    state_dir = tmp_path / "state"
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DRWAVE_DATABASE_URL", "DRWAVE_REDIS_URL")}
    env.update(
        DRWAVE_STATE_DIR=str(state_dir),
        DRWAVE_API_PORT=str(api_port),
        DRWAVE_FLOWER_PORT=str(free_port()),
        DRWAVE_LOCAL_AWS_PORT=str(free_port()),
        DRWAVE_LOG_FORMAT="json",
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "--demo", "none", "--no-local-aws"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = RunOutput(run)
    api = f"http://127.0.0.1:{api_port}"
    try:
        output.wait_for("drwave is up", run)
        token = next(line.split()[1] for line in output.lines if line.strip().startswith("Token"))
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"

        slow = [sim(f"db{n}", 10_000) for n in range(3)]  # wave 1 is still running when the scheduler dies
        groups = [
            http.post(
                f"{api}/v1/protection-groups",
                json={
                    "name": f"{name} {uuid.uuid4().hex[:6]}",
                    "region": "us-west-2",
                    "selection": {"resourceArns": arns},
                },
                timeout=60,
            ).json()["id"]
            for name, arns in (("db", slow), ("app", [sim("app")]))
        ]
        plan = http.post(
            f"{api}/v1/recovery-plans",
            json={
                "name": f"p {uuid.uuid4().hex[:6]}",
                "waves": [
                    {"name": "db", "protectionGroupIds": [groups[0]]},
                    {"name": "app", "protectionGroupIds": [groups[1]]},
                ],
            },
            timeout=60,
        ).json()["id"]
        execution_id = http.post(f"{api}/v1/executions", json={"planId": plan}, timeout=60).json()["execution"]["id"]
        wait_until(
            lambda: any(
                r["status"] == "IN_PROGRESS"
                for w in http.get(f"{api}/v1/executions/{execution_id}", timeout=30).json()["waves"]
                for r in w["resources"]
            ),
            "wave 1 in progress",
        )

        scheduler = next(p for p in processes.read(state_dir).processes if p.name == "scheduler")
        os.kill(scheduler.pid, signal.SIGKILL)  # the main process only, as the OOM killer would
        output.wait_for("scheduler exited with signal 9; restarting (1/5)", run)

        done = wait_until(
            lambda: (
                (e := http.get(f"{api}/v1/executions/{execution_id}", timeout=30).json())["status"]
                in {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}
                and e
            ),
            "execution finished",
        )
        assert done["status"] == "COMPLETED"
        engine = create_engine(ensure_postgres(state_dir).url)
        with engine.connect() as conn:
            attempts = conn.scalars(
                text("SELECT start_attempts FROM resource_runs WHERE execution_id = :id"), {"id": execution_id}
            ).all()
        engine.dispose()
        assert attempts == [1, 1, 1, 1]

        restarted = wait_until(
            lambda: (
                (s := next(p for p in processes.read(state_dir).processes if p.name == "scheduler")).state == "running"
                and s
            ),
            "scheduler reported running",
        )
        assert restarted.restarts == 1 and restarted.pid != scheduler.pid and restarted.last_exit == "signal 9"
        assert not psutil.pid_exists(scheduler.pid) or psutil.Process(scheduler.pid).status() == psutil.STATUS_ZOMBIE

        status = subprocess.run(
            [sys.executable, "-m", "services.cli", "status"], env=env, capture_output=True, text=True, timeout=120
        )
        assert status.returncode == 0, status.stdout + status.stderr
        scheduler_line = next(line for line in status.stdout.splitlines() if line.split()[:1] == ["scheduler"])
        assert scheduler_line.split()[1:4] == ["running", str(restarted.pid), "1"]
        assert {"api", "worker-0", "flower"} <= {line.split()[0] for line in status.stdout.splitlines()[2:]}

        ready = requests.get(f"{api}/readyz", timeout=30).json()
        by_name = {p["name"]: p for p in ready["processes"]}
        assert by_name["scheduler"]["restarts"] == 1 and by_name["scheduler"]["state"] == "running"
        assert by_name["scheduler"]["lastExit"] == "signal 9"
    finally:
        if run.poll() is None:
            run.send_signal(signal.SIGINT)
            try:
                run.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)

    assert run.returncode == 0, output.text
    assert "restarting (2/5)" not in output.text
    stopped = processes.read(state_dir)
    assert {p.state for p in stopped.processes} == {"stopped"}

    logs = state_dir / "logs"
    scheduler_lines = json_lines(logs / "scheduler.log")
    worker_lines = json_lines(logs / "worker-0.log")
    api_lines = json_lines(logs / "api.log")
    assert any(r.get("execution_id") == execution_id and r.get("wave") == 1 for r in scheduler_lines)
    assert any(
        r.get("execution_id") == execution_id
        and r.get("wave") == 1
        and r.get("arn") in slow
        and r.get("resource_run_id")
        for r in worker_lines
    )
    assert any("GET /readyz" in r["message"] for r in api_lines)  # gunicorn's access log, as JSON too
