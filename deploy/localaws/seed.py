"""Load a demo estate (``demo-estate.yaml``) into a localaws endpoint, through boto3 as a user would.

DRS source servers go through the admin API (``POST /_localaws/drs/source-servers``): DRS has no
API to create them. Everything else is created with ordinary boto3 calls and static credentials
(``testing``/``testing``), so it lands in the endpoint's default account.
"""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Any

import boto3
import yaml

DEMO_ESTATE = Path(__file__).with_name("demo-estate.yaml")
LAMBDA_ROLE_NAME = "localaws-lambda"
STATIC_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

KINDS = (
    "drsSourceServers",
    "auroraGlobalClusters",
    "auroraClusters",
    "ecsClusters",
    "ecsServices",
    "lambdaFunctions",
    "route53HostedZones",
    "route53HealthChecks",
    "route53RecordSets",
)


def read_estate(path: Path | None = None) -> dict[str, Any]:
    """The parsed estate file (the demo estate by default)."""
    with open(path or DEMO_ESTATE, encoding="utf-8") as handle:
        estate = yaml.safe_load(handle) or {}
    if not isinstance(estate, dict):
        raise ValueError(f"{path or DEMO_ESTATE}: the estate must be a YAML mapping")
    return estate


def region_of(estate: dict[str, Any], name: str | None, default: str = "primary") -> str:
    """Resolve ``primary``/``dr`` aliases of the estate's ``regions`` block to region names."""
    regions = estate.get("regions") or {"primary": "us-east-1", "dr": "us-west-2"}
    value = name or default
    return str(regions.get(value, value))


def record_set_arn(zone_id: str, name: str, record_type: str, set_identifier: str | None = None) -> str:
    """An ARN-like id for a record set, which has no ARN in AWS.

    ``arn:aws:route53:::hostedzone/<zone>/recordset/<name>/<type>[/<set identifier>]``: it starts
    like the hosted zone's ARN, so tools that route by ARN send it to the Route 53 adapter.
    """
    arn = f"arn:aws:route53:::hostedzone/{zone_id}/recordset/{name}/{record_type}"
    return f"{arn}/{set_identifier}" if set_identifier else arn


def _lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


def _automation(spec: dict[str, Any]) -> dict[str, Any]:
    """An Automation document that declares ``drwave`` (what drwave tells its actions) and ``Target``."""
    return {
        "schemaVersion": "0.3",
        "description": spec.get("description", "a drwave demo runbook"),
        "parameters": {"drwave": {"type": "String", "default": "{}"}, "Target": {"type": "String", "default": "all"}},
        "mainSteps": [
            {"name": "wait", "action": "aws:sleep", "inputs": {"Duration": f"PT{int(spec.get('seconds', 0))}S"}},
            {
                "name": "check",
                "action": "aws:executeScript",
                "inputs": {
                    "LocalAwsOutcome": spec.get("outcome", "Success"),
                    "Message": spec.get("message", "checked {{ Target }} for {{ drwave }}"),
                },
            },
        ],
    }


def _tag_list(tags: dict[str, Any], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: str(k), value: str(v)} for k, v in (tags or {}).items()]


def _admin(endpoint_url: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(
        f"{endpoint_url.rstrip('/')}/_localaws/{path}",
        data=data,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


class _Loader:
    def __init__(self, endpoint_url: str, estate: dict[str, Any]) -> None:
        self.endpoint_url = endpoint_url
        self.estate = estate
        self.resources: list[dict[str, Any]] = []
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service, endpoint_url=self.endpoint_url, region_name=region, **STATIC_CREDENTIALS
            )
        return self._clients[key]

    def record(
        self, kind: str, name: str, arn: str, region: str, tags: dict[str, Any] | None, **extra: Any
    ) -> None:
        tags_str = {str(k): str(v) for k, v in (tags or {}).items()}
        self.resources.append(
            {"kind": kind, "name": name, "arn": arn, "region": region, "tags": tags_str, **extra}
        )

    def load(self) -> dict[str, Any]:
        account = self.client("sts", region_of(self.estate, "primary")).get_caller_identity()["Account"]
        self.drs_source_servers(account)
        self.aurora()
        self.ecs()
        self.lambda_functions()
        self.route53()
        runbooks = self.runbooks()
        counts = {kind: 0 for kind in KINDS}
        arns: dict[str, list[str]] = {kind: [] for kind in KINDS}
        for resource in self.resources:
            counts[resource["kind"]] += 1
            arns[resource["kind"]].append(resource["arn"])
        summary = {"accountId": account, "counts": counts, "arns": arns, "resources": self.resources}
        return {**summary, "runbooks": runbooks}

    def drs_source_servers(self, account: str) -> None:
        specs = self.estate.get("drsSourceServers") or []
        if not specs:
            return
        region = region_of(self.estate, self.estate.get("drsRegion"), "dr")
        origin = region_of(self.estate, "primary")
        servers = [
            {
                "hostname": spec["hostname"],
                "tags": spec.get("tags") or {},
                "failLaunch": bool(spec.get("failLaunch", False)),
                "replicationState": spec.get("replicationState", "CONTINUOUS"),
                "originRegion": origin,
            }
            for spec in specs
        ]
        created = _admin(
            self.endpoint_url,
            "drs/source-servers",
            {"accountId": account, "region": region, "servers": servers},
        )
        for server in created["servers"]:
            self.record(
                "drsSourceServers",
                server["hostname"],
                server["arn"],
                region,
                server["tags"],
                sourceServerID=server["sourceServerID"],
            )

    def aurora(self) -> None:
        for spec in self.estate.get("auroraGlobalClusters") or []:
            primary_region = region_of(self.estate, spec.get("primaryRegion"), "primary")
            secondary_region = region_of(self.estate, spec.get("secondaryRegion"), "dr")
            engine = {"Engine": spec.get("engine", "aurora-postgresql")}
            if spec.get("engineVersion"):
                engine["EngineVersion"] = str(spec["engineVersion"])
            rds = self.client("rds", primary_region)
            created = rds.create_global_cluster(GlobalClusterIdentifier=spec["identifier"], **engine)
            self.record(
                "auroraGlobalClusters",
                spec["identifier"],
                created["GlobalCluster"]["GlobalClusterArn"],
                "global",
                spec.get("tags"),
            )
            for role, region in (("primary", primary_region), ("secondary", secondary_region)):
                member = spec[role]
                kwargs: dict[str, Any] = {
                    "DBClusterIdentifier": member["identifier"],
                    "GlobalClusterIdentifier": spec["identifier"],
                    "Tags": _tag_list(member.get("tags")),
                    **engine,
                }
                if role == "primary":
                    kwargs.update(MasterUsername="drwave", MasterUserPassword="localaws-password")
                cluster = self.client("rds", region).create_db_cluster(**kwargs)["DBCluster"]
                self.record(
                    "auroraClusters",
                    member["identifier"],
                    cluster["DBClusterArn"],
                    region,
                    member.get("tags"),
                    globalCluster=spec["identifier"],
                    globalRole=role,
                )
        for spec in self.estate.get("auroraClusters") or []:
            region = region_of(self.estate, spec.get("region"))
            cluster = self.client("rds", region).create_db_cluster(
                DBClusterIdentifier=spec["identifier"],
                Engine=spec.get("engine", "aurora-postgresql"),
                **({"EngineVersion": str(spec["engineVersion"])} if spec.get("engineVersion") else {}),
                MasterUsername="drwave",
                MasterUserPassword="localaws-password",
                Tags=_tag_list(spec.get("tags")),
            )["DBCluster"]
            self.record(
                "auroraClusters", spec["identifier"], cluster["DBClusterArn"], region, spec.get("tags")
            )

    def ecs(self) -> None:
        for spec in self.estate.get("ecsClusters") or []:
            region = region_of(self.estate, spec.get("region"), "dr")
            ecs = self.client("ecs", region)
            cluster = ecs.create_cluster(
                clusterName=spec["name"], tags=_tag_list(spec.get("tags"), "key", "value")
            )
            self.record(
                "ecsClusters", spec["name"], cluster["cluster"]["clusterArn"], region, spec.get("tags")
            )
            for service in spec.get("services") or []:
                family = f"{spec['name']}-{service['name']}"
                ecs.register_task_definition(
                    family=family,
                    containerDefinitions=[
                        {
                            "name": service["name"],
                            "image": service.get("image", "nginx:stable"),
                            "memory": 256,
                            "essential": True,
                        }
                    ],
                )
                created = ecs.create_service(
                    cluster=spec["name"],
                    serviceName=service["name"],
                    taskDefinition=family,
                    desiredCount=int(service.get("desiredCount", 0)),
                    tags=_tag_list(service.get("tags"), "key", "value"),
                )["service"]
                self.record(
                    "ecsServices",
                    f"{spec['name']}/{service['name']}",
                    created["serviceArn"],
                    region,
                    service.get("tags"),
                    cluster=spec["name"],
                )

    def _lambda_role(self) -> str:
        iam = self.client("iam", region_of(self.estate, "primary"))
        try:
            return iam.get_role(RoleName=LAMBDA_ROLE_NAME)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                    }
                ],
            }
            return iam.create_role(RoleName=LAMBDA_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(policy))[
                "Role"
            ]["Arn"]

    def lambda_functions(self) -> None:
        specs = self.estate.get("lambdaFunctions") or []
        if not specs:
            return
        role = self._lambda_role()
        code = _lambda_zip()
        for spec in specs:
            region = region_of(self.estate, spec.get("region"), "dr")
            lam = self.client("lambda", region)
            created = lam.create_function(
                FunctionName=spec["name"],
                Runtime=spec.get("runtime", "python3.12"),
                Role=role,
                Handler="index.handler",
                Code={"ZipFile": code},
                Tags={str(k): str(v) for k, v in (spec.get("tags") or {}).items()},
            )
            concurrency = spec.get("reservedConcurrency", 0)
            if concurrency is not None:
                lam.put_function_concurrency(
                    FunctionName=spec["name"], ReservedConcurrentExecutions=int(concurrency)
                )
            self.record("lambdaFunctions", spec["name"], created["FunctionArn"], region, spec.get("tags"))

    def runbooks(self) -> dict[str, list[str]]:
        """What plans' pre- and post-wave actions call (not DR resources: no DR tags): Lambda functions that
        answer with their event, Automation documents that take ``seconds`` and end with ``outcome``
        (deploy/localaws/actions.py). Returns their function ARNs and document names."""
        spec = self.estate.get("runbooks") or {}
        made: dict[str, list[str]] = {"functions": [], "documents": []}
        functions = spec.get("lambdaFunctions") or []
        role = self._lambda_role() if functions else ""
        for function in functions:
            lam = self.client("lambda", region_of(self.estate, function.get("region"), "dr"))
            variables = {"LOCALAWS_ERROR": function["error"]} if function.get("error") else {}
            created = lam.create_function(
                FunctionName=function["name"],
                Runtime="python3.12",
                Role=role,
                Handler="index.handler",
                Code={"ZipFile": _lambda_zip()},
                Environment={"Variables": variables},
            )
            made["functions"].append(created["FunctionArn"])
        for document in spec.get("automationDocuments") or []:
            ssm = self.client("ssm", region_of(self.estate, document.get("region"), "dr"))
            ssm.create_document(
                Name=document["name"],
                Content=json.dumps(_automation(document)),
                DocumentType="Automation",
                DocumentFormat="JSON",
            )
            made["documents"].append(document["name"])
        return made

    def _route53_resource(
        self, r53: Any, kind: str, resource_id: str, name: str, tags: dict[str, Any] | None, **extra: Any
    ) -> None:
        """Tag a hosted zone or health check and record it (Route 53 resources are global)."""
        if tags:
            r53.change_tags_for_resource(ResourceType=kind, ResourceId=resource_id, AddTags=_tag_list(tags))
        group = {"hostedzone": "route53HostedZones", "healthcheck": "route53HealthChecks"}[kind]
        self.record(group, name, f"arn:aws:route53:::{kind}/{resource_id}", "global", tags, **extra)

    def route53(self) -> None:
        r53 = self.client("route53", region_of(self.estate, "primary"))
        for spec in self.estate.get("route53HostedZones") or []:
            zone = r53.create_hosted_zone(Name=spec["name"], CallerReference=str(uuid.uuid4()))["HostedZone"]
            zone_id = zone["Id"].rsplit("/", 1)[-1]
            self._route53_resource(r53, "hostedzone", zone_id, spec["name"], spec.get("tags"), hostedZoneId=zone_id)
            checks: dict[str, str] = {}
            for check in spec.get("healthChecks") or []:
                config = {
                    "Type": check.get("type", "HTTPS"),
                    "FullyQualifiedDomainName": check["fqdn"],
                    "Port": int(check.get("port", 443)),
                    "ResourcePath": check.get("path", "/health"),
                }
                created = r53.create_health_check(CallerReference=str(uuid.uuid4()), HealthCheckConfig=config)
                check_id = created["HealthCheck"]["Id"]
                checks[check["ref"]] = check_id
                self._route53_resource(
                    r53, "healthcheck", check_id, check["ref"], check.get("tags"), healthCheckId=check_id
                )
            changes = []
            for record in spec.get("records") or []:
                record_set: dict[str, Any] = {
                    "Name": record["name"],
                    "Type": record.get("type", "CNAME"),
                    "TTL": int(record.get("ttl", 60)),
                    "ResourceRecords": [{"Value": record["value"]}],
                }
                if record.get("failover"):
                    record_set.update(Failover=record["failover"], SetIdentifier=record["setIdentifier"])
                if record.get("healthCheck"):
                    record_set["HealthCheckId"] = checks[record["healthCheck"]]
                changes.append({"Action": "UPSERT", "ResourceRecordSet": record_set})
                name = f"{record['name']}/{record.get('setIdentifier', record_set['Type'])}"
                arn = record_set_arn(zone_id, record["name"], record_set["Type"], record.get("setIdentifier"))
                self.record("route53RecordSets", name, arn, "global", {}, hostedZoneId=zone_id)
            if changes:
                r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


def load_estate(endpoint_url: str, path: Path | None = None, *, reset: bool = False) -> dict[str, Any]:
    """Create the estate described by ``path`` (default: the demo estate) in the endpoint.

    Returns a summary: ``accountId``, ``counts`` (by kind), ``arns`` (by kind) and ``resources``
    (one entry per resource: kind, name, arn, region, tags). Load into a fresh endpoint, or pass
    ``reset=True`` to clear it first (names would clash otherwise).
    """
    estate = read_estate(path)
    if reset:
        _admin(endpoint_url, "reset")
    return _Loader(endpoint_url, estate).load()
