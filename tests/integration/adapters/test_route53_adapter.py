"""The Route 53 adapter on the local AWS: failover pairs flipped in a recovery, untouched in a drill."""

from __future__ import annotations

import uuid

import pytest

from services.workers.adapters.base import Outcome

GLOBAL = "us-east-1"
OK, KO = Outcome.SUCCEEDED, Outcome.FAILED


@pytest.fixture
def zone(aws):
    """Zone example.com: app.example.com PRIMARY → use1 (health-checked), SECONDARY → usw2."""
    r53 = aws("route53", GLOBAL)
    zone_id = r53.create_hosted_zone(Name="example.com", CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
    zone_id = zone_id.rsplit("/", 1)[-1]
    check = r53.create_health_check(
        CallerReference=str(uuid.uuid4()),
        HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": "app.use1.example.com", "Port": 443},
    )["HealthCheck"]["Id"]
    records = [
        ("primary", "PRIMARY", "app.use1.example.com", check),
        ("dr", "SECONDARY", "app.usw2.example.com", None),
    ]
    changes = []
    for set_id, failover, value, health in records:
        record = {
            "Name": "app.example.com",
            "Type": "CNAME",
            "TTL": 60,
            "SetIdentifier": set_id,
            "Failover": failover,
            "ResourceRecords": [{"Value": value}],
        }
        if health:
            record["HealthCheckId"] = health
        changes.append({"Action": "UPSERT", "ResourceRecordSet": record})
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return {"zone": zone_id, "check": f"arn:aws:route53:::healthcheck/{check}"}


def serving(aws, zone_id) -> str:
    """The value of the PRIMARY app.example.com record."""
    records = aws("route53", GLOBAL).list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    (primary,) = [r for r in records if r.get("Failover") == "PRIMARY"]
    return primary["ResourceRecords"][0]["Value"]


def records(aws, zone_id):
    return aws("route53", GLOBAL).list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]


def test_a_drill_changes_no_live_record_and_records_the_change_it_would_make(adapters, localaws, aws, zone, phase):
    before = records(aws, zone["zone"])

    done = phase(adapters["route53"], zone["check"], mode="drill")

    assert done.outcome is OK
    assert done.detail["applied"] is False and done.detail["note"] == "not applied in drill"
    assert done.detail["changes"] == ["app.example.com. CNAME: PRIMARY app.use1.example.com -> app.usw2.example.com"]
    assert records(aws, zone["zone"]) == before
    assert localaws.calls()["route53:ChangeResourceRecordSets"] == 1  # the fixture's own, none by the drill


def test_a_recovery_flips_the_pair_to_the_dr_record_and_waits_for_insync(adapters, aws, zone, phase):
    done = phase(adapters["route53"], zone["check"], mode="recovery")

    assert done.outcome is OK and done.detail["changeStatus"] == "INSYNC"
    assert serving(aws, zone["zone"]) == "app.usw2.example.com"
    assert len(done.detail["snapshot"]) == 2


def test_a_hosted_zone_or_a_record_set_arn_flips_its_pairs_too(adapters, aws, zone, phase):
    by_zone = phase(adapters["route53"], f"arn:aws:route53:::hostedzone/{zone['zone']}", mode="recovery")
    assert by_zone.outcome is OK and serving(aws, zone["zone"]) == "app.usw2.example.com"
    phase(adapters["route53"], zone["check"], "cleanup", mode="recovery", source=by_zone.detail)

    record_set = f"arn:aws:route53:::hostedzone/{zone['zone']}/recordset/app.example.com/CNAME/primary"
    by_record = phase(adapters["route53"], record_set, mode="recovery")

    assert by_record.outcome is OK and serving(aws, zone["zone"]) == "app.usw2.example.com"


def test_a_redelivered_flip_changes_nothing_more_and_keeps_the_first_snapshot(adapters, localaws, aws, zone, phase):
    first = phase(adapters["route53"], zone["check"], mode="recovery")
    changes = localaws.calls()["route53:ChangeResourceRecordSets"]

    again = phase(adapters["route53"], zone["check"], mode="recovery")

    assert again.outcome is OK and again.detail["note"] == "already flipped"
    assert again.detail["snapshot"] == first.detail["snapshot"]
    assert localaws.calls()["route53:ChangeResourceRecordSets"] == changes


def test_a_health_check_that_guards_no_failover_pair_fails_with_the_reason(adapters, aws, zone, phase):
    other = aws("route53", GLOBAL).create_health_check(
        CallerReference=str(uuid.uuid4()),
        HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": "else.example.com", "Port": 443},
    )["HealthCheck"]["Id"]

    done = phase(adapters["route53"], f"arn:aws:route53:::healthcheck/{other}", mode="recovery")

    assert done.outcome is KO and "governs no failover record pair" in done.error


def test_throttling_half_of_all_calls_fails_no_flip(adapters, localaws, aws, zone, phase):
    localaws.throttle(0.5)

    done = phase(adapters["route53"], zone["check"], mode="recovery")

    assert done.outcome is OK
    assert sum(v for k, v in localaws.throttled().items() if k.startswith("route53:")) > 0
    localaws.clear_faults()
    assert serving(aws, zone["zone"]) == "app.usw2.example.com"


def test_activate_checks_the_health_of_the_records_now_serving(adapters, zone, phase):
    in_drill = phase(adapters["route53"], zone["check"], "activate", mode="drill")
    phase(adapters["route53"], zone["check"], mode="recovery")
    after_flip = phase(adapters["route53"], zone["check"], "activate", mode="recovery")

    assert in_drill.outcome is OK and in_drill.detail["healthChecks"] == [zone["check"].rsplit("/", 1)[-1]]
    assert after_flip.outcome is OK and after_flip.detail["note"] == "no health check guards the serving records"


def test_cleanup_restores_the_records_from_the_snapshot_taken_before_the_flip(adapters, aws, zone, phase):
    before = records(aws, zone["zone"])
    flipped = phase(adapters["route53"], zone["check"], mode="recovery")

    done = phase(adapters["route53"], zone["check"], "cleanup", mode="recovery", source=flipped.detail)

    assert done.outcome is OK and done.detail["restored"] == 2
    assert records(aws, zone["zone"]) == before


def test_cleanup_of_a_drill_has_nothing_to_restore(adapters, localaws, aws, zone, phase):
    drill = phase(adapters["route53"], zone["check"], mode="drill")

    done = phase(adapters["route53"], zone["check"], "cleanup", mode="drill", source=drill.detail)

    assert done.outcome is OK and "the drill changed no record" in done.detail["note"]
    assert localaws.calls()["route53:ChangeResourceRecordSets"] == 1  # the fixture's


def test_replicate_is_recorded_as_not_applicable(adapters, zone, phase):
    done = phase(adapters["route53"], zone["check"], "replicate", mode="recovery")

    assert done.outcome is OK and done.detail["notApplicable"] is True
