"""Where the client finds its API: DRWAVE_URL / DRWAVE_TOKEN, or a profile saved by `drwave login` in
$XDG_CONFIG_HOME/drwave/config.toml (default ~/.config/drwave/config.toml), readable only by its owner."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class Target:
    url: str
    token: str | None
    profile: str | None  # the profile named with --profile, for commands we print back


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path(os.environ.get("HOME") or Path.home()) / ".config")
    return Path(base) / "drwave" / "config.toml"


def load_profiles(path: Path | None = None) -> dict[str, dict[str, str]]:
    path = path or config_path()
    if not path.exists():
        return {}
    return tomllib.loads(path.read_text()).get("profiles", {})


def save_profile(name: str, url: str, token: str, path: Path | None = None) -> Path:
    """Write the profile; the file is created 0600 (its directory 0700) and never group/world-readable."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    profiles = load_profiles(path)
    profiles[name] = {"url": url.rstrip("/"), "token": token}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its old mode otherwise
    with os.fdopen(descriptor, "wb") as file:
        tomli_w.dump({"profiles": profiles}, file)
    return path


def resolve_target(profile: str | None) -> Target:
    """--profile NAME wins; without it DRWAVE_URL / DRWAVE_TOKEN win over the `default` profile."""
    profiles = load_profiles()
    if profile is not None:
        if profile not in profiles:
            raise LookupError(f"no profile {profile!r} in {config_path()}; create it with `drwave login --profile`")
        saved = profiles[profile]
        return Target(saved.get("url", DEFAULT_URL), saved.get("token"), profile)
    saved = profiles.get(DEFAULT_PROFILE, {})
    url = os.environ.get("DRWAVE_URL") or saved.get("url") or DEFAULT_URL
    token = os.environ.get("DRWAVE_TOKEN") or saved.get("token")
    return Target(url.rstrip("/"), token, None)
