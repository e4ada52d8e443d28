"""Starts and stops a whole drwave stack as real processes: embedded (or given) PostgreSQL and Redis,
the API (gunicorn), the scheduler, N workers and Flower. Used by `drwave run`, the test fixtures and
the benchmark, so all three run the same thing."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared.db.migrate import upgrade
from shared.embedded import EmbeddedServer, ensure_postgres, ensure_redis

from .supervisor import RestartPolicy, Supervisor

log = logging.getLogger(__name__)

# How long a start may take before it is called a hang: a cold start on a loaded 2-core machine is slow,
# so this is generous on purpose (a process that dies is reported at once, not after this).
READY_TIMEOUT = 600.0
GUNICORN_CONFIG = "python:services.api.gunicorn_conf"
SUPERVISED = frozenset({"scheduler", "notifier", "api", "flower"})  # and every worker-N


@dataclass
class StackConfig:
    state_dir: Path = Path(".drwave")
    database_url: str | None = None
    redis_url: str | None = None
    api: bool = True
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    flower: bool = False
    flower_port: int = 5555
    flower_user: str = "admin"
    flower_password: str = "drwave"
    local_aws: bool = False  # start the local AWS emulator seeded with the demo estate
    local_aws_port: int = 4566
    workers: int = 1
    worker_concurrency: int = 4
    scheduler_concurrency: int = 2
    notifier: bool = True  # the notifications worker (queue `notifications`, issue 10)
    env: dict[str, str] = field(default_factory=dict)  # extra DRWAVE_* settings for every process


class Stack:
    def __init__(self, config: StackConfig):
        self.config = config
        self.processes: dict[str, subprocess.Popen] = {}
        self._commands: dict[str, tuple[list[str], dict[str, str]]] = {}  # how to start each one again
        self.supervisor: Supervisor | None = None
        self.embedded: list[EmbeddedServer] = []
        self.database_url = config.database_url
        self.redis_url = config.redis_url
        self.log_dir = config.state_dir / "logs"
        self.aws_env: dict[str, str] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Stack:
        if self.config.api:
            _require_free_port(self.config.api_host, self.config.api_port, "DRWAVE_API_PORT")
        if self.config.flower:
            _require_free_port("127.0.0.1", self.config.flower_port, "DRWAVE_FLOWER_PORT")
        if self.config.local_aws:
            _require_free_port("127.0.0.1", self.config.local_aws_port, "DRWAVE_LOCAL_AWS_PORT")
        self.start_servers()
        upgrade(self.database_url)
        if self.config.local_aws:
            self.start_local_aws()
        self.start_scheduler()
        for index in range(self.config.workers):
            self.start_worker(index)
        if self.config.notifier:
            self.start_notifier()
        if self.config.api:
            self.start_api()
        if self.config.flower:
            self.start_flower()
        self.wait_ready()
        return self

    def start_servers(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.database_url is None:
            server = ensure_postgres(self.config.state_dir)
            self.embedded.append(server)
            self.database_url = server.url
        if self.redis_url is None:
            server = ensure_redis(self.config.state_dir)
            self.embedded.append(server)
            self.redis_url = server.url

    def supervise(self, policy: RestartPolicy | None = None) -> Supervisor:
        """Restart the scheduler, workers, notifier, API and Flower when they exit (not the local AWS: its state
        lives in memory); report every process in <state dir>/processes.json."""
        restarters = {
            name: functools.partial(self.spawn, name, *self._commands[name])
            for name in self.processes
            if name in SUPERVISED or name.startswith("worker-")
        }
        self.supervisor = Supervisor(self.processes, restarters, self.config.state_dir, self.log_dir, policy).start()
        return self.supervisor

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()  # first, so nothing is restarted while it stops
            self.supervisor = None
        for name, process in reversed(list(self.processes.items())):
            self._terminate(name, process)
        self.processes.clear()
        for server in self.embedded:
            if server.started:
                server.stop()
        self.embedded.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- processes -----------------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DRWAVE_DATABASE_URL": self.database_url or "",
                "DRWAVE_REDIS_URL": self.redis_url or "",
                "DRWAVE_STATE_DIR": str(self.config.state_dir),
                **self.aws_env,
                **self.config.env,
            }
        )
        return env

    def spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        self._commands[name] = (args, dict(extra_env or {}))
        log_file = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (owned by the child)
        process = subprocess.Popen(
            args,
            env={**self.env, **(extra_env or {})},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        self.processes[name] = process
        return process

    def start_scheduler(self) -> None:
        self.spawn(
            "scheduler",
            [sys.executable, "-m", "services.scheduler"],
            {"DRWAVE_SCHEDULER_CONCURRENCY": str(self.config.scheduler_concurrency)},
        )

    def start_notifier(self) -> None:
        self.spawn("notifier", [sys.executable, "-m", "services.notifier"])

    def start_worker(self, index: int) -> subprocess.Popen:
        return self.spawn(
            f"worker-{index}",
            [sys.executable, "-m", "services.workers"],
            {
                "DRWAVE_WORKER_NAME": f"workers-{index}",
                "DRWAVE_WORKER_CONCURRENCY": str(self.config.worker_concurrency),
            },
        )

    def start_api(self) -> None:
        bind = f"{self.config.api_host}:{self.config.api_port}"
        self.spawn(
            "api",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                GUNICORN_CONFIG,
                "--bind",
                bind,
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
                "services.api.app:create_app()",
            ],
        )

    def start_local_aws(self) -> dict:
        """The local AWS emulator, loaded with the demo estate. Every process started after it reaches it
        through boto3's standard AWS_ENDPOINT_URL, so product code has no test-only branch."""
        from deploy.localaws.seed import load_estate

        port = self.config.local_aws_port
        self.spawn("localaws", [sys.executable, "-m", "deploy.localaws", "serve", "--port", str(port), "--quiet"])
        endpoint = f"http://127.0.0.1:{port}"
        self._wait_for_http(f"{endpoint}/_localaws/health", "local AWS", time.monotonic() + READY_TIMEOUT)
        self.aws_env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        return load_estate(endpoint)

    def start_flower(self) -> None:
        self.spawn(
            "flower",
            [
                sys.executable,
                "-m",
                "celery",
                "--broker",
                self.redis_url or "",
                "flower",
                f"--port={self.config.flower_port}",
                "--address=127.0.0.1",
                f"--basic_auth={self.config.flower_user}:{self.config.flower_password}",
            ],
        )

    @property
    def api_url(self) -> str:
        return f"http://{self.config.api_host}:{self.config.api_port}"

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait for the API's /healthz and for every worker to answer a Celery ping."""
        deadline = time.monotonic() + timeout
        self._check_alive()
        if self.config.api:
            self.wait_for_api(timeout)
        self.wait_for_workers(self.celery_nodes, deadline - time.monotonic())

    @property
    def celery_nodes(self) -> int:
        """Celery nodes the stack runs: the scheduler, the workers and the notifier."""
        return 1 + self.config.workers + (1 if self.config.notifier else 0)

    def wait_for_api(self, timeout: float = READY_TIMEOUT) -> None:
        self._wait_for_http(f"{self.api_url}/healthz", "API", time.monotonic() + timeout)

    def _wait_for_http(self, url: str, what: str, deadline: float) -> None:
        """Until `url` answers 200; fails at once when a process of the stack died meanwhile."""
        while True:
            self._check_alive()
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer {url} in time; see {self.log_dir}")
            time.sleep(0.1)

    def wait_for_workers(self, count: int, timeout: float = READY_TIMEOUT) -> None:
        from shared.messaging import create_celery
        from shared.settings import CommonSettings

        app = create_celery("drwave-stack", CommonSettings(database_url=self.database_url, redis_url=self.redis_url))
        deadline = time.monotonic() + max(timeout, 1)
        try:
            while True:
                self._check_alive()
                replies = app.control.ping(timeout=0.5) or []
                if len(replies) >= count:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(replies)} of {count} Celery nodes answered; see {self.log_dir}")
        finally:
            app.close()

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    @staticmethod
    def _terminate(name: str, process: subprocess.Popen) -> None:
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.debug("%s stopped", name)


class PortInUse(RuntimeError):
    pass


def _require_free_port(host: str, port: int, setting: str) -> None:
    """Refuse to start beside a server that already holds the port (we would silently talk to it)."""
    with socket.socket() as probe:
        probe.settimeout(0.2)
        if probe.connect_ex((host, port)) == 0:
            raise PortInUse(f"{host}:{port} is already in use (another drwave?); stop it or set {setting}")
