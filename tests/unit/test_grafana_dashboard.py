"""deploy/grafana/drwave.json is an importable Grafana dashboard whose every panel queries drwave metrics
through the dashboard's Prometheus data source variable (that each metric is exported is checked against
a real /metrics in tests/integration/test_metrics.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

DASHBOARD = json.loads((Path(__file__).parents[2] / "deploy" / "grafana" / "drwave.json").read_text())
METRIC = re.compile(r"\bdrwave_[a-z_]+")


def queried_metrics(dashboard: dict) -> set[str]:
    return {name for panel in dashboard["panels"] for t in panel["targets"] for name in METRIC.findall(t["expr"])}


def test_the_dashboard_has_a_uid_a_title_and_a_prometheus_data_source_variable():
    assert DASHBOARD["uid"] and DASHBOARD["title"]
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"


def test_every_panel_queries_drwave_metrics_through_the_variable():
    for panel in DASHBOARD["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert METRIC.search(target["expr"]), (panel["title"], target["expr"])


def test_panels_have_unique_ids_and_do_not_overlap():
    assert len({p["id"] for p in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])
    cells = set()
    for panel in DASHBOARD["panels"]:
        g = panel["gridPos"]
        area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & area, panel["title"]
        assert g["x"] + g["w"] <= 24
        cells |= area


def test_the_dashboard_covers_every_metric_of_the_issue():
    assert {
        "drwave_executions",
        "drwave_waves",
        "drwave_resource_runs",
        "drwave_wave_duration_seconds_bucket",
        "drwave_queue_depth",
        "drwave_reconciler_actions_total",
        "drwave_aws_calls_total",
    } <= queried_metrics(DASHBOARD)
