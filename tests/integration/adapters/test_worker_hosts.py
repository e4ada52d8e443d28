"""Adapters spread over hosts: two worker processes with their own node names, one consuming the DRS and
Aurora queues, the other the rest (as `DRWAVE_WORKER_QUEUES` or the compose file's per-adapter worker
services set them). Killing one host's workers mid-wave loses nothing: the other host goes on, and when
the killed host comes back (its supervisor restarts it) every resource ends once."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import text
from support import sim

from services.stack import Stack
from shared.db.engine import Database
from shared.messaging import create_celery
from shared.settings import CommonSettings

DR = "us-west-2"
HOSTS = ["drs,aurora", "ecs,lambda,route53,simulated"]
HOSTS_REDIS_DB = 8


@pytest.fixture(scope="module")
def hosts(stack_config, tmp_path_factory):
    stack = Stack(
        stack_config(
            tmp_path_factory.mktemp("drwave-hosts"),
            HOSTS_REDIS_DB,
            workers=2,
            worker_concurrency=2,
            worker_queues=HOSTS,
        )
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def _queues_by_node(stack: Stack) -> dict[str, set[str]]:
    app = create_celery("test-hosts", CommonSettings(redis_url=stack.redis_url))
    try:
        deadline = time.monotonic() + 60
        while True:
            answer = app.control.inspect(timeout=2).active_queues() or {}
            nodes = {node.split("@")[0]: {q["name"] for q in queues} for node, queues in answer.items()}
            if {"workers-0", "workers-1"} <= set(nodes) or time.monotonic() > deadline:
                return nodes
    finally:
        app.close()


def _runs(db: Database, execution_id: str) -> list:
    with db.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT arn, adapter, status, start_attempts FROM resource_runs"
                    " WHERE execution_id = :id ORDER BY id"
                ),
                {"id": execution_id},
            )
        )


def _all_started_and_one_in_progress(runs, arns: list[str]) -> bool:
    """None of `arns` still to start or half-started (a pending one could start the moment after), one polling."""
    statuses = [r.status for r in runs if r.arn in arns]
    return "IN_PROGRESS" in statuses and not {"PENDING", "STARTING"} & set(statuses)


def _wait(check, timeout: float = 120, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"{what} not met after {timeout}s"
        time.sleep(0.2)
    return value


def test_each_host_consumes_only_the_adapter_queues_it_was_given(hosts):
    nodes = _queues_by_node(hosts)

    assert nodes["workers-0"] == {"workers.drs", "workers.aurora"}
    assert nodes["workers-1"] == {"workers.ecs", "workers.lambda", "workers.route53", "workers.simulated"}


def test_killing_one_hosts_workers_mid_wave_loses_nothing(hosts, api_for, localaws):
    api = api_for(hosts)
    db = Database(hosts.database_url)
    servers = localaws.source_servers(*({"hostname": f"hosts-{n}"} for n in range(3)))
    slow = [sim(f"app{n}", 3000, region=DR) for n in range(4)]
    plan = api.plan(
        [
            {"name": "Mixed", "arns": [s["arn"] for s in servers] + slow},
            {"name": "After", "arns": [sim("web", region=DR)]},
        ]
    )
    localaws.post("calls/reset")
    execution_id = api.start(plan, mode="drill")
    try:
        _wait(  # killed mid-start, a start is re-made (at least once); this test kills between starts and polls
            lambda: _all_started_and_one_in_progress(_runs(db, execution_id), slow),
            what="every simulated resource of the wave started on the second host, one in progress",
        )
        victim = hosts.processes["worker-1"]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        polling = {r.arn for r in _runs(db, execution_id) if r.arn in slow and r.status == "IN_PROGRESS"}

        _wait(  # the first host is not affected: its DRS servers finish while the second host is down
            lambda: all(r.status == "SUCCEEDED" for r in _runs(db, execution_id) if r.adapter == "drs"),
            what="DRS servers finished on the first host",
        )
        assert not any(r.status == "SUCCEEDED" for r in _runs(db, execution_id) if r.arn in polling)
        hosts.start_worker(1)  # as the host's supervisor (compose `restart:`) would

        done = api.wait(execution_id, timeout=180)
        assert done["status"] == "COMPLETED"
        runs = _runs(db, execution_id)
        assert [r.status for r in runs] == ["SUCCEEDED"] * 8
        assert [r.start_attempts for r in runs] == [1] * 8
        assert localaws.calls()["drs:StartRecovery"] == 1
    finally:
        if hosts.processes["worker-1"].poll() is not None:
            hosts.start_worker(1)
        db.dispose()
