"""/metrics is computed from Postgres and Redis at scrape time: what it says is what the tables hold,
whichever API process answers, and the reconciler's repairs are counted across processes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from metrics_support import names, parse, value
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from support import TERMINAL, create_plan, insert_execution, sim, start, wait_for

from services.workers.adapters import registry
from shared.store import plans

METRIC = re.compile(r"\bdrwave_[a-z_]+")


def scrape(client, headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse(response.get_data(as_text=True))


def test_execution_wave_and_resource_counts_are_what_postgres_holds(stack, client, admin, db):
    plan = create_plan(
        client,
        admin,
        [{"name": "db", "arns": [sim("db"), sim("db", fail=True)]}, {"name": "app", "arns": [sim("app", 200)]}],
    )
    wait_for(client, admin, start(client, admin, plan), TERMINAL)
    samples = scrape(client, admin)
    with db.engine.connect() as conn:
        by_execution = conn.execute(text("SELECT status, mode, phase, count(*) FROM executions GROUP BY 1, 2, 3"))
        by_wave = conn.execute(text("SELECT status, count(*) FROM wave_runs GROUP BY 1"))
        by_resource = conn.execute(text("SELECT adapter, status, count(*) FROM resource_runs GROUP BY 1, 2"))
        finished = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE finished_at - started_at <= interval '30 seconds') "
                "FROM wave_runs WHERE started_at IS NOT NULL AND finished_at IS NOT NULL"
            )
        ).one()
        for status, mode, phase, n in by_execution:
            assert value(samples, "drwave_executions", status=status, mode=mode, phase=phase) == n
        for status, n in by_wave:
            assert value(samples, "drwave_waves", status=status) == n
        for adapter, status, n in by_resource:
            assert value(samples, "drwave_resource_runs", adapter=adapter, status=status) == n
    assert value(samples, "drwave_resource_runs", adapter="simulated", status="FAILED") >= 1
    assert value(samples, "drwave_wave_duration_seconds_count") == finished[0] >= 2
    assert value(samples, "drwave_wave_duration_seconds_bucket", le="+Inf") == finished[0]
    assert value(samples, "drwave_wave_duration_seconds_bucket", le="30.0") == finished[1]


def test_two_api_processes_answer_the_same_numbers(stack, client, admin):
    from services.api.app import create_app
    from services.api.settings import ApiSettings

    other = create_app(ApiSettings(database_url=stack.database_url, redis_url=stack.redis_url)).test_client()
    first, second = scrape(client, admin), scrape(other, admin)
    from_postgres = ("drwave_executions", "drwave_waves", "drwave_resource_runs", "drwave_wave_duration_seconds")
    assert {k: v for k, v in first.items() if k[0].startswith(from_postgres)} == {
        k: v for k, v in second.items() if k[0].startswith(from_postgres)
    }


def test_the_depth_of_every_celery_queue_is_served(stack, client, admin):
    samples = scrape(client, admin)
    queues = {dict(labels)["queue"] for name, labels in samples if name == "drwave_queue_depth"}
    assert queues == {"scheduler", *(f"workers.{name}" for name in registry.names())}


def test_a_start_the_reconciler_repaired_is_counted(stack, client, admin, db):
    before = value(scrape(client, admin), "drwave_reconciler_actions_total", action="started")
    plan_id = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    with db.engine.begin() as conn:  # written as the API writes it, but never published
        execution_id = insert_execution(conn, plans.get(conn, plan_id), {1: [sim("db")]}).id
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"
    assert value(scrape(client, admin), "drwave_reconciler_actions_total", action="started") >= before + 1


def test_api_requests_are_counted_for_every_api_process(stack, client, admin):
    before = value(scrape(client, admin), "drwave_api_requests_total", endpoint="identity.me", status="200")
    assert client.get("/v1/me", headers=admin).status_code == 200
    after = value(scrape(client, admin), "drwave_api_requests_total", endpoint="identity.me", status="200")
    assert after >= before + 1


def test_metrics_need_a_token_unless_configured_otherwise(stack, client):
    from services.api.app import create_app
    from services.api.settings import ApiSettings

    assert client.get("/metrics").status_code == 401
    open_app = create_app(
        ApiSettings(database_url=stack.database_url, redis_url=stack.redis_url, metrics_token_required=False)
    )
    response = open_app.test_client().get("/metrics")
    assert response.status_code == 200
    assert "drwave_executions" in names(parse(response.get_data(as_text=True)))
    assert open_app.test_client().get("/v1/executions").status_code == 401  # nothing else opens


def test_every_metric_the_grafana_dashboard_queries_is_exported(stack, client, admin):
    dashboard = json.loads((Path(__file__).parents[2] / "deploy" / "grafana" / "drwave.json").read_text())
    queried = {name for p in dashboard["panels"] for t in p["targets"] for name in METRIC.findall(t["expr"])}
    response = client.get("/metrics", headers=admin)
    exported = set()
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        exported.add(family.name)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}.get(family.type, ())
        exported |= {family.name + suffix for suffix in suffixes}
    assert queried and queried <= exported, queried - exported
