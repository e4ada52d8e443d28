"""The `route53` adapter: failover record pairs flipped to the DR site, never in a drill.

A resource names the record pairs it governs:

* a health check (``arn:aws:route53:::healthcheck/<id>``, the taggable thing): every failover pair whose
  record carries that health check — the record of the primary site;
* a hosted zone (``…:hostedzone/<zone>``): every failover pair of the zone with a health-checked record;
* a record set (``…:hostedzone/<zone>/recordset/<name>/<type>/<set id>``, the seed's ARN-like id): its pair,
  the named record being the primary site's.

"Flipping" a pair makes the DR record PRIMARY and the primary site's record SECONDARY (one UPSERT
change batch per hosted zone); status waits for the change to be INSYNC. Before changing anything the
adapter records the pairs as they were (the snapshot, in the run's detail); cleanup restores exactly
that. **In a drill no live record changes**: the adapter works out and checks the change it would make
and records it as "not applied in drill". Route 53 is global: its ARNs name no account, so a target
account comes from the run's ``detail`` (``accountId``).

| phase | what |
|---|---|
| instantiate | flip the pairs (recovery) / record the change it would make (drill) |
| activate | the health checks of the records now serving (PRIMARY) report healthy |
| cleanup | restore the snapshot (only what a recovery-mode execution changed; a drill changed nothing) |
| replicate | not applicable |
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .base import Failed, Outcome, Progress, ResourceContext, Started
from .common import GLOBAL_REGIONS, AwsAdapter, aws, aws_value, done_at_start, pages, parse_arn
from .registry import register

IP, OK, KO = Outcome.IN_PROGRESS, Outcome.SUCCEEDED, Outcome.FAILED
NOT_APPLIED = "not applied in drill"
NO_SNAPSHOT = "no snapshot of the records before the instantiate phase (start cleanup with its sourceExecutionId)"


@dataclass(frozen=True)
class Selector:
    """What a Route 53 resource ARN governs."""

    health_check: str | None = None
    zone: str | None = None
    name: str | None = None
    type: str | None = None
    set_identifier: str | None = None


@dataclass(frozen=True)
class Pair:
    """A failover pair: the primary site's record and its partner (the DR record), as Route 53 lists them."""

    zone: str
    site: dict[str, Any]
    partner: dict[str, Any]

    @property
    def flipped(self) -> bool:
        return self.site.get("Failover") == "SECONDARY"

    def label(self) -> str:
        return f"{self.site['Name']} {self.site['Type']}"


def selector_of(arn: str) -> Selector:
    parsed = parse_arn(arn)
    parts = parsed.resource.split("/")
    if parsed.service != "route53":
        raise Failed(f"{arn} is not a Route 53 ARN")
    if parts[0] == "healthcheck" and len(parts) == 2:
        return Selector(health_check=parts[1])
    if parts[0] == "hostedzone" and len(parts) == 2:
        return Selector(zone=parts[1])
    if parts[0] == "hostedzone" and len(parts) in (5, 6) and parts[2] == "recordset":
        return Selector(
            zone=parts[1],
            name=_name(parts[3]),
            type=parts[4].upper(),
            set_identifier=parts[5] if len(parts) == 6 else None,
        )
    raise Failed(f"{arn}: not a health check, hosted zone or record set of Route 53")


def _name(value: str) -> str:
    return value.rstrip(".").lower()


def find_pairs(selector: Selector, zone_records: dict[str, list[dict[str, Any]]]) -> list[Pair]:
    """The failover pairs a selector governs, from record sets listed per zone (pure)."""
    found: list[Pair] = []
    for zone, records in zone_records.items():
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            if record.get("Failover") in ("PRIMARY", "SECONDARY"):
                groups[(_name(record["Name"]), record["Type"])].append(record)
        for (name, kind), group in groups.items():
            if len(group) != 2 or {r["Failover"] for r in group} != {"PRIMARY", "SECONDARY"}:
                continue
            site = _site(selector, name, kind, group)
            if site is not None:
                found.append(Pair(zone, site, next(r for r in group if r is not site)))
    return found


def _site(selector: Selector, name: str, kind: str, group: list[dict[str, Any]]) -> dict[str, Any] | None:
    if selector.health_check is not None:
        return next((r for r in group if r.get("HealthCheckId") == selector.health_check), None)
    if selector.name is not None:
        if (name, kind) != (selector.name, selector.type):
            return None
        return next((r for r in group if selector.set_identifier in (None, r.get("SetIdentifier"))), None)
    checked = [r for r in group if r.get("HealthCheckId")]
    return checked[0] if len(checked) == 1 else None


def flip_changes(pairs: list[Pair]) -> dict[str, list[dict[str, Any]]]:
    """UPSERTs that make each not-yet-flipped pair's DR record PRIMARY, per zone (pure)."""
    changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pair in pairs:
        if pair.flipped:
            continue
        changes[pair.zone] += [
            {"Action": "UPSERT", "ResourceRecordSet": {**pair.site, "Failover": "SECONDARY"}},
            {"Action": "UPSERT", "ResourceRecordSet": {**pair.partner, "Failover": "PRIMARY"}},
        ]
    return dict(changes)


def snapshot_of(pairs: list[Pair]) -> list[dict[str, Any]]:
    """The pairs as they were before any flip (a pair found flipped already is recorded un-flipped)."""
    records: list[dict[str, Any]] = []
    for pair in pairs:
        site, partner = pair.site, pair.partner
        if pair.flipped:  # flipped by an earlier delivery of this start: its snapshot is the swap back
            site, partner = {**site, "Failover": "PRIMARY"}, {**partner, "Failover": "SECONDARY"}
        records += [{"zone": pair.zone, "record": site}, {"zone": pair.zone, "record": partner}]
    return records


def check_change(change: dict[str, Any]) -> None:
    """What Route 53 would refuse, checked without sending it (a drill's validation)."""
    record = change["ResourceRecordSet"]
    for key in ("Name", "Type", "SetIdentifier", "Failover"):
        if not record.get(key):
            raise Failed(f"the change of {record.get('Name')} would be refused: no {key}")
    if not record.get("ResourceRecords") and not record.get("AliasTarget"):
        raise Failed(f"the change of {record['Name']} would be refused: no value and no alias target")


def summary(pair: Pair) -> str:
    def value(record: dict[str, Any]) -> str:
        if record.get("AliasTarget"):
            return f"alias {record['AliasTarget'].get('DNSName')}"
        return ",".join(r["Value"] for r in record.get("ResourceRecords") or [])

    return f"{pair.label()}: PRIMARY {value(pair.site)} -> {value(pair.partner)}"


@register("route53")
class Route53Adapter(AwsAdapter):
    name = "route53"
    service = "route53"

    def _r53(self, ctx: ResourceContext) -> Any:
        parsed = parse_arn(ctx.arn)
        account = ctx.detail.get("accountId") or parsed.account or None
        return self.client(ctx, GLOBAL_REGIONS.get(parsed.partition, "us-east-1"), account_id=account)

    def _pairs(self, ctx: ResourceContext) -> tuple[Any, list[Pair]]:
        r53 = self._r53(ctx)
        selector = selector_of(ctx.arn)
        if selector.zone is not None:
            zones = [selector.zone]
        elif ctx.detail.get("hostedZoneId"):
            zones = [str(ctx.detail["hostedZoneId"])]
        else:
            zones = [
                zone["Id"].rsplit("/", 1)[-1]
                for page in pages(r53, "list_hosted_zones", "route53.list_hosted_zones")
                for zone in page.get("HostedZones", [])
            ]
        records = {
            zone: [
                record
                for page in pages(
                    r53, "list_resource_record_sets", "route53.list_resource_record_sets", HostedZoneId=zone
                )
                for record in page.get("ResourceRecordSets", [])
            ]
            for zone in zones
        }
        return r53, find_pairs(selector, records)

    def _change(self, r53: Any, ctx: ResourceContext, changes: dict[str, list[dict[str, Any]]], why: str) -> list[str]:
        ids = []
        for zone, batch in changes.items():
            answer = aws(
                lambda zone=zone, batch=batch: r53.change_resource_record_sets(
                    HostedZoneId=zone, ChangeBatch={"Comment": f"drwave {ctx.execution_id}: {why}", "Changes": batch}
                ),
                f"route53.change_resource_record_sets in {zone}",
            )
            ids.append(answer["ChangeInfo"]["Id"])
        return ids

    def instantiate(self, ctx: ResourceContext) -> Started:
        r53, pairs = self._pairs(ctx)
        if not pairs:
            raise Failed(f"{ctx.arn} governs no failover record pair (PRIMARY + SECONDARY of one name and type)")
        changes = flip_changes(pairs)
        detail: dict[str, Any] = {
            "snapshot": ctx.detail.get("snapshot") or snapshot_of(pairs),
            "changes": [summary(p) for p in pairs if not p.flipped],
            "drill": ctx.is_drill,
        }
        if ctx.is_drill:
            for batch in changes.values():
                for change in batch:
                    check_change(change)
            return Started("drill:not-applied", {**detail, "applied": False, "note": NOT_APPLIED})
        if not changes:
            return Started("none:already-flipped", {**detail, "applied": True, "note": "already flipped"})
        ids = self._change(r53, ctx, changes, "fail over to the DR records")
        return Started(",".join(ids), {**detail, "applied": True})

    def activate(self, ctx: ResourceContext) -> Started:
        return Started(f"check:{ctx.arn}", {"check": "serving records healthy"})

    def cleanup(self, ctx: ResourceContext) -> Started:
        source = ctx.source_detail
        snapshot = source.get("snapshot")
        if not snapshot:
            raise Failed(NO_SNAPSHOT)
        if not source.get("applied"):
            return Started("none:nothing-applied", {"note": "nothing to restore: the drill changed no record"})
        changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in snapshot:
            changes[item["zone"]].append({"Action": "UPSERT", "ResourceRecordSet": item["record"]})
        if ctx.is_drill:
            for batch in changes.values():
                for change in batch:
                    check_change(change)
            return Started("drill:not-applied", {"applied": False, "note": f"{NOT_APPLIED}: {len(snapshot)} records"})
        r53 = self._r53(ctx)
        ids = self._change(r53, ctx, dict(changes), "restore the records as they were")
        return Started(",".join(ids), {"applied": True, "restored": len(snapshot)})

    def replicate(self, ctx: ResourceContext) -> Started:
        return self.not_applicable(ctx, "Route 53 records have no replication to reverse")

    def status(self, ctx: ResourceContext) -> Progress:
        if done_at_start(ctx, "drill:", "none:"):
            return Progress(OK)
        if ctx.phase == "activate":
            return self._serving_healthy(ctx)
        r53 = self._r53(ctx)
        statuses = [
            aws_value(lambda change=change: r53.get_change(Id=change), "route53.get_change")["ChangeInfo"]["Status"]
            for change in (ctx.operation_id or "").split(",")
        ]
        if all(status == "INSYNC" for status in statuses):
            return Progress(OK, {"changeStatus": "INSYNC"})
        return Progress(IP, {"changeStatus": "PENDING"})

    def _serving_healthy(self, ctx: ResourceContext) -> Progress:
        r53, pairs = self._pairs(ctx)
        if not pairs:
            return Progress(KO, error=f"{ctx.arn} governs no failover record pair")
        checks = sorted(
            {
                record["HealthCheckId"]
                for pair in pairs
                for record in (pair.site, pair.partner)
                if record.get("Failover") == "PRIMARY" and record.get("HealthCheckId")
            }
        )
        unhealthy = []
        for check in checks:
            answer = aws_value(
                lambda check=check: r53.get_health_check_status(HealthCheckId=check), "route53.get_health_check_status"
            )
            reports = [o.get("StatusReport", {}).get("Status", "") for o in answer.get("HealthCheckObservations", [])]
            if not reports or not all(report.startswith("Success") for report in reports):
                unhealthy.append(check)
        serving = [summary(p) for p in pairs]
        if unhealthy:
            return Progress(IP, {"unhealthy": unhealthy, "serving": serving})
        note = "healthy" if checks else "no health check guards the serving records"
        return Progress(OK, {"healthChecks": checks, "note": note, "serving": serving})
