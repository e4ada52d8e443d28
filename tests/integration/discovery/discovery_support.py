"""Helpers of the discovery tests: local AWS set-up calls and concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from support import PATIENCE

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111111111111"
PRIMARY, DR = "us-east-1", "us-west-2"


def add_source_servers(endpoint: str, region: str, servers: list[dict[str, Any]], account: str = ACCOUNT) -> list:
    """Register DRS source servers through the local AWS admin API (DRS has no create call)."""
    response = requests.post(
        f"{endpoint}/_localaws/drs/source-servers",
        json={"accountId": account, "region": region, "servers": servers},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["servers"]


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PATIENCE)
    return results


def error_of(response) -> dict:
    """The error object of a failed response, checking its shape."""
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body
    return body["error"]


def wait_until(check: Callable[[], Any], timeout: float = PATIENCE) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.1)
    return value
