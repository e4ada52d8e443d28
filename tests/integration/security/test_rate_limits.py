"""Per-principal rate limits counted in Redis: over the limit is 429 RATE_LIMITED with Retry-After,
other principals are not affected, /healthz is never limited, and separate API processes share the count."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import requests

from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens

LIMIT = "5/hour"  # limits' fixed window starts at a principal's first request, so no window ends mid-test


@pytest.fixture()
def principal(db):
    """principal() -> Authorization headers of a fresh operator token (a principal no other test used)."""

    def make() -> dict[str, str]:
        with db.engine.begin() as conn:
            token = tokens.create(conn, f"limited-{uuid.uuid4().hex[:8]}", Role.OPERATOR)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture(scope="module")
def limited(make_app):
    return make_app(rate_limit=LIMIT).test_client()


@pytest.fixture(scope="module")
def limited_api(servers):
    """The API under gunicorn (two worker processes) with the same low limit, on the session's Redis."""
    port = free_port()
    env = {**servers.env, "DRWAVE_RATE_LIMIT": LIMIT}
    log = open(servers.log_dir / "api-rate-limited.log", "ab")  # noqa: SIM115 (owned by the child)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "services.api.app:create_app()",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # generous: a cold start on a loaded machine is slow
    while True:
        assert process.poll() is None, (servers.log_dir / "api-rate-limited.log").read_text()[-2000:]
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the rate-limited API did not come up"
        time.sleep(0.2)
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_a_principal_over_the_limit_gets_429_with_retry_after(limited, principal):
    headers = principal()
    assert [limited.get("/v1/me", headers=headers).status_code for _ in range(5)] == [200] * 5
    refused = limited.get("/v1/executions", headers=headers)  # one budget across endpoints
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "RATE_LIMITED"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3600 and error["details"]["retryAfterSeconds"] == retry_after


def test_other_principals_are_not_affected(limited, principal):
    noisy, quiet = principal(), principal()
    for _ in range(6):
        limited.get("/v1/me", headers=noisy)
    assert limited.get("/v1/me", headers=noisy).status_code == 429
    assert limited.get("/v1/me", headers=quiet).status_code == 200


def test_healthz_is_never_limited(limited, principal):
    headers = principal()
    for _ in range(6):
        limited.get("/v1/me", headers=headers)
    assert {limited.get("/healthz", headers=headers).status_code for _ in range(50)} == {200}
    assert {limited.get("/healthz").status_code for _ in range(50)} == {200}


def test_api_processes_share_one_count_per_principal_in_redis(limited, limited_api, principal):
    headers = principal()
    assert [limited.get("/v1/me", headers=headers).status_code for _ in range(5)] == [200] * 5
    over = requests.get(f"{limited_api}/v1/me", headers=headers, timeout=10)
    assert over.status_code == 429 and over.json()["error"]["code"] == "RATE_LIMITED"

    fresh = principal()
    codes = [requests.get(f"{limited_api}/v1/me", headers=fresh, timeout=10).status_code for _ in range(8)]
    assert sorted(codes) == [200] * 5 + [429] * 3  # across both gunicorn workers


def test_with_redis_down_requests_are_served_unlimited(make_app, principal):
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    client = make_app(rate_limit=LIMIT, redis_url=down).test_client()
    headers = principal()
    assert [client.get("/v1/me", headers=headers).status_code for _ in range(7)] == [200] * 7
