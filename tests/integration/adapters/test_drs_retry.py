"""Retry (issue 12) with the real DRS adapter against the local AWS: only the failed server is started
again, in a launch batch made of it alone."""

from __future__ import annotations

from test_drs_waves_through_workers import batches_of

FAIL_LAUNCH = "localaws:fail-launch"


def test_a_retry_starts_exactly_one_new_job_for_the_failed_servers_batch(api, localaws, aws, stack_db, runs_of):
    broken, *healthy = localaws.source_servers(
        {"hostname": "db-broken", "tags": {FAIL_LAUNCH: "true"}},
        {"hostname": "db-ok-1"},
        {"hostname": "db-ok-2"},
    )
    (app,) = localaws.source_servers({"hostname": "app-1"})
    plan = api.plan(
        [{"name": "Databases", "arns": [s["arn"] for s in (broken, *healthy)]}, {"name": "App", "arns": [app["arn"]]}]
    )
    first = api.wait(api.start(plan, mode="drill"))
    assert first["status"] == "COMPLETED_WITH_FAILURES"
    assert runs_of(first)[broken["arn"]]["status"] == "FAILED"
    assert localaws.calls()["drs:StartRecovery"] == 2  # one job per wave
    aws("drs").untag_resource(resourceArn=broken["arn"], tagKeys=[FAIL_LAUNCH])

    api.post(f"/v1/executions/{first['id']}/retry", {"comment": "tag fixed"}, expect=200)
    done = api.wait(first["id"])

    assert done["status"] == "COMPLETED"
    assert localaws.calls()["drs:StartRecovery"] == 3  # exactly one new job
    runs = runs_of(done)
    retried = runs[broken["arn"]]
    assert (retried["status"], retried["attempt"]) == ("SUCCEEDED", 2)
    assert [a["status"] for a in retried["attempts"]] == ["FAILED", "SUCCEEDED"]
    new_batch = [(b, size) for b, size in batches_of(stack_db, done["id"]) if b.operation_id == retried["operationId"]]
    assert [size for _, size in new_batch] == [1]  # the new batch holds only the retried server
    for server in (*healthy, app):  # never started again: one attempt, the first job
        run = runs[server["arn"]]
        assert (run["status"], run["attempt"]) == ("SUCCEEDED", 1)
        assert run["operationId"] == runs_of(first)[server["arn"]]["operationId"]
