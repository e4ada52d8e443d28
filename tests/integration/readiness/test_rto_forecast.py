"""The RTO forecast learns from past drills: targets first, then history close to the real duration."""

from __future__ import annotations

from datetime import datetime

from ready_support import sim_arn

REGION = "eu-central-1"  # no other test recovers anything here: the history starts empty


def duration_minutes(execution: dict) -> float:
    started = datetime.fromisoformat(execution["startedAt"])
    finished = datetime.fromisoformat(execution["finishedAt"])
    return (finished - started).total_seconds() / 60


def test_the_forecast_moves_from_targets_to_history_and_lands_within_25_percent_of_the_next_drill(api, localaws):
    localaws.post("config", {"drsJobStepSeconds": 2.0})
    servers = localaws.source_servers(
        {"hostname": "db-01"}, {"hostname": "db-02"}, {"hostname": "app-01"}, region=REGION
    )
    plan = api.plan([s["arn"] for s in servers[:2]], [servers[2]["arn"], sim_arn("cache", 500, REGION)], region=REGION)

    before = api.post(f"/v1/recovery-plans/{plan}/validate")["rtoForecast"]
    assert before["basis"] == "targets" and before["runsUsed"] == 0

    for _ in range(2):
        assert api.wait(api.start(plan))["status"] == "COMPLETED"
    after = api.post(f"/v1/recovery-plans/{plan}/validate")["rtoForecast"]
    assert after["basis"] == "history" and after["runsUsed"] == 2
    assert after["p50Minutes"] <= after["p90Minutes"]
    (wave2,) = [w for w in after["waves"] if w["wave"] == 2]
    assert wave2["dominatedBy"] == servers[2]["arn"]  # a DRS launch (two 2 s steps) outlasts 500 ms

    third = api.wait(api.start(plan))
    assert third["status"] == "COMPLETED"
    real = duration_minutes(third)
    print(f"forecast p50 {after['p50Minutes']} min, p90 {after['p90Minutes']} min; third drill {real:.3f} min")
    assert abs(after["p50Minutes"] - real) <= 0.25 * real, (after, real)
