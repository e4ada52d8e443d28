"""Embedded PostgreSQL: initdb once, start on a free loopback port, reuse a running server."""

from __future__ import annotations

import logging
import signal
import subprocess
from pathlib import Path

from shared.embedded.postgres_space import PostgresSpace, postgres_space
from shared.embedded.processes import READY_TIMEOUT, EmbeddedServer, free_port, pid_alive, port_open, wait_for_port

log = logging.getLogger(__name__)

DATABASE = "drwave"


def ensure_postgres(state_dir: Path) -> EmbeddedServer:
    state_dir.mkdir(parents=True, exist_ok=True)
    data_dir = (state_dir / "pg").resolve()
    port_file = state_dir / "pg.port"
    running = _running_postmaster(data_dir)
    if running is not None and port_file.exists() and port_open(port := int(port_file.read_text())):
        return EmbeddedServer(_url(port), port, started=False, pid=running, stop_signal=signal.SIGINT)

    space = postgres_space(state_dir, data_dir)
    if not (data_dir / "PG_VERSION").exists():
        log.info("initialising PostgreSQL data directory %s", data_dir)
        _run(space, ["initdb", "-D", str(space.data_dir), "--auth=trust", "-U", "postgres", "--encoding=utf8"])
    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -k {space.data_dir} -c max_connections=400 -c shared_buffers=128MB"
    _run(
        space,
        [
            "pg_ctl",
            "-D",
            str(space.data_dir),
            "-w",
            "-t",
            str(int(READY_TIMEOUT)),
            "-o",
            options,
            "-l",
            str(space.data_dir / "server.log"),
            "start",
        ],
    )
    port_file.write_text(str(port))
    wait_for_port(port, "PostgreSQL")
    _create_database(port)
    pid = _running_postmaster(data_dir)
    if pid is None:
        raise RuntimeError(f"PostgreSQL started on port {port} but wrote no postmaster.pid in {data_dir}")
    return EmbeddedServer(_url(port), port, started=True, pid=pid, stop_signal=signal.SIGINT)


def _running_postmaster(data_dir: Path) -> int | None:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    return pid if pid_alive(pid) else None


def _run(space: PostgresSpace, argv: list[str]) -> None:
    command = space.command([str(space.bin_dir / argv[0]), *argv[1:]])
    result = subprocess.run(command, capture_output=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        raise RuntimeError(f"{argv[0]} exited with {result.returncode}: {output}")


def _url(port: int) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}"


def _create_database(port: int) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")
