"""Tag rules (docs/architecture.md, "Tags"): enrolment, priority → wave + RTO, explicit waves, adapters, scoping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import tags as t
from shared.domain.tags import (
    SUPPORTED_ADAPTERS,
    TagEvaluation,
    adapter_for_arn,
    customer_of,
    environment_of,
    evaluate,
    in_scope,
)

DRS = "arn:aws:drs:us-east-1:123456789012:source-server/s-1234567890abcdef0"
AURORA = "arn:aws:rds:us-east-1:123456789012:cluster:orders-db"
AURORA_GLOBAL = "arn:aws:rds::123456789012:global-cluster:orders-global"
ECS = "arn:aws:ecs:us-east-1:123456789012:service/prod-cluster/web"
ECS_OLD_FORMAT = "arn:aws:ecs:us-east-1:123456789012:service/web"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:resize-images"
LAMBDA_ALIAS = "arn:aws:lambda:us-east-1:123456789012:function:resize-images:live"
HEALTHCHECK = "arn:aws:route53:::healthcheck/abcdef11-2222-3333-4444-555555fedcba"
HOSTED_ZONE = "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"
SIMULATED = "arn:drwave:simulated:us-east-1:123456789012:resource/r-0001"
EC2 = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"


def enrolled(priority: str | None = "high", **extra: str) -> dict[str, str]:
    tags = {"dr:enabled": "true"}
    if priority is not None:
        tags["dr:priority"] = priority
    tags.update({f"dr:{k.replace('_', '-')}": v for k, v in extra.items()})
    return tags


def codes(evaluation: TagEvaluation) -> list[str]:
    return [e.code for e in evaluation.errors]


# --- enrolment ---------------------------------------------------------------------------------


def test_a_resource_without_dr_enabled_is_not_enrolled_and_has_no_errors():
    result = evaluate(ECS, {"dr:priority": "critical", "Customer": "acme"})
    assert result == TagEvaluation(ECS, False, None, None, None, None, ())
    assert not result.valid


def test_dr_enabled_false_ignores_every_other_tag_even_invalid_ones():
    result = evaluate(EC2, {"dr:enabled": "false", "dr:priority": "urgent", "dr:wave": "9"})
    assert not result.enrolled
    assert result.errors == ()
    assert (result.wave, result.priority, result.rto_minutes, result.adapter) == (None, None, None, None)


@pytest.mark.parametrize("value", ["true", "True", "TRUE", " true ", "true\n"])
def test_dr_enabled_true_is_accepted_in_any_case_and_with_surrounding_whitespace(value):
    result = evaluate(ECS, {"dr:enabled": value, "dr:priority": "high"})
    assert result.enrolled and result.valid


@pytest.mark.parametrize("value", ["false", "False", " FALSE "])
def test_dr_enabled_false_is_accepted_in_any_case(value):
    result = evaluate(ECS, {"dr:enabled": value})
    assert not result.enrolled and result.errors == ()


@pytest.mark.parametrize("value", ["yes", "1", "enabled", "", "   ", "t", "truee", "tru e"])
def test_an_invalid_dr_enabled_value_is_an_error_and_not_enrolled(value):
    result = evaluate(ECS, {"dr:enabled": value, "dr:priority": "high"})
    assert not result.enrolled and not result.valid
    assert codes(result) == ["INVALID_ENABLED"]
    error = result.errors[0]
    assert (error.arn, error.tag, error.value) == (ECS, "dr:enabled", value)
    assert ECS in error.message and "dr:enabled" in error.message and repr(value) in error.message


def test_an_invalid_dr_enabled_still_reports_the_other_tag_problems_in_one_pass():
    result = evaluate(ECS, {"dr:enabled": "yes", "dr:priority": "urgent", "dr:wave": "0"})
    assert codes(result) == ["INVALID_ENABLED", "INVALID_PRIORITY", "INVALID_WAVE"]


def test_an_invalid_dr_enabled_keeps_the_derivable_fields_for_preview():
    result = evaluate(LAMBDA, {"dr:enabled": "yes", "dr:priority": "medium"})
    assert (result.wave, result.priority, result.rto_minutes, result.adapter) == (3, "medium", 60, "lambda")
    assert not result.valid


def test_tag_keys_are_case_sensitive_like_aws():
    result = evaluate(ECS, {"DR:Enabled": "true", "dr:priority": "high"})
    assert not result.enrolled and result.errors == ()
    result = evaluate(ECS, {"dr:enabled": "true", "dr:Priority": "high"})
    assert codes(result) == ["MISSING_PRIORITY"]


# --- priority ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "wave", "rto"),
    [("critical", 1, 15), ("high", 2, 30), ("medium", 3, 60), ("low", 4, 240)],
)
def test_each_priority_maps_to_its_wave_and_rto_target(priority, wave, rto):
    result = evaluate(ECS, enrolled(priority))
    assert result.valid
    assert (result.priority, result.wave, result.rto_minutes) == (priority, wave, rto)


@pytest.mark.parametrize("value", ["Critical", " HIGH ", "\tmedium\n", "Low"])
def test_priority_is_read_case_insensitively_and_stripped(value):
    result = evaluate(ECS, enrolled(value))
    assert result.valid and result.priority == value.strip().lower()


def test_an_enrolled_resource_without_priority_is_an_error():
    result = evaluate(ECS, enrolled(None))
    assert not result.valid and result.enrolled
    assert codes(result) == ["MISSING_PRIORITY"]
    error = result.errors[0]
    assert (error.tag, error.value) == ("dr:priority", None)
    assert ECS in error.message and "dr:priority" in error.message


def test_an_enrolled_resource_without_priority_is_an_error_even_with_an_explicit_wave():
    result = evaluate(ECS, enrolled(None, wave="2"))
    assert codes(result) == ["MISSING_PRIORITY"]
    assert result.wave == 2 and result.rto_minutes is None


@pytest.mark.parametrize("value", ["urgent", "p1", "", "  ", "critical!", "hi gh", "1"])
def test_an_unknown_priority_is_an_error_naming_resource_and_value(value):
    result = evaluate(DRS, enrolled(value))
    assert codes(result) == ["INVALID_PRIORITY"]
    error = result.errors[0]
    assert (error.arn, error.tag, error.value) == (DRS, "dr:priority", value)
    assert DRS in error.message and repr(value) in error.message
    assert result.priority is None and result.wave is None and result.rto_minutes is None


# --- explicit wave ------------------------------------------------------------------------------


def test_explicit_wave_wins_over_priority():
    result = evaluate(ECS, enrolled("critical", wave="3"))
    assert result.valid and result.wave == 3


def test_explicit_wave_keeps_the_priority_rto_target():
    result = evaluate(ECS, enrolled("critical", wave="3"))
    assert result.rto_minutes == 15


def test_low_priority_resources_may_use_wave_5():
    result = evaluate(ECS, enrolled("low", wave="5"))
    assert result.valid and (result.wave, result.rto_minutes) == (5, 240)


@pytest.mark.parametrize(
    ("value", "wave"), [("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 5), (" 2 ", 2), ("01", 1)]
)
def test_every_wave_from_1_to_5_is_accepted(value, wave):
    result = evaluate(ECS, enrolled("high", wave=value))
    assert result.valid and result.wave == wave


@pytest.mark.parametrize(
    "value",
    [
        "0",
        "6",
        "10",
        "-1",
        "+1",
        "1.0",
        "1.5",
        "one",
        "",
        " ",
        "1e0",
        "٣",
        "²",
        "1_0",
        "0x1",
        "99999999999999999999",
    ],
)
def test_a_wave_that_is_not_a_whole_number_from_1_to_5_is_an_error(value):
    result = evaluate(ECS, enrolled("high", wave=value))
    assert codes(result) == ["INVALID_WAVE"]
    error = result.errors[0]
    assert (error.tag, error.value) == ("dr:wave", value)
    assert ECS in error.message


def test_an_invalid_wave_does_not_fall_back_to_the_priority_wave():
    result = evaluate(ECS, enrolled("high", wave="7"))
    assert result.wave is None


# --- adapters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "adapter"),
    [
        (DRS, "drs"),
        (AURORA, "aurora"),
        (AURORA_GLOBAL, "aurora"),
        (ECS, "ecs"),
        (ECS_OLD_FORMAT, "ecs"),
        (LAMBDA, "lambda"),
        (LAMBDA_ALIAS, "lambda"),
        (HEALTHCHECK, "route53"),
        (HOSTED_ZONE, "route53"),
        (SIMULATED, "simulated"),
        ("arn:aws-cn:ecs:cn-north-1:123456789012:service/c/web", "ecs"),
        ("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f", "lambda"),
        ("arn:drwave:simulated:::r-1", "simulated"),
    ],
)
def test_the_adapter_follows_the_arn_service_when_no_strategy_is_tagged(arn, adapter):
    assert adapter_for_arn(arn) == adapter
    result = evaluate(arn, enrolled("high"))
    assert result.valid and result.adapter == adapter


@pytest.mark.parametrize(
    "arn",
    [
        EC2,
        "arn:aws:rds:us-east-1:123456789012:db:orders-instance",
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod-cluster",
        "arn:aws:ecs:us-east-1:123456789012:task/prod-cluster/abc",
        "arn:aws:lambda:us-east-1:123456789012:layer:deps:3",
        "arn:aws:route53:::change/C123",
        "arn:aws:drs:us-east-1:123456789012:job/drsjob-1",
        "arn:aws:s3:::bucket",
        "arn:drwave:other:::r-1",
        "arn:evil:ecs:us-east-1:123456789012:service/c/web",
        "not an arn",
        "arn:aws:ecs",
        "",
    ],
)
def test_an_arn_without_an_adapter_and_without_a_strategy_tag_is_an_error(arn):
    assert adapter_for_arn(arn) is None
    result = evaluate(arn, enrolled("high"))
    assert codes(result) == ["UNKNOWN_SERVICE"]
    error = result.errors[0]
    assert (error.arn, error.tag, error.value) == (arn, "dr:recovery-strategy", None)
    assert "dr:recovery-strategy" in error.message
    assert result.adapter is None


@pytest.mark.parametrize("strategy", ["drs", "aurora", "ecs", "lambda", "route53"])
def test_a_supported_strategy_names_the_adapter_of_an_arn_drwave_does_not_recognise(strategy):
    result = evaluate(EC2, enrolled("high", recovery_strategy=strategy))
    assert result.valid and result.adapter == strategy


@pytest.mark.parametrize(
    ("arn", "strategy"), [(DRS, "drs"), (AURORA, "Aurora"), (ECS, " ECS "), (LAMBDA, "lambda")]
)
def test_a_strategy_that_agrees_with_the_arn_is_accepted_in_any_case(arn, strategy):
    result = evaluate(arn, enrolled("high", recovery_strategy=strategy))
    assert result.valid and result.adapter == strategy.strip().lower()


@pytest.mark.parametrize(
    "strategy", ["eks-dns", "sql-ag", "managed-service", "dsr", "route-53", "", " ", "simulated", "drs,ecs"]
)
def test_an_unsupported_strategy_is_an_error_naming_resource_and_value(strategy):
    result = evaluate(EC2, enrolled("high", recovery_strategy=strategy))
    assert codes(result) == ["UNSUPPORTED_STRATEGY"]
    error = result.errors[0]
    assert (error.arn, error.tag, error.value) == (EC2, "dr:recovery-strategy", strategy)
    assert EC2 in error.message and repr(strategy) in error.message
    assert result.adapter is None and not result.valid


def test_an_unsupported_strategy_is_an_error_even_on_an_arn_with_an_adapter():
    result = evaluate(DRS, enrolled("high", recovery_strategy="eks-dns"))
    assert codes(result) == ["UNSUPPORTED_STRATEGY"]


def test_a_strategy_that_contradicts_the_arn_service_is_an_error():
    result = evaluate(AURORA, enrolled("critical", recovery_strategy="lambda"))
    assert codes(result) == ["STRATEGY_MISMATCH"]
    error = result.errors[0]
    assert AURORA in error.message and "'lambda'" in error.message and "aurora" in error.message


def test_the_simulated_adapter_cannot_be_chosen_by_tag_on_a_real_resource():
    result = evaluate(ECS, enrolled("high", recovery_strategy="simulated"))
    assert codes(result) == ["UNSUPPORTED_STRATEGY"]


def test_every_problem_of_a_resource_is_reported_at_once_in_a_stable_order():
    result = evaluate(
        EC2, {"dr:enabled": "true", "dr:priority": "p0", "dr:wave": "x", "dr:recovery-strategy": "sql-ag"}
    )
    assert codes(result) == ["INVALID_PRIORITY", "INVALID_WAVE", "UNSUPPORTED_STRATEGY"]
    assert result.enrolled and not result.valid


def test_error_messages_are_one_line_even_for_values_with_newlines():
    result = evaluate(ECS, enrolled("hi\ngh"))
    assert "\n" not in result.errors[0].message


def test_very_long_values_are_shortened_in_the_message_but_kept_in_the_error():
    value = "x" * 300
    error = evaluate(ECS, enrolled(value)).errors[0]
    assert error.value == value
    assert len(error.message) < 250


def test_evaluate_accepts_no_tags_at_all():
    assert evaluate(ECS, {}) == TagEvaluation(ECS, False, None, None, None, None)
    assert evaluate(ECS, None) == TagEvaluation(ECS, False, None, None, None, None)


def test_a_valid_evaluation_is_hashable_and_immutable():
    result = evaluate(ECS, enrolled("high"))
    assert hash(result) == hash(evaluate(ECS, enrolled("high")))
    with pytest.raises(AttributeError):
        result.wave = 3  # type: ignore[misc]


# --- scoping -----------------------------------------------------------------------------------


def test_customer_and_environment_are_read_and_stripped():
    tags = {"Customer": " acme ", "Environment": "Production"}
    assert customer_of(tags) == "acme"
    assert environment_of(tags) == "Production"


def test_missing_or_blank_scoping_tags_read_as_none():
    assert customer_of({}) is None
    assert environment_of({"Environment": "  "}) is None
    assert customer_of(None) is None


def test_scoping_matches_customer_and_environment_exactly():
    tags = {"Customer": "acme", "Environment": "Production"}
    assert in_scope(tags)
    assert in_scope(tags, customer="acme")
    assert in_scope(tags, customer="acme", environment="Production")
    assert not in_scope(tags, customer="globex")
    assert not in_scope(tags, environment="production")
    assert not in_scope({}, customer="acme")


# --- properties --------------------------------------------------------------------------------

tag_keys = st.one_of(
    st.sampled_from(
        [t.TAG_ENABLED, t.TAG_PRIORITY, t.TAG_WAVE, t.TAG_STRATEGY, t.TAG_CUSTOMER, t.TAG_ENVIRONMENT]
    ),
    st.text(max_size=20),
)
SAMPLE_VALUES = [
    *("true", "True", "false", "critical", " high ", "medium", "low", "1", "5", "6", "0", ""),
    *("drs", "ecs", "aurora", "lambda", "route53", "simulated", "eks-dns"),
]
tag_values = st.one_of(st.sampled_from(SAMPLE_VALUES), st.text(max_size=20))
arns = st.one_of(st.sampled_from([DRS, AURORA, ECS, LAMBDA, HEALTHCHECK, SIMULATED, EC2, ""]), st.text())


@given(arn=arns, tags=st.dictionaries(tag_keys, tag_values, max_size=8))
def test_evaluate_never_raises_and_yields_valid_or_errors_or_not_enrolled(arn, tags):
    result = evaluate(arn, tags)
    assert result.arn == arn
    if result.valid:
        assert result.enrolled and result.errors == ()
        assert result.wave is not None and t.MIN_WAVE <= result.wave <= t.MAX_WAVE
        assert result.adapter in SUPPORTED_ADAPTERS
        assert result.priority in t.PRIORITY_WAVE
        assert result.rto_minutes == t.PRIORITY_RTO_MINUTES[result.priority]
    elif result.errors:
        for error in result.errors:
            assert error.arn == arn and error.code and error.message and error.tag.startswith("dr:")
    else:
        assert not result.enrolled
        assert (result.wave, result.priority, result.rto_minutes, result.adapter) == (None, None, None, None)


@given(arn=arns, tags=st.dictionaries(tag_keys, tag_values, max_size=8))
def test_evaluate_is_deterministic(arn, tags):
    assert evaluate(arn, tags) == evaluate(arn, dict(reversed(list(tags.items()))))


@given(
    arn=st.sampled_from([DRS, AURORA, ECS, LAMBDA, HEALTHCHECK, SIMULATED]),
    priority=st.sampled_from(t.PRIORITIES),
    wave=st.one_of(st.none(), st.integers(t.MIN_WAVE, t.MAX_WAVE)),
    noise=st.dictionaries(
        st.text(max_size=10).filter(lambda k: not k.startswith("dr:")), st.text(max_size=10)
    ),
)
def test_well_tagged_resources_are_always_valid_whatever_other_tags_they_carry(arn, priority, wave, noise):
    tags = {**noise, "dr:enabled": "true", "dr:priority": priority}
    if wave is not None:
        tags["dr:wave"] = str(wave)
    result = evaluate(arn, tags)
    assert result.valid
    assert result.wave == (wave if wave is not None else t.PRIORITY_WAVE[priority])
    assert result.adapter == adapter_for_arn(arn)


@given(st.text())
def test_adapter_for_arn_never_raises(arn):
    assert adapter_for_arn(arn) in SUPPORTED_ADAPTERS | {None}
