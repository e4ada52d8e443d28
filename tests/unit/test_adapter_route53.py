"""The Route 53 adapter's planning (pure): which failover pairs a resource governs, and how they flip."""

from __future__ import annotations

import pytest

from services.workers.adapters.base import Failed
from services.workers.adapters.route53 import Selector, check_change, find_pairs, flip_changes, selector_of, snapshot_of


def record(name, set_id, failover, value, check=None):
    found = {
        "Name": name,
        "Type": "CNAME",
        "SetIdentifier": set_id,
        "Failover": failover,
        "TTL": 60,
        "ResourceRecords": [{"Value": value}],
    }
    return found | ({"HealthCheckId": check} if check else {})


ZONE = {
    "Z1": [
        {"Name": "example.com.", "Type": "NS", "ResourceRecords": [{"Value": "ns-1"}]},
        record("app.example.com.", "primary", "PRIMARY", "app.use1", check="hc-app"),
        record("app.example.com.", "dr", "SECONDARY", "app.usw2"),
        record("api.example.com.", "primary", "PRIMARY", "api.use1", check="hc-api"),
        record("api.example.com.", "dr", "SECONDARY", "api.usw2"),
        record("www.example.com.", "a", "PRIMARY", "www.a"),
        record("www.example.com.", "b", "SECONDARY", "www.b"),
    ]
}


def test_a_health_check_governs_the_pairs_whose_primary_site_record_it_guards():
    (pair,) = find_pairs(Selector(health_check="hc-app"), ZONE)

    assert pair.site["SetIdentifier"] == "primary" and pair.partner["SetIdentifier"] == "dr"
    assert not pair.flipped


def test_a_hosted_zone_governs_every_pair_with_one_health_checked_record():
    pairs = find_pairs(Selector(zone="Z1"), ZONE)

    assert sorted(p.label() for p in pairs) == ["api.example.com. CNAME", "app.example.com. CNAME"]


def test_a_record_set_governs_its_own_pair():
    (pair,) = find_pairs(Selector(zone="Z1", name="www.example.com", type="CNAME", set_identifier="a"), ZONE)

    assert pair.site["ResourceRecords"] == [{"Value": "www.a"}]


def test_flipping_makes_the_dr_record_primary_and_the_primary_site_secondary():
    pairs = find_pairs(Selector(health_check="hc-app"), ZONE)

    (changes,) = flip_changes(pairs).values()

    assert [
        (c["Action"], c["ResourceRecordSet"]["SetIdentifier"], c["ResourceRecordSet"]["Failover"]) for c in changes
    ] == [
        ("UPSERT", "primary", "SECONDARY"),
        ("UPSERT", "dr", "PRIMARY"),
    ]
    assert changes[0]["ResourceRecordSet"]["HealthCheckId"] == "hc-app"


def test_a_pair_flipped_already_needs_no_change_and_is_recorded_as_it_was_before():
    flipped = {
        "Z1": [
            record("app.example.com.", "primary", "SECONDARY", "app.use1", check="hc-app"),
            record("app.example.com.", "dr", "PRIMARY", "app.usw2"),
        ]
    }
    pairs = find_pairs(Selector(health_check="hc-app"), flipped)

    assert flip_changes(pairs) == {}
    assert [(r["record"]["SetIdentifier"], r["record"]["Failover"]) for r in snapshot_of(pairs)] == [
        ("primary", "PRIMARY"),
        ("dr", "SECONDARY"),
    ]


def test_a_change_without_a_value_would_be_refused_and_the_drill_says_so():
    with pytest.raises(Failed, match="no value"):
        check_change({"ResourceRecordSet": {"Name": "a.", "Type": "A", "SetIdentifier": "x", "Failover": "PRIMARY"}})


@pytest.mark.parametrize(
    ("arn", "selector"),
    [
        ("arn:aws:route53:::healthcheck/abc", Selector(health_check="abc")),
        ("arn:aws:route53:::hostedzone/Z1", Selector(zone="Z1")),
        (
            "arn:aws:route53:::hostedzone/Z1/recordset/App.Example.com/cname/primary",
            Selector(zone="Z1", name="app.example.com", type="CNAME", set_identifier="primary"),
        ),
    ],
)
def test_health_check_zone_and_record_set_arns_are_understood(arn, selector):
    assert selector_of(arn) == selector


def test_other_route53_arns_are_refused():
    with pytest.raises(Failed):
        selector_of("arn:aws:route53:::trafficpolicy/abc")
