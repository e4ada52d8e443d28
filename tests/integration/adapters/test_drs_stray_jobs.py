"""drwave never loses track of a DRS job it started (docs/architecture.md, "Launch batches"), on the local
AWS with StartRecovery answered late:

* through the workers, a start slower than the claim timeout keeps its claim: one job, and the drill's
  cleanup leaves no instance;
* in the worker's own code on Postgres, a start whose claim is taken over all the same (a member that
  deems every claim stale) keeps the job it started on record as a stray, and the cleanup terminates
  the drill instances of every job — the one on record, the stray, any tagged with the drill.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from support import PATIENCE, insert_execution

from services.workers.recovery import Recovery
from services.workers.work import Envelope
from shared.domain.states import ExecutionStatus, WaveStatus
from shared.store import events, executions, launch_batches, plans, resources, waves
from shared.unit_of_work import sql_units

LATE = 12.0  # StartRecovery's delay: four times the aws_stack's claim timeout (DRWAVE_CLAIM_TIMEOUT=3)


def launch_jobs(aws, servers: list[dict[str, Any]]) -> set[str]:
    """The LAUNCH jobs in the local AWS that involve these servers."""
    ours = {s["sourceServerID"] for s in servers}
    return {
        job["jobID"]
        for page in aws("drs").get_paginator("describe_jobs").paginate()
        for job in page["items"]
        if job["type"] == "LAUNCH" and ours & {p["sourceServerID"] for p in job["participatingServers"]}
    }


def drill_instances(aws, servers: list[dict[str, Any]]) -> list[str]:
    ours = {s["sourceServerID"] for s in servers}
    return [
        i["recoveryInstanceID"]
        for i in aws("drs").describe_recovery_instances()["items"]
        if i["sourceServerID"] in ours and i["isDrill"]
    ]


def test_a_drill_whose_start_outlasts_the_claim_timeout_starts_one_job_and_its_cleanup_leaves_no_instance(
    api, localaws, aws, stack_db, runs_of
):
    servers = localaws.source_servers(*({"hostname": f"slow-{n}"} for n in range(3)))
    plan = api.plan([{"name": "Slow start", "arns": [s["arn"] for s in servers]}])
    localaws.slow(LATE, calls=1, service="drs", operation="StartRecovery")

    drill = api.wait(api.start(plan, mode="drill"))
    cleanup = api.wait(api.start(plan, mode="drill", phase="cleanup", sourceExecutionId=drill["id"]))

    assert drill["status"] == "COMPLETED" and {r["status"] for r in runs_of(drill).values()} == {"SUCCEEDED"}
    with stack_db.engine.connect() as conn:
        (batch,) = launch_batches.list_for(conn, drill["id"])
    assert batch.start_attempts == 1  # nobody re-claimed the start while it waited for AWS
    assert launch_jobs(aws, servers) == {batch.operation_id}
    assert cleanup["status"] == "COMPLETED" and {r["status"] for r in runs_of(cleanup).values()} == {"SUCCEEDED"}
    assert drill_instances(aws, servers) == []


# --- the race forced in the worker's code ----------------------------------------------------------


def execution_of(db, arns: list[str], phase: str = "instantiate", source: str | None = None) -> tuple[str, list[int]]:
    """An execution of DRS runs in one wave, with its launch batches, finished as far as the scheduler
    is concerned (so only this test's steps move its runs); its id and run ids."""
    with db.engine.begin() as conn:
        plan = plans.create(conn, name=f"stray {uuid.uuid4().hex[:8]}", description=None, waves=[], created_by="t")
        row = insert_execution(conn, plan, {1: arns}, adapter="drs", timeout=3600, phase=phase, source=source)
        executions.move(conn, row.id, ExecutionStatus.PENDING, ExecutionStatus.FAILED, actor="test", message="t")
        # a worker claims runs of a started wave only (a PENDING run of a wave not started is a stale task's)
        waves.move(conn, row.id, 1, WaveStatus.PENDING, WaveStatus.RUNNING, actor="test", message="w1 started")
        runs = resources.for_wave(conn, row.id, 1)
        launch_batches.create_for_wave(conn, row.id, 1, runs)
    return row.id, [run.id for run in runs]


def worker(db, adapters, claim_timeout: float) -> Recovery:
    return Recovery(sql_units(db), adapters, poll_interval=0.3, claim_timeout=claim_timeout, error_backoff=0.3)


def until_finished(recovery: Recovery, run_id: int) -> str:
    """Step a run as its task would, until it ends; its status."""
    deadline = time.monotonic() + PATIENCE
    while True:
        result = recovery.step(run_id)
        if isinstance(result, Envelope):
            return result.status
        assert time.monotonic() < deadline, f"run {run_id} never finished"
        time.sleep(min(result.after, 0.3))


def test_a_start_whose_claim_is_taken_over_keeps_its_job_on_record_and_the_cleanup_terminates_every_instance(
    db, adapters, localaws, aws
):
    servers = localaws.source_servers(*({"hostname": f"race-{n}"} for n in range(2)))
    drill_id, (first_run, second_run) = execution_of(db, [s["arn"] for s in servers])
    localaws.slow(LATE, calls=1, service="drs", operation="StartRecovery")
    # the patient claimant beats every 20 s; the hasty member deems a claim silent after 1 s (as if beats got lost)
    patient, hasty = worker(db, adapters, claim_timeout=60), worker(db, adapters, claim_timeout=1)

    first_status: list[str] = []
    first = threading.Thread(target=lambda: first_status.append(until_finished(patient, first_run)))
    first.start()
    deadline = time.monotonic() + PATIENCE
    while localaws.calls().get("drs:StartRecovery", 0) < 1:  # the first claimant is inside AWS, held there
        assert time.monotonic() < deadline, "the first start never reached AWS"
        time.sleep(0.05)
    hasty_status = until_finished(hasty, second_run)  # deems the held claim stale: re-claims, starts again
    first.join()

    with db.engine.connect() as conn:
        (batch,) = launch_batches.list_for(conn, drill_id)
        kinds = [event.kind for event in events.list_for(conn, drill_id)]
    assert hasty_status == "SUCCEEDED" and first_status == ["SUCCEEDED"] and batch.start_attempts == 2
    strays = batch.detail["strays"]
    assert [s["attempt"] for s in strays] == [1]  # the first claim's start, kept on record
    assert "batch.stray" in kinds
    on_record = {batch.operation_id, *(s["operationId"] for s in strays)}
    assert launch_jobs(aws, servers) <= on_record

    _, cleanup_runs = execution_of(db, [s["arn"] for s in servers], phase="cleanup", source=drill_id)
    cleaner = worker(db, adapters, claim_timeout=60)

    assert [until_finished(cleaner, run_id) for run_id in cleanup_runs] == ["SUCCEEDED", "SUCCEEDED"]
    assert drill_instances(aws, servers) == []
