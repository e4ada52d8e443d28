"""Auto-waved plans: valid resources grouped by wave, invalid ones listed, RTO estimated."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.autowaves import AutoWave, group_into_waves, rto_estimate_minutes, split_valid, wave_name
from shared.domain.tags import evaluate


def ecs(name: str, priority: str | None, wave: str | None = None, enabled: str = "true"):
    tags = {"dr:enabled": enabled}
    if priority is not None:
        tags["dr:priority"] = priority
    if wave is not None:
        tags["dr:wave"] = wave
    return evaluate(f"arn:aws:ecs:us-east-1:123456789012:service/prod/{name}", tags)


def arns(wave: AutoWave) -> list[str]:
    return [r.arn.rsplit("/", 1)[1] for r in wave.resources]


def test_resources_are_grouped_by_wave_in_ascending_order():
    waves = group_into_waves([ecs("web", "medium"), ecs("db", "critical"), ecs("app", "high")])
    assert [w.number for w in waves] == [1, 2, 3]
    assert [arns(w) for w in waves] == [["db"], ["app"], ["web"]]


def test_resources_inside_a_wave_are_ordered_by_arn_whatever_the_input_order():
    forward = group_into_waves([ecs("b", "high"), ecs("c", "high"), ecs("a", "high")])
    backward = group_into_waves([ecs("a", "high"), ecs("c", "high"), ecs("b", "high")])
    assert forward == backward
    assert arns(forward[0]) == ["a", "b", "c"]


def test_an_explicit_wave_tag_moves_a_resource_into_that_wave():
    waves = group_into_waves([ecs("db", "critical"), ecs("cache", "critical", wave="2"), ecs("app", "high")])
    assert [(w.number, arns(w)) for w in waves] == [(1, ["db"]), (2, ["app", "cache"])]


def test_wave_names_list_the_priorities_present_most_urgent_first():
    waves = group_into_waves([ecs("db", "critical"), ecs("batch", "low", wave="3"), ecs("web", "medium")])
    assert [w.name for w in waves] == ["Wave 1 (critical)", "Wave 3 (medium, low)"]


def test_a_wave_5_of_low_priority_resources_is_named_after_them():
    assert group_into_waves([ecs("archive", "low", wave="5")])[0].name == "Wave 5 (low)"


def test_wave_name_without_known_priorities_is_just_the_number():
    assert wave_name(2, []) == "Wave 2"


def test_gaps_between_wave_numbers_are_kept():
    waves = group_into_waves([ecs("db", "critical"), ecs("web", "medium")])
    assert [w.number for w in waves] == [1, 3]


def test_invalid_and_not_enrolled_resources_are_left_out_of_the_waves():
    waves = group_into_waves(
        [
            ecs("db", "critical"),
            ecs("broken", "urgent"),
            ecs("off", "high", enabled="false"),
            ecs("typo", None),
        ]
    )
    assert [arns(w) for w in waves] == [["db"]]


def test_split_valid_returns_valid_and_invalid_and_drops_not_enrolled():
    valid, invalid = split_valid(
        [
            ecs("web", "medium"),
            ecs("zeta", "urgent"),
            ecs("off", "high", enabled="false"),
            ecs("db", "critical"),
            ecs("alpha", "high", enabled="yes"),
        ]
    )
    assert [v.arn.rsplit("/", 1)[1] for v in valid] == ["db", "web"]
    assert [i.arn.rsplit("/", 1)[1] for i in invalid] == ["alpha", "zeta"]
    assert all(i.errors for i in invalid)


def test_a_resource_selected_twice_appears_once():
    waves = group_into_waves([ecs("db", "critical"), ecs("db", "critical"), ecs("app", "high")])
    assert [arns(w) for w in waves] == [["db"], ["app"]]


def test_no_valid_resources_gives_no_waves_and_a_zero_rto():
    assert group_into_waves([]) == []
    assert group_into_waves([ecs("broken", "urgent")]) == []
    assert rto_estimate_minutes([]) == 0


def test_group_into_waves_accepts_any_iterable_once():
    waves = group_into_waves(e for e in [ecs("db", "critical"), ecs("app", "high")])
    assert [w.number for w in waves] == [1, 2]


def test_rto_estimate_is_the_sum_of_each_waves_slowest_target():
    waves = group_into_waves(
        [ecs("db", "critical"), ecs("app", "high"), ecs("batch", "low", wave="2"), ecs("web", "medium")]
    )
    assert [w.rto_target_minutes for w in waves] == [15, 240, 60]
    assert rto_estimate_minutes(waves) == 15 + 240 + 60


def test_rto_estimate_of_one_resource_per_priority_is_the_sum_of_the_targets():
    waves = group_into_waves([ecs(p, p) for p in ("critical", "high", "medium", "low")])
    assert rto_estimate_minutes(waves) == 15 + 30 + 60 + 240


def test_an_empty_wave_counts_zero_towards_the_rto():
    assert rto_estimate_minutes([AutoWave(number=1, name="Wave 1", resources=())]) == 0


PRIORITY = st.sampled_from(["critical", "high", "medium", "low", "urgent", None])
WAVE = st.sampled_from([None, "1", "2", "3", "4", "5", "6", "x"])
ENABLED = st.sampled_from(["true", "false", "yes"])
RESOURCES = st.lists(
    st.tuples(st.text("abcdef", min_size=1, max_size=4), PRIORITY, WAVE, ENABLED), max_size=30
)


@given(RESOURCES, st.randoms())
def test_grouping_is_deterministic_and_partitions_the_valid_resources(resources, rnd):
    evaluations = [ecs(name, priority, wave, enabled) for name, priority, wave, enabled in resources]
    shuffled = list(evaluations)
    rnd.shuffle(shuffled)
    waves = group_into_waves(evaluations)

    assert group_into_waves(shuffled) == waves
    assert [w.number for w in waves] == sorted({w.number for w in waves})
    grouped = [r for w in waves for r in w.resources]
    valid, invalid = split_valid(evaluations)
    assert sorted(r.arn for r in grouped) == sorted(r.arn for r in valid)
    assert len({r.arn for r in grouped}) == len(grouped)
    assert all(r.valid and r.wave == w.number for w in waves for r in w.resources)
    assert all(list(w.resources) == sorted(w.resources, key=lambda r: r.arn) for w in waves)
    assert all(w.resources for w in waves)
    assert not {r.arn for r in invalid} & {r.arn for r in valid}
    assert rto_estimate_minutes(waves) == sum(max(r.rto_minutes for r in w.resources) for w in waves)


def test_disagreeing_evaluations_of_one_arn_keep_the_conservative_one_in_any_order():
    good, broken = ecs("db", "critical"), ecs("db", "urgent")
    assert split_valid([good, broken]) == split_valid([broken, good]) == ((), (broken,))
