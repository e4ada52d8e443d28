from __future__ import annotations

import time

import pytest
import requests

from shared.embedded import free_port


@pytest.fixture(scope="session")
def api_url(stack):
    """The real API under gunicorn, on a free port, beside the session's scheduler and workers."""
    stack.config.api_port = free_port()
    stack.start_api()
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{stack.api_url}/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "API did not come up"
        time.sleep(0.1)
    return stack.api_url
