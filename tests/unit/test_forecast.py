"""The RTO forecast from past runs: per-kind history, parallel waves, DRS job rounds, fallback to targets."""

from __future__ import annotations

import pytest

from shared.domain.forecast import Kind, PastRun, PlannedResource, PlannedWave, forecast, percentile
from shared.domain.preflight import Status, rto_forecast_check

DRS = Kind("drs", "123456789012", "us-west-2")
ECS = Kind("ecs", "123456789012", "us-west-2")
DRS_ELSEWHERE = Kind("drs", "123456789012", "eu-west-1")


def runs(kind: Kind, *seconds: float, execution: str = "ex-1") -> list[PastRun]:
    return [PastRun(kind, execution, s) for s in seconds]


def resource(name: str, kind: Kind, target: float = 15) -> PlannedResource:
    return PlannedResource(f"arn:{name}", kind, target)


def test_percentiles_interpolate_between_ranks():
    assert percentile([60.0], 0.9) == 60.0
    assert percentile([60.0, 120.0], 0.5) == 90.0
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.9) == pytest.approx(46.0)


def test_without_history_every_wave_takes_its_target_and_the_basis_is_targets():
    waves = [PlannedWave(1, [resource("db", DRS, 15)]), PlannedWave(2, [resource("web", ECS, 30)])]

    result = forecast(waves, [], target_minutes=45)

    assert result == {
        "p50Minutes": 45,
        "p90Minutes": 45,
        "targetMinutes": 45,
        "basis": "targets",
        "runsUsed": 0,
        "waves": [
            {"wave": 1, "p50Minutes": 15, "p90Minutes": 15, "dominatedBy": "arn:db"},
            {"wave": 2, "p50Minutes": 30, "p90Minutes": 30, "dominatedBy": "arn:web"},
        ],
    }


def test_a_wave_lasts_as_long_as_its_slowest_kind_and_waves_add_up():
    history = runs(DRS, 240, 360, execution="ex-1") + runs(ECS, 60, 60, execution="ex-2")
    waves = [PlannedWave(1, [resource("db", DRS), resource("api", ECS)]), PlannedWave(2, [resource("web", ECS)])]

    result = forecast(waves, history, target_minutes=30)

    assert result["basis"] == "history" and result["runsUsed"] == 2
    assert result["waves"][0] == {"wave": 1, "p50Minutes": 5.0, "p90Minutes": 5.8, "dominatedBy": "arn:db"}
    assert result["waves"][1]["p50Minutes"] == 1.0
    assert (result["p50Minutes"], result["p90Minutes"]) == (6.0, 6.8)


def test_history_of_another_region_does_not_count_and_the_basis_is_mixed():
    waves = [PlannedWave(1, [resource("db", DRS, 15)]), PlannedWave(2, [resource("web", ECS, 30)])]

    result = forecast(waves, runs(DRS_ELSEWHERE, 60) + runs(ECS, 120), target_minutes=45)

    assert result["basis"] == "mixed"
    assert result["waves"][0]["p50Minutes"] == 15  # the target: no DRS history in us-west-2
    assert result["waves"][1]["p50Minutes"] == 2.0


def test_more_drs_jobs_than_the_concurrent_quota_take_several_rounds():
    big = PlannedWave(1, [resource(f"s{n}", DRS) for n in range(2001)])  # 21 jobs of 100: two rounds of 20

    result = forecast([big], runs(DRS, 300), target_minutes=15)

    assert result["waves"][0]["p50Minutes"] == 10.0
    fits = PlannedWave(1, [resource(f"s{n}", DRS) for n in range(2000)])  # 20 jobs: one round
    assert forecast([fits], runs(DRS, 300), target_minutes=15)["waves"][0]["p50Minutes"] == 5.0


def test_an_empty_wave_takes_no_time():
    result = forecast([PlannedWave(1, [])], [], target_minutes=0)
    assert result["waves"] == [{"wave": 1, "p50Minutes": 0, "p90Minutes": 0, "dominatedBy": None}]


def test_a_p90_forecast_over_the_plans_rto_target_is_a_warning_check():
    waves = [PlannedWave(1, [resource("db", DRS, 15)])]

    slow = rto_forecast_check(forecast(waves, runs(DRS, 600, 1200), target_minutes=15))  # p90: 1140 s

    assert (slow.name, slow.status) == ("rto.forecast", Status.WARNING)
    assert slow.message == (
        "p90 forecast 19.0 min exceeds the plan's RTO target of 15 min (basis history, 1 past run(s))"
    )
    within = rto_forecast_check(forecast(waves, runs(DRS, 600, 840), target_minutes=15))  # p90: 816 s
    assert within.status is Status.OK and "13.6 min is within the RTO target of 15 min" in within.message
    untargeted = rto_forecast_check(forecast(waves, runs(DRS, 6000), target_minutes=0))
    assert untargeted.status is Status.OK and untargeted.message.endswith("no RTO target set")
