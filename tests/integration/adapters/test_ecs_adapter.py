"""The ECS adapter on the local AWS: the DR copy of a service scaled to its DR size, and back."""

from __future__ import annotations

import pytest

from services.workers.adapters.base import Outcome

DR = "us-west-2"
OK, KO = Outcome.SUCCEEDED, Outcome.FAILED


@pytest.fixture
def web(aws) -> str:
    """Service ``web`` of cluster ``shop-dr``, 0 tasks, tagged ``dr:desired-count=3``."""
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="shop-dr")
    ecs.register_task_definition(
        family="shop-web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 256}]
    )
    return ecs.create_service(
        cluster="shop-dr",
        serviceName="web",
        taskDefinition="shop-web",
        desiredCount=0,
        tags=[{"key": "dr:desired-count", "value": "3"}, {"key": "dr:enabled", "value": "true"}],
    )["service"]["serviceArn"]


def counts(aws, arn):
    (service,) = aws("ecs").describe_services(cluster="shop-dr", services=[arn])["services"]
    return service["desiredCount"], service["runningCount"]


@pytest.mark.parametrize("mode", ["drill", "recovery"])
def test_instantiate_scales_the_dr_service_to_its_tagged_count_in_a_drill_and_a_recovery(
    adapters, aws, web, phase, mode
):
    done = phase(adapters["ecs"], web, mode=mode)

    assert done.outcome is OK
    assert counts(aws, web) == (3, 3)
    assert done.detail["previousDesiredCount"] == 0 and done.detail["rolloutState"] == "COMPLETED"


def test_a_service_that_does_not_exist_fails_with_the_reason(adapters, aws, web, phase):
    done = phase(adapters["ecs"], web.replace("/web", "/gone"))

    assert done.outcome is KO and "was not found" in done.error


def test_a_service_without_a_dr_size_fails_without_changing_it(adapters, aws, web, phase):
    aws("ecs").untag_resource(resourceArn=web, tagKeys=["dr:desired-count"])

    done = phase(adapters["ecs"], web)

    assert done.outcome is KO and "dr:desired-count" in done.error
    assert counts(aws, web) == (0, 0)


def test_throttling_half_of_all_calls_fails_no_scaling(adapters, localaws, aws, web, phase):
    localaws.throttle(0.5)

    done = phase(adapters["ecs"], web)

    assert done.outcome is OK
    assert localaws.throttled().get("ecs:DescribeServices", 0) + localaws.throttled().get("ecs:UpdateService", 0) > 0
    localaws.clear_faults()
    assert counts(aws, web) == (3, 3)


def test_activate_succeeds_with_running_tasks_and_fails_for_a_service_still_at_zero(adapters, web, phase):
    assert phase(adapters["ecs"], web, "activate").outcome is KO

    phase(adapters["ecs"], web)
    done = phase(adapters["ecs"], web, "activate")

    assert done.outcome is OK and done.detail["runningCount"] == 3


def test_cleanup_after_a_drill_scales_back_to_the_recorded_count(adapters, aws, web, phase):
    drill = phase(adapters["ecs"], web, mode="drill")

    done = phase(adapters["ecs"], web, "cleanup", source=drill.detail)

    assert done.outcome is OK
    assert counts(aws, web) == (0, 0)


def test_cleanup_after_a_recovery_keeps_the_service_serving(adapters, aws, web, phase):
    recovery = phase(adapters["ecs"], web, mode="recovery")

    done = phase(adapters["ecs"], web, "cleanup", mode="recovery", source=recovery.detail)

    assert done.outcome is OK and "kept" in done.detail["note"]
    assert counts(aws, web) == (3, 3)


def test_replicate_is_recorded_as_not_applicable(adapters, localaws, web, phase):
    done = phase(adapters["ecs"], web, "replicate", mode="recovery")

    assert done.outcome is OK and done.detail["notApplicable"] is True
    assert "ecs:UpdateService" not in localaws.calls()


def test_a_recovery_mode_cleanup_without_a_snapshot_fails_instead_of_guessing_a_size(adapters, aws, web, phase):
    phase(adapters["ecs"], web, mode="recovery")

    done = phase(adapters["ecs"], web, "cleanup", mode="recovery")

    assert done.outcome is KO and "no snapshot" in done.error
    assert counts(aws, web) == (3, 3)
