"""DRS depth: a group's launch settings, EC2 → DRS tag sync, an execution's recovery instances and job logs.

Each call reads Postgres first (the group, the execution's DRS resource runs and their job ids), closes
the connection, then asks AWS in the resource's account (a registered target account's role when the
ARN's account is one) and Region.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection

from shared.aws.discovery import AccountAccess
from shared.aws.drs_launch import DrsLaunchSettings
from shared.aws.drs_ops import GONE, DrsCallFailed, DrsOperations
from shared.db.engine import Database
from shared.domain.arns import Arn, InvalidArn
from shared.domain.errors import (
    AwsRefused,
    AwsUnavailable,
    ExecutionNotFound,
    InvalidLaunchSettings,
    NoLaunchSettings,
    NotADrsResource,
    RecoveryInstancesServeProduction,
    ResourceRunNotFound,
)
from shared.store import events, executions, launch_batches, resources, target_accounts

from ..auth import Principal
from . import lookups
from .resolve import Resolver

log = logging.getLogger(__name__)


def _aws_error(failure: DrsCallFailed) -> AwsUnavailable | AwsRefused:
    if failure.retryable:
        return AwsUnavailable(f"AWS did not answer: {failure.message}; try again", awsErrorCode=failure.code)
    return AwsRefused(f"AWS refused: {failure.message}", awsErrorCode=failure.code)


def _access(conn: Connection, account_id: str | None) -> AccountAccess:
    row = target_accounts.get(conn, account_id) if account_id else None
    return AccountAccess(row.account_id, row.role_arn, row.external_id) if row else AccountAccess(account_id)


def _place(arn: str) -> tuple[str, str, str]:
    """(account, region, source server id) of a DRS source server ARN."""
    parsed = Arn.parse(arn)
    return parsed.account, parsed.region, parsed.resource_id


class DrsCommands:
    def __init__(self, db: Database, resolver: Resolver, operations: DrsOperations) -> None:
        self.db = db
        self.resolver = resolver
        self.ops = operations
        self.launch = DrsLaunchSettings(operations)

    # --- launch settings ---------------------------------------------------------------------------

    def _group_servers(self, group_id: str) -> tuple[Any, AccountAccess, list[tuple[str, str]]]:
        with self.db.engine.connect() as conn:
            group = lookups.group(conn, group_id)
            access = _access(conn, group.account_id)
        found = self.resolver.selection(group.account_id, group.region, group.selection)
        servers = sorted(
            (Arn.parse(f.arn).resource_id, f.arn) for f in found if f.evaluation.adapter == "drs" and f.evaluation.valid
        )
        return group, access, servers

    def launch_settings(self, group_id: str) -> dict[str, Any]:
        """Per server: ``applied``, ``drifted`` (the fields) or ``failed`` (the error), as AWS reports it now."""
        group, access, servers = self._group_servers(group_id)
        settings = group.launch_settings
        states = []
        for server_id, arn in servers:
            view: dict[str, Any] = {"source_server_id": server_id, "arn": arn}
            if settings is None:
                view.update(status="drifted", drifted_fields=["launchSettings"])
            else:
                try:
                    view.update(self.launch.state(access, group.region, settings, server_id))
                except DrsCallFailed as failure:
                    view.update(status="failed", error=failure.message)
            states.append(view)
        return self._launch_view(group, states, "now")

    def apply_launch_settings(self, principal: Principal, group_id: str) -> dict[str, Any]:
        group, access, servers = self._group_servers(group_id)
        settings = group.launch_settings
        if not settings:
            raise NoLaunchSettings(group_id)
        try:
            problems = self.launch.problems(access, group.region, settings, [sid for sid, _ in servers])
        except DrsCallFailed as failure:
            raise _aws_error(failure) from failure
        if problems:
            raise InvalidLaunchSettings(problems)
        states = []
        for server_id, arn in servers:
            view: dict[str, Any] = {"source_server_id": server_id, "arn": arn}
            try:
                view.update(self.launch.apply(access, group.region, settings, server_id))
            except DrsCallFailed as failure:
                view.update(status="failed", error=failure.message)
            states.append(view)
        log.info("launch settings of %s applied by %s to %d server(s)", group_id, principal.actor, len(states))
        return self._launch_view(group, states, "applied")

    @staticmethod
    def _launch_view(group: Any, states: list[dict[str, Any]], verb: str) -> dict[str, Any]:
        counts = defaultdict(int)
        for state in states:
            counts[state["status"]] += 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no DRS source server"
        return {
            "message": f"Launch settings of protection group {group.id} '{group.name}' {verb}: {summary}",
            "protection_group_id": group.id,
            "launch_settings": group.launch_settings,
            "servers": states,
        }

    # --- tag sync ----------------------------------------------------------------------------------

    def tag_sync(self, request: Any) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            access = _access(conn, request.account_id)
        try:
            result = self.ops.tag_sync(
                access, request.region, request.tag_keys, dry_run=request.dry_run, prune=request.prune
            )
        except DrsCallFailed as failure:
            raise _aws_error(failure) from failure
        verb = "would sync" if request.dry_run else "synced"
        result["message"] = (
            f"Tag sync {request.account_id or 'drwave account'}/{request.region}: {verb} {result['synced']} "
            f"source server(s), {result['unchanged']} unchanged, {len(result['missing_servers'])} missing"
        )
        return result

    # --- recovery instances ------------------------------------------------------------------------

    def _drs_runs(self, execution_id: str) -> tuple[Any, dict[tuple[str, str], dict[str, Any]]]:
        """The execution and, per (account, region): access, server ids and the DRS jobs it started."""
        with self.db.engine.connect() as conn:
            execution = executions.get(conn, execution_id)
            if execution is None:
                raise ExecutionNotFound(execution_id)
            runs = [r for r in resources.list_for(conn, execution_id) if r.adapter == "drs"]
            jobs = launch_batches.jobs_of(conn, [r.id for r in runs])
            places: dict[tuple[str, str], dict[str, Any]] = {}
            for run in runs:
                try:
                    account, region, server_id = _place(run.arn)
                except InvalidArn:
                    continue
                place = places.setdefault(
                    (account, region), {"access": _access(conn, account), "servers": set(), "jobs": set()}
                )
                place["servers"].add((run.detail or {}).get("sourceServerID") or server_id)
                job = (run.detail or {}).get("jobID") or jobs.get(run.id)
                if job:
                    place["jobs"].add(job)
        return execution, places

    def recovery_instances(self, execution_id: str) -> dict[str, Any]:
        _, places = self._drs_runs(execution_id)
        items = self._instances(places)
        running = sum(1 for i in items if i["state"] not in GONE)
        return {
            "message": f"{execution_id} launched {len(items)} recovery instance(s), {running} running",
            "items": items,
        }

    def _instances(self, places: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
        items = []
        for (_, region), place in sorted(places.items()):
            try:
                items += self.ops.recovery_instances(place["access"], region, place["servers"], place["jobs"])
            except DrsCallFailed as failure:
                raise _aws_error(failure) from failure
        return items

    def terminate(self, principal: Principal, execution_id: str, force: bool) -> dict[str, Any]:
        """Terminate what an execution launched when its cleanup cannot run; a recovery's only with force."""
        execution, places = self._drs_runs(execution_id)
        if execution.mode == "recovery" and not force:
            raise RecoveryInstancesServeProduction(execution_id)
        terminated, job_ids = [], []
        for (_, region), place in sorted(places.items()):
            try:
                found = self.ops.recovery_instances(place["access"], region, place["servers"], place["jobs"])
                alive = [i["recovery_instance_id"] for i in found if i["state"] not in GONE]
                if alive:
                    job_ids.append(self.ops.terminate(place["access"], region, alive))
                    terminated += alive
            except DrsCallFailed as failure:
                raise _aws_error(failure) from failure
        with self.db.engine.begin() as conn:
            events.append(
                conn,
                execution_id,
                "execution.instances_terminated",
                principal.actor,
                f"Terminating {len(terminated)} recovery instance(s) launched by {execution_id}",
                detail={"recoveryInstanceIds": terminated, "jobIds": job_ids, "force": force},
            )
        return {
            "message": f"Terminating {len(terminated)} recovery instance(s) launched by {execution_id}",
            "terminated": terminated,
            "job_ids": job_ids,
        }

    # --- job logs ----------------------------------------------------------------------------------

    def job_log(self, execution_id: str, run_id: int) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            run = next((r for r in resources.list_for(conn, execution_id) if r.id == run_id), None)
            if run is None:
                if executions.get(conn, execution_id) is None:
                    raise ExecutionNotFound(execution_id)
                raise ResourceRunNotFound(execution_id, run_id)
            if run.adapter != "drs":
                raise NotADrsResource(run_id, run.adapter)
            job_id = (run.detail or {}).get("jobID") or launch_batches.jobs_of(conn, [run.id]).get(run.id)
            account, region, server_id = _place(run.arn)
            access = _access(conn, account)
        items: list[dict[str, Any]] = []
        if job_id:
            try:
                items = self.ops.job_log(access, region, job_id, (run.detail or {}).get("sourceServerID") or server_id)
            except DrsCallFailed as failure:
                raise _aws_error(failure) from failure
        return {"resource_run_id": run.id, "arn": run.arn, "job_id": job_id, "items": items}

    def with_latest_job_log(self, detail: dict[str, Any]) -> dict[str, Any]:
        """An execution detail whose DRS resource runs carry their latest job log item."""
        runs = [run for wave in detail["waves"] for run in wave["resources"]]
        if not any(run.adapter == "drs" for run in runs):
            return detail
        latest = self.latest_log_items(runs)
        for wave in detail["waves"]:
            wave["resources"] = [{**run._mapping, "latest_job_log": latest.get(run.id)} for run in wave["resources"]]
        return detail

    def latest_log_items(self, runs: list[Any]) -> dict[int, dict[str, Any]]:
        """The latest job log item of each DRS resource run (one log read per job); none when AWS fails."""
        by_job: dict[tuple[str, str, str], list[tuple[int, str]]] = defaultdict(list)
        with self.db.engine.connect() as conn:
            accesses: dict[str, AccountAccess] = {}
            for run in runs:
                job_id = (run.detail or {}).get("jobID")
                if run.adapter != "drs" or not job_id:
                    continue
                try:
                    account, region, server_id = _place(run.arn)
                except InvalidArn:
                    continue
                accesses.setdefault(account, _access(conn, account))
                by_job[(account, region, job_id)].append(
                    (run.id, (run.detail or {}).get("sourceServerID") or server_id)
                )
        latest: dict[int, dict[str, Any]] = {}
        for (account, region, job_id), members in by_job.items():
            try:
                items = self.ops.job_log(accesses[account], region, job_id)
            except DrsCallFailed as failure:
                log.warning("job log of %s not read: %s", job_id, failure)
                continue
            for run_id, server_id in members:  # the latest item about the server, else about its job
                own = [i for i in items if i["event_data"].get("sourceServerID") == server_id]
                shared = [i for i in items if i["event_data"].get("sourceServerID") is None]
                if own or shared:
                    latest[run_id] = (own or shared)[-1]
        return latest
