"""DRS waves through the real scheduler and workers: launch batches, one start per batch, shared look-ups."""

from __future__ import annotations

import time

from sqlalchemy import text
from support import PATIENCE

from shared.messaging import Publisher, create_celery
from shared.settings import CommonSettings
from shared.store import launch_batches


def batches_of(db, execution_id):
    with db.engine.connect() as conn:
        found = launch_batches.list_for(conn, execution_id)
        members = dict(
            conn.execute(
                text(
                    "SELECT m.batch_id, count(*) FROM launch_batch_members m JOIN launch_batches b ON b.id = m.batch_id"
                    " WHERE b.execution_id = :id GROUP BY m.batch_id"
                ),
                {"id": execution_id},
            ).all()
        )
    return [(b, members[b.id]) for b in found]


def test_a_wave_of_250_servers_starts_three_jobs_and_every_server_launches(api, localaws, stack_db, runs_of):
    servers = localaws.source_servers(*({"hostname": f"host-{n:03}"} for n in range(250)))
    plan = api.plan([{"name": "Servers", "arns": [s["arn"] for s in servers]}])

    execution = api.wait(api.start(plan, mode="drill"))

    assert execution["status"] == "COMPLETED"
    calls = localaws.calls()
    assert calls["drs:StartRecovery"] == 3
    assert calls["drs:DescribeJobs"] < len(servers) / 5  # look-ups grow with jobs, not servers
    batches = batches_of(stack_db, execution["id"])
    assert sorted(size for _, size in batches) == [50, 100, 100]
    runs = runs_of(execution)
    assert {run["status"] for run in runs.values()} == {"SUCCEEDED"}
    assert {run["operationId"] for run in runs.values()} == {b.operation_id for b, _ in batches}
    assert all(run["detail"]["recoveryInstanceID"].startswith("i-") for run in runs.values())


def test_redelivered_tasks_never_start_a_second_job_for_a_batch(api, aws_stack, localaws, stack_db, runs_of):
    localaws.post("config", {"drsJobStepSeconds": 1.5})
    servers = localaws.source_servers(*({"hostname": f"db-{n:03}"} for n in range(150)))
    plan = api.plan([{"name": "Databases", "arns": [s["arn"] for s in servers]}])
    celery = create_celery("test-redeliver", CommonSettings(redis_url=aws_stack.redis_url))
    publisher = Publisher(celery)

    execution_id = api.start(plan, mode="drill")
    ids = _wave_run_ids(stack_db, execution_id)
    for _ in range(3):  # every task delivered three more times while the batches start and run
        for run_id in ids:
            publisher.recover_resource(run_id, "drs")
        time.sleep(0.5)
    execution = api.wait(execution_id)
    celery.close()

    assert execution["status"] == "COMPLETED"
    assert {run["status"] for run in runs_of(execution).values()} == {"SUCCEEDED"}
    assert localaws.calls()["drs:StartRecovery"] == 2
    assert len({run["operationId"] for run in runs_of(execution).values()}) == 2


def test_throttling_half_of_all_calls_fails_no_server_of_the_wave(api, localaws, aws, runs_of):
    servers = localaws.source_servers(*({"hostname": f"app-{n:03}"} for n in range(120)))
    plan = api.plan([{"name": "Apps", "arns": [s["arn"] for s in servers]}])
    localaws.throttle(0.5)

    execution = api.wait(api.start(plan, mode="drill"))

    assert execution["status"] == "COMPLETED"
    assert {run["status"] for run in runs_of(execution).values()} == {"SUCCEEDED"}
    assert sum(localaws.throttled().values()) > 0
    # Exactly one DRS job per batch (100 + 20 servers). Counting jobs, not unthrottled StartRecovery calls:
    # a start slowed by throttled retries past the claim timeout is re-claimed by another member, and one
    # of the two calls is then answered ConflictException and adopts the other's job (by its batch tag).
    localaws.clear_faults()
    ours = {s["sourceServerID"] for s in servers}
    jobs = [
        job
        for page in aws("drs").get_paginator("describe_jobs").paginate()
        for job in page["items"]
        if job["type"] == "LAUNCH" and ours & {p["sourceServerID"] for p in job["participatingServers"]}
    ]
    assert sorted(len(job["participatingServers"]) for job in jobs) == [20, 100]
    assert len({run["detail"]["jobID"] for run in runs_of(execution).values()}) == 2


def _wave_run_ids(db, execution_id) -> list[int]:
    """The execution's resource run ids, once its first wave has been dispatched."""
    deadline = time.monotonic() + PATIENCE
    while True:
        with db.engine.connect() as conn:
            ids = list(
                conn.scalars(text("SELECT id FROM resource_runs WHERE execution_id = :id"), {"id": execution_id})
            )
            started = conn.scalar(
                text("SELECT count(*) FROM launch_batches WHERE execution_id = :id"), {"id": execution_id}
            )
        if ids and started:
            return ids
        assert time.monotonic() < deadline, "the wave was not dispatched"
        time.sleep(0.05)
