"""Nothing is lost: a killed worker, a lost publish, a lost chord callback or a lost task message all
end with the execution finished in Postgres and every resource started once."""

from __future__ import annotations

import os
import signal
import time

from sqlalchemy import text
from support import PATIENCE, TERMINAL, create_plan, insert_execution, sim, start, wait_for

from shared.domain.states import ExecutionStatus, ResourceStatus, WaveStatus
from shared.messaging import create_celery
from shared.settings import CommonSettings
from shared.store import executions, plans, resources, waves


def start_attempts(db, execution_id: str) -> list[int]:
    with db.engine.connect() as conn:
        return (
            conn.execute(
                text("SELECT start_attempts FROM resource_runs WHERE execution_id = :id ORDER BY id"),
                {"id": execution_id},
            )
            .scalars()
            .all()
        )


def worker_holding_tasks(stack) -> str:
    """The name of a worker process that holds (scheduled or active) recovery tasks right now."""
    app = create_celery("test-inspect", CommonSettings(database_url=stack.database_url, redis_url=stack.redis_url))
    try:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            inspect = app.control.inspect(timeout=1)
            held = {**(inspect.scheduled() or {}), **{k: v for k, v in (inspect.active() or {}).items() if v}}
            for node, tasks in held.items():
                if tasks and node.startswith("workers-"):
                    return "worker-" + node.split("@")[0].removeprefix("workers-")
            time.sleep(0.2)
    finally:
        app.close()
    raise AssertionError("no worker holds recovery tasks")


def test_sigkill_of_a_worker_mid_wave_still_finishes_every_resource_once(stack, client, admin, db):
    plan = create_plan(
        client,
        admin,
        [
            # long enough that a worker still holds them when inspected on a loaded machine
            {"name": "db", "arns": [sim(f"db{i}", 8000) for i in range(6)]},
            {"name": "app", "arns": [sim("app")]},
        ],
    )
    execution_id = start(client, admin, plan)
    victim = worker_holding_tasks(stack)
    os.killpg(stack.processes[victim].pid, signal.SIGKILL)
    stack.processes[victim].wait(timeout=PATIENCE)
    try:
        done = wait_for(client, admin, execution_id, TERMINAL)
        assert done["status"] == "COMPLETED"
        assert all(r["status"] == "SUCCEEDED" for w in done["waves"] for r in w["resources"])
        assert start_attempts(db, execution_id) == [1] * 7
    finally:
        stack.start_worker(int(victim.split("-")[1]))
        stack.wait_for_workers(stack.celery_nodes)


def _plan_row(client, admin, db, waves_spec):
    plan_id = create_plan(client, admin, waves_spec)
    with db.engine.connect() as conn:
        return plans.get(conn, plan_id)


def _insert_execution(db, plan, arns_by_wave: dict[int, list[str]]) -> str:
    with db.engine.begin() as conn:
        return insert_execution(conn, plan, arns_by_wave).id


def test_an_execution_whose_start_message_was_lost_is_started_by_the_reconciler(stack, client, admin, db):
    plan = _plan_row(client, admin, db, [{"name": "db", "arns": [sim("db")]}])
    execution_id = _insert_execution(db, plan, {1: [sim("db")]})
    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"


def test_a_wave_whose_chord_callback_was_lost_is_advanced_by_the_reconciler(stack, client, admin, db):
    plan = _plan_row(client, admin, db, [{"name": "db", "arns": [sim("db")]}])
    execution_id = _insert_execution(db, plan, {1: [sim("db")], 2: [sim("app")]})
    with db.engine.begin() as conn:  # wave 1 ran to the end, but no callback will ever arrive
        executions.move(conn, execution_id, ExecutionStatus.PENDING, ExecutionStatus.RUNNING, actor="test", message="t")
        waves.move(conn, execution_id, 1, WaveStatus.PENDING, WaveStatus.RUNNING, actor="test", message="t")
        run = resources.for_wave(conn, execution_id, 1)[0]
        resources.move(conn, run.id, ResourceStatus.PENDING, ResourceStatus.STARTING, actor="test")
        resources.move(
            conn,
            run.id,
            ResourceStatus.STARTING,
            ResourceStatus.IN_PROGRESS,
            actor="test",
            values={"operation_id": "sim-lost"},
        )
        resources.move(conn, run.id, ResourceStatus.IN_PROGRESS, ResourceStatus.SUCCEEDED, actor="test")
    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    assert [w["status"] for w in done["waves"]] == ["SUCCEEDED", "SUCCEEDED"]


def test_a_resource_whose_task_message_was_lost_is_published_again(stack, client, admin, db):
    plan = _plan_row(client, admin, db, [{"name": "db", "arns": [sim("db")]}])
    execution_id = _insert_execution(db, plan, {1: [sim("db")]})
    with db.engine.begin() as conn:  # the wave was dispatched, but its task message vanished
        executions.move(conn, execution_id, ExecutionStatus.PENDING, ExecutionStatus.RUNNING, actor="test", message="t")
        waves.move(conn, execution_id, 1, WaveStatus.PENDING, WaveStatus.RUNNING, actor="test", message="t")
    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    assert start_attempts(db, execution_id) == [1]
