"""The demo drills `make run` shows, driven entirely through the REST API as a chat bot or an on-call
engineer would:

- `run_estate_demo`: the seeded demo estate on the local AWS — a tag-driven, auto-waved plan for
  Customer ABCD / Production in the DR region, drilled with the real adapters (DRS, Aurora, ECS, Lambda,
  Route 53), a Lambda check before wave 1, an approval gate before wave 2, an SSM smoke test after it,
  then a cleanup execution that removes the drill's artefacts (the actions run again, told the phase);
- `run_demo`: a 3-wave plan of simulated resources (no AWS at all).
"""

from __future__ import annotations

import time
from pathlib import Path

import requests

SIM = "arn:drwave:simulated:us-west-2:123456789012:resource"
DEMO_GROUPS = {
    "Demo databases": [f"{SIM}/orders-db/1500ms", f"{SIM}/billing-db/1200ms", f"{SIM}/users-db/900ms"],
    "Demo app tier": [
        f"{SIM}/orders-api/800ms",
        f"{SIM}/billing-api/1000ms",
        f"{SIM}/users-api/700ms",
        f"{SIM}/report-worker/1300ms/fail",
    ],
    "Demo web tier": [f"{SIM}/storefront/500ms", f"{SIM}/admin-portal/400ms"],
}
DEMO_PLAN = "Demo drill plan"
TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}


class Api:
    def __init__(self, base_url: str, token: str):
        self.base = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()


def ensure_demo_plan(api: Api) -> str:
    plans = {p["name"]: p["id"] for p in api.ok("GET", "/v1/recovery-plans")["items"]}
    if DEMO_PLAN in plans:
        return plans[DEMO_PLAN]
    groups = {g["name"]: g["id"] for g in api.ok("GET", "/v1/protection-groups")["items"]}
    for name, arns in DEMO_GROUPS.items():
        if name not in groups:
            body = {"name": name, "region": "us-west-2", "selection": {"resourceArns": arns}}
            groups[name] = api.ok("POST", "/v1/protection-groups", json=body)["id"]
    waves = [
        {"name": "Databases", "protectionGroupIds": [groups["Demo databases"]]},
        {"name": "App tier", "protectionGroupIds": [groups["Demo app tier"]], "pauseBeforeWave": True},
        {"name": "Web tier", "protectionGroupIds": [groups["Demo web tier"]]},
    ]
    return api.ok("POST", "/v1/recovery-plans", json={"name": DEMO_PLAN, "waves": waves})["id"]


ESTATE_PLAN = "ABCD Production DR drill"
ESTATE_SELECTION = {"region": "us-west-2", "tags": {"Customer": "ABCD", "Environment": "Production"}}


# The estate's runbooks (deploy/localaws/demo-estate.yaml, "runbooks"): a check before wave 1, a smoke test
# after wave 2; each is told the execution, its mode and phase (docs/architecture.md, "Wave actions").
DR_CHECK = "arn:aws:lambda:us-west-2:123456789012:function:drwave-demo-dr-check"
SMOKE_TEST = "drwave-demo-smoke-test"
ESTATE_ACTIONS = [
    {"wave": 1, "preActions": [{"type": "lambda", "functionArn": DR_CHECK, "payload": {"check": "dr-region"}}]},
    {
        "wave": 2,
        "postActions": [
            {"type": "ssm-automation", "documentName": SMOKE_TEST, "parameters": {"Target": "app.abcd.example.com"}}
        ],
    },
]


def ensure_estate_plan(api: Api) -> str:
    body = {
        "name": ESTATE_PLAN,
        "autoWaves": {
            **ESTATE_SELECTION,
            "pauseBeforeWaves": [2],
            "timeoutSeconds": 600,
            "waveActions": ESTATE_ACTIONS,
        },
    }
    plans = {p["name"]: p for p in api.ok("GET", "/v1/recovery-plans")["items"]}
    current = plans.get(ESTATE_PLAN)
    if current is None:
        return api.ok("POST", "/v1/recovery-plans", json=body)["id"]
    if not (current.get("autoWaves") or {}).get("waveActions"):  # a plan an earlier `make run` made
        api.ok("PUT", f"/v1/recovery-plans/{current['id']}", json={**body, "version": current["version"]})
    return current["id"]


def run_estate_demo(base_url: str, token: str, out=print, reports_dir: Path | None = None) -> tuple[dict, dict]:
    """Drill the seeded estate, resume at the gate, write the drill's HTML report to `reports_dir`, then
    clean the drill up. Returns both executions."""
    api = Api(base_url, token)
    plan_id = ensure_estate_plan(api)
    preview = api.ok("POST", f"/v1/recovery-plans/{plan_id}/validate")
    out(f"demo: {preview['message']}")
    drill = _execute(api, plan_id, {"mode": "drill", "reason": "make run demo drill"}, out)
    if reports_dir is not None:
        write_report(api, drill["id"], reports_dir, out)
    out(f"demo: cleaning up the drill {drill['id']} (waves in descending order) ...")
    cleanup = _execute(api, plan_id, {"phase": "cleanup", "sourceExecutionId": drill["id"]}, out)
    return drill, cleanup


def run_demo(base_url: str, token: str, out=print, reports_dir: Path | None = None) -> dict:
    api = Api(base_url, token)
    execution = _execute(api, ensure_demo_plan(api), {"mode": "drill", "reason": "make run demo"}, out)
    if reports_dir is not None:
        write_report(api, execution["id"], reports_dir, out)
    return execution


def write_report(api: Api, execution_id: str, reports_dir: Path, out=print) -> Path:
    """Save the execution's self-contained HTML report (GET /v1/executions/{id}/report?format=html)."""
    response = api.call("GET", f"/v1/executions/{execution_id}/report?format=html")
    if response.status_code != 200:
        raise RuntimeError(f"report of {execution_id}: {response.status_code} {response.text[:200]}")
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"{execution_id}.html"
    path.write_bytes(response.content)
    out(f"demo: report of {execution_id} written to {path.resolve()}")
    return path


def _execute(api: Api, plan_id: str, body: dict, out) -> dict:
    """Start the plan, show per-wave progress, resume at each approval gate, print a summary."""
    response = api.call("POST", "/v1/executions", json={"planId": plan_id, **body})
    if response.status_code == 409:  # a demo left running by an interrupted `make run`
        other = response.json()["error"]["details"]["executionId"]
        out(f"demo: cancelling {other}, left active by an earlier run")
        api.call("POST", f"/v1/executions/{other}/cancel")
        _wait(api, other, lambda e: e["status"] in TERMINAL)
        response = api.call("POST", "/v1/executions", json={"planId": plan_id, **body})
    started = response.json()
    if response.status_code != 202:
        raise RuntimeError(f"could not start the demo: {started}")
    execution_id = started["execution"]["id"]
    out(f"demo: {started['message']}")
    seen: dict[int, str] = {}
    while True:
        execution = _wait(api, execution_id, lambda e: e["status"] in TERMINAL | {"PAUSED"}, seen, out)
        if execution["status"] != "PAUSED":
            break
        out(f"demo: {execution_id} is PAUSED before wave {execution['pausedBeforeWave']} (approval gate)")
        time.sleep(1)
        resumed = api.ok("POST", f"/v1/executions/{execution_id}/resume")
        out(f"demo: POST /v1/executions/{execution_id}/resume -> {resumed['message']}")
    _summary(execution, out)
    return execution


def _wait(api: Api, execution_id: str, done, seen: dict | None = None, out=print, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        execution = api.ok("GET", f"/v1/executions/{execution_id}")
        if seen is not None:
            for wave in execution["waves"]:
                line = f"{wave['status']} {wave['counts']}"
                if seen.get(wave["number"]) != line:
                    seen[wave["number"]] = line
                    counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(wave["counts"].items()))
                    out(f"  wave {wave['number']} {wave['name']!r:<12} {wave['status']:<24} {counts}")
        if done(execution):
            return execution
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_id} still {execution['status']} after {timeout:.0f}s")
        time.sleep(0.25)


def _summary(execution: dict, out) -> None:
    out(f"demo: {execution['id']} finished {execution['status']} ({execution.get('statusReason') or ''})")
    for wave in execution["waves"]:
        out(f"  wave {wave['number']} {wave['name']!r}: {wave['status']}")
        for resource in wave["resources"]:
            error = f"  error: {resource['error']}" if resource["error"] else ""
            name = resource["arn"]
            if resource.get("kind") == "action":  # a pre- or post-wave action
                name = f"{resource['phase']}-wave {resource['type']} {name.rsplit(':', 1)[-1]}"
            out(f"    {resource['status']:<10} {name}{error}")
