"""The Lambda adapter on the local AWS: a DR function held at zero concurrency, enabled for DR, and back."""

from __future__ import annotations

import json

import pytest
from support import lambda_zip

from services.workers.adapters.base import Outcome

OK, KO = Outcome.SUCCEEDED, Outcome.FAILED


@pytest.fixture
def make_function(aws):
    """``make_function("ingest", tags={...}, queue=True)`` → its ARN; reserved concurrency 0, like the seed."""
    role = aws("iam").create_role(
        RoleName="fn-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
                ]
            }
        ),
    )["Role"]["Arn"]

    def make(name: str, tags: dict[str, str] | None = None, queue: bool = False) -> str:
        lam = aws("lambda")
        arn = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": lambda_zip("{}")},
            Tags=tags or {},
        )["FunctionArn"]
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        if queue:
            queue_arn = aws("sqs").get_queue_attributes(
                QueueUrl=aws("sqs").create_queue(QueueName=f"{name}-queue")["QueueUrl"], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name, Enabled=False)
        return arn

    return make


def concurrency(aws, arn):
    return aws("lambda").get_function_concurrency(FunctionName=arn).get("ReservedConcurrentExecutions")


def mapping_states(aws, arn):
    name = arn.rsplit(":", 1)[-1]  # moto lists mappings by function name only
    return [m["State"] for m in aws("lambda").list_event_source_mappings(FunctionName=name)["EventSourceMappings"]]


def test_instantiate_lifts_the_zero_reservation_and_records_it(adapters, aws, make_function, phase):
    arn = make_function("ingest")

    done = phase(adapters["lambda"], arn)

    assert done.outcome is OK
    assert concurrency(aws, arn) is None
    assert done.detail["snapshot"]["reservedConcurrency"] == 0
    assert done.detail["state"] == "Active" and done.detail["lastUpdateStatus"] == "Successful"


def test_a_tagged_concurrency_is_reserved_for_dr(adapters, aws, make_function, phase):
    arn = make_function("report", tags={"dr:reserved-concurrency": "25"})

    assert phase(adapters["lambda"], arn).outcome is OK

    assert concurrency(aws, arn) == 25


def test_a_drill_leaves_event_source_mappings_disabled_and_a_recovery_enables_them(adapters, aws, make_function, phase):
    drilled, recovered = make_function("drilled", queue=True), make_function("recovered", queue=True)

    drill = phase(adapters["lambda"], drilled, mode="drill")
    recovery = phase(adapters["lambda"], recovered, mode="recovery")

    assert drill.outcome is OK and "left disabled in drill" in drill.detail["note"]
    assert mapping_states(aws, drilled) == ["Disabled"]
    assert recovery.outcome is OK
    assert mapping_states(aws, recovered) == ["Enabled"]


def test_a_function_that_does_not_exist_fails_with_the_reason(adapters, phase):
    done = phase(adapters["lambda"], "arn:aws:lambda:us-west-2:123456789012:function:nowhere")

    assert done.outcome is KO and "ResourceNotFoundException" in done.error


def test_throttling_half_of_all_calls_fails_no_function(adapters, localaws, aws, make_function, phase):
    arn = make_function("webhook")
    localaws.throttle(0.5)

    done = phase(adapters["lambda"], arn)

    assert done.outcome is OK
    assert sum(v for k, v in localaws.throttled().items() if k.startswith("lambda:")) > 0
    localaws.clear_faults()
    assert concurrency(aws, arn) is None


def test_activate_succeeds_for_an_enabled_function_and_fails_for_one_held_at_zero(adapters, make_function, phase):
    arn = make_function("notify")
    held = phase(adapters["lambda"], arn, "activate")

    phase(adapters["lambda"], arn)
    done = phase(adapters["lambda"], arn, "activate")

    assert held.outcome is KO and "concurrency is 0" in held.error
    assert done.outcome is OK


def test_cleanup_after_a_drill_restores_the_recorded_concurrency(adapters, aws, make_function, phase):
    arn = make_function("ingest")
    drill = phase(adapters["lambda"], arn, mode="drill")

    done = phase(adapters["lambda"], arn, "cleanup", source=drill.detail)

    assert done.outcome is OK
    assert concurrency(aws, arn) == 0


def test_cleanup_without_a_snapshot_fails_and_changes_nothing(adapters, aws, make_function, phase):
    arn = make_function("ingest")
    phase(adapters["lambda"], arn)

    done = phase(adapters["lambda"], arn, "cleanup")

    assert done.outcome is KO and "no snapshot" in done.error
    assert concurrency(aws, arn) is None


def test_replicate_is_recorded_as_not_applicable(adapters, make_function, phase):
    done = phase(adapters["lambda"], make_function("ingest"), "replicate", mode="recovery")

    assert done.outcome is OK and done.detail["notApplicable"] is True


def test_an_alias_is_pointed_at_its_dr_version_and_cleanup_points_it_back(adapters, aws, make_function, phase):
    arn = make_function("checkout", tags={"dr:alias": "live", "dr:alias-version": "2"})
    lam = aws("lambda")
    lam.publish_version(FunctionName="checkout")
    lam.update_function_code(FunctionName="checkout", ZipFile=lambda_zip("{}"))
    lam.publish_version(FunctionName="checkout")
    lam.create_alias(FunctionName="checkout", Name="live", FunctionVersion="1")

    drill = phase(adapters["lambda"], arn, mode="drill")
    pointed = lam.get_alias(FunctionName="checkout", Name="live")["FunctionVersion"]
    cleanup = phase(adapters["lambda"], arn, "cleanup", source=drill.detail)

    assert drill.outcome is OK and pointed == "2"
    assert cleanup.outcome is OK
    assert lam.get_alias(FunctionName="checkout", Name="live")["FunctionVersion"] == "1"


def test_an_alias_without_its_dr_version_fails_and_changes_nothing(adapters, aws, make_function, phase):
    arn = make_function("checkout", tags={"dr:alias": "live"})

    done = phase(adapters["lambda"], arn)

    assert done.outcome is KO and "dr:alias-version" in done.error
    assert concurrency(aws, arn) == 0
