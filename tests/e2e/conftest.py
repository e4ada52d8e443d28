from __future__ import annotations

import pytest

from shared.embedded import free_port


@pytest.fixture(scope="session")
def api_url(stack):
    """The real API under gunicorn, on a free port, beside the session's scheduler and workers."""
    stack.config.api_port = free_port()
    stack.start_api()
    stack.wait_for_api()
    return stack.api_url
