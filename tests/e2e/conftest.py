from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.embedded import free_port

DRWAVE = str(Path(sys.executable).parent / "drwave")


@pytest.fixture(scope="session")
def api_url(stack):
    """The real API under gunicorn, on a free port, beside the session's scheduler and workers."""
    stack.config.api_port = free_port()
    stack.start_api()
    stack.wait_for_api()
    return stack.api_url


@pytest.fixture()
def drwave(api_url, tmp_path, token_for):
    """drwave(*args) -> CompletedProcess of the real command, with DRWAVE_URL/DRWAVE_TOKEN of an operator
    and HOME in tmp (``drwave.env``, ``drwave.command`` for a process of one's own)."""
    token = token_for("operator")["Authorization"].split(" ", 1)[1]
    env = {**os.environ, "HOME": str(tmp_path), "DRWAVE_URL": api_url, "DRWAVE_TOKEN": token}
    env.pop("XDG_CONFIG_HOME", None)

    def run(*args: str, **overrides: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [DRWAVE, *args],
            env={**env, **overrides},
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )

    run.env = env
    run.command = DRWAVE
    return run
