"""Constants and helpers of the readiness tests: the local AWS admin API and the stack's REST API."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from support import ACCOUNT, DR, PRIMARY, TERMINAL, execution_in

STEP_SECONDS = 0.2
READINESS_INTERVAL = 2
STACK_REDIS_DB = 9


class LocalAwsAdmin:
    """The ``/_localaws`` admin API."""

    def __init__(self, endpoint: str) -> None:
        self.base = f"{endpoint}/_localaws"

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = requests.post(f"{self.base}/{path}", json=payload, timeout=30)
        response.raise_for_status()
        return response.json()

    def source_servers(self, *servers: dict[str, Any], region: str = DR) -> list[dict[str, Any]]:
        specs = [{"originRegion": PRIMARY, **s} for s in servers]
        return self.post("drs/source-servers", {"accountId": ACCOUNT, "region": region, "servers": specs})["servers"]

    def replication(self, server_id: str, state: str | None = None, lag: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"accountId": ACCOUNT, "region": DR}
        if state is not None:
            body["replicationState"] = state
        if lag is not None:
            body["lagSeconds"] = lag
        response = requests.patch(f"{self.base}/drs/source-servers/{server_id}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()


class Api:
    """The stack's REST API as an operator (or chat bot) calls it."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.http.request(method, self.base + path, json=body, timeout=60)

    def post(self, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> dict[str, Any]:
        response = self.call("POST", path, body if body is not None else {})
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, path: str, expect: int = 200) -> dict[str, Any]:
        response = self.call("GET", path)
        assert response.status_code == expect, response.text
        return response.json()

    def group(self, arns: list[str], region: str = DR, **extra: Any) -> str:
        body = {"name": f"group {uuid.uuid4().hex[:8]}", "region": region, "selection": {"resourceArns": arns}, **extra}
        return self.post("/v1/protection-groups", body, expect=201)["id"]

    def plan(self, *waves: list[str], region: str = DR) -> str:
        specs = [
            {"name": f"wave {n}", "protectionGroupIds": [self.group(arns, region)]} for n, arns in enumerate(waves, 1)
        ]
        body = {"name": f"plan {uuid.uuid4().hex[:8]}", "waves": specs}
        return self.post("/v1/recovery-plans", body, expect=201)["id"]

    def start(self, plan_id: str, **extra: Any) -> str:
        return self.post("/v1/executions", {"planId": plan_id, **extra}, expect=202)["execution"]["id"]

    def wait(self, execution_id: str, timeout: float = 120) -> dict[str, Any]:
        return execution_in(lambda: self.get(f"/v1/executions/{execution_id}"), TERMINAL, timeout)


def sim_arn(name: str, ms: int = 0, region: str = DR) -> str:
    """A simulated resource (in the DR Region by default) that takes ``ms`` to recover."""
    arn = f"arn:drwave:simulated:{region}:{ACCOUNT}:resource/{name}-{uuid.uuid4().hex[:8]}"
    return arn + (f"/{ms}ms" if ms else "")
