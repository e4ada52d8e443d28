"""Target accounts: other AWS accounts drwave reaches through a role (CRUD and validation).

The role must belong to the account it is registered for (400 naming ``roleArn``); ``version`` is
checked on update and delete (409 ``VERSION_CONFLICT``); an account is not deleted while a
protection group or an auto-waved plan selects resources in it (409 ``TARGET_ACCOUNT_IN_USE``).
Validation assumes the role and reports what it can see, per region; it changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row

from shared.aws.discovery import AccountAccess, Discovery, DiscoveryError
from shared.db.engine import Database
from shared.domain.errors import (
    RoleOfAnotherAccount,
    TargetAccountExists,
    TargetAccountInUse,
    VersionConflict,
)
from shared.domain.tags import evaluate
from shared.store import audit, groups, plans, target_accounts
from shared.store.audit import Action, Entity

from ..auth import Principal
from ..schemas import TargetAccountCreate, TargetAccountFields, TargetAccountUpdate
from . import lookups

_ROLE_ACCOUNT = re.compile(r"^arn:[^:]+:iam::(\d{12}):role/")
CREATE, UPDATE, DELETE = Action.CREATE, Action.UPDATE, Action.DELETE
ACCOUNT = Entity.TARGET_ACCOUNT


class TargetAccountCommands:
    def __init__(self, db: Database, discovery: Discovery):
        self.db = db
        self.discovery = discovery

    def create(self, principal: Principal, request: TargetAccountCreate) -> Row:
        _check_role_account(request.account_id, request.role_arn)
        with self.db.engine.begin() as conn:
            row = target_accounts.create(
                conn, account_id=request.account_id, created_by=principal.actor, **_account_fields(request)
            )
            if row is not None:
                audit.record(
                    conn, actor=principal.actor, action=CREATE, entity=ACCOUNT, entity_id=row.account_id, after=row
                )
        if row is None:
            raise TargetAccountExists(
                f"accountId: account {request.account_id} is registered already; PUT /v1/target-accounts/"
                f"{request.account_id} changes it",
                field="accountId",
            )
        return row

    def get(self, account_id: str) -> Row:
        with self.db.engine.connect() as conn:
            return lookups.target_account(conn, account_id)

    def list(self) -> list[Row]:
        with self.db.engine.connect() as conn:
            return target_accounts.list_all(conn)

    def update(self, principal: Principal, account_id: str, request: TargetAccountUpdate) -> Row:
        _check_role_account(account_id, request.role_arn)
        with self.db.engine.begin() as conn:
            current = lookups.target_account(conn, account_id)
            row = target_accounts.update(conn, account_id, expected_version=request.version, **_account_fields(request))
            if row is None:
                raise _version_conflict(account_id, request.version, current.version)
            audit.record(
                conn,
                actor=principal.actor,
                action=UPDATE,
                entity=ACCOUNT,
                entity_id=account_id,
                before=current,
                after=row,
            )
            return row

    def delete(self, principal: Principal, account_id: str, version: int) -> str:
        with self.db.engine.begin() as conn:
            current = lookups.target_account(conn, account_id)
            users = groups.using_account(conn, account_id) + plans.using_account(conn, account_id)
            if users:
                raise TargetAccountInUse(
                    f"target account {account_id} is used by {', '.join(users)}; change or delete them first",
                    usedBy=users,
                )
            if not target_accounts.remove(conn, account_id, expected_version=version):
                raise _version_conflict(account_id, version, current.version)
            audit.record(
                conn, actor=principal.actor, action=DELETE, entity=ACCOUNT, entity_id=account_id, before=current
            )
        return f"Deleted target account {account_id}"

    def validate(self, account_id: str) -> dict[str, Any]:
        """Assume the role and count the DR-tagged resources it can see in each region."""
        with self.db.engine.connect() as conn:
            account = lookups.target_account(conn, account_id)
        access = AccountAccess(account.account_id, account.role_arn, account.external_id)
        try:
            seen_as, identity = self.discovery.caller_identity(access)
        except DiscoveryError as error:
            return _report(account, ok=False, identity=None, error=f"cannot assume {account.role_arn}: {error}")
        if seen_as != account.account_id:
            problem = f"the role acts in account {seen_as}, not {account.account_id}"
            return _report(account, ok=False, identity=identity, error=problem)
        regions = [self._region_report(access, region) for region in account.regions]
        return _report(account, ok=all(r["ok"] for r in regions), identity=identity, regions=regions)

    def _region_report(self, access: AccountAccess, region: str) -> dict[str, Any]:
        try:
            found = self.discovery.resources(access, region, include_global=False)
        except DiscoveryError as error:
            return {"region": region, "ok": False, "error": str(error)}
        evaluations = [evaluate(f.arn, f.tags) for f in found]
        valid = [e for e in evaluations if e.valid]
        invalid = sum(1 for e in evaluations if e.errors)
        adapters: dict[str, int] = {}
        for evaluation in valid:
            adapters[evaluation.adapter or "none"] = adapters.get(evaluation.adapter or "none", 0) + 1
        counts = {
            "total": len(evaluations),
            "valid": len(valid),
            "invalid": invalid,
            "not_enrolled": len(evaluations) - len(valid) - invalid,
        }
        return {"region": region, "ok": True, "counts": counts, "adapters": dict(sorted(adapters.items()))}


def _report(
    account: Row, *, ok: bool, identity: str | None, error: str | None = None, regions: list | None = None
) -> dict[str, Any]:
    if ok:
        seen = sum(r["counts"]["total"] for r in regions or [])
        per_region = ", ".join(f"{r['region']} ({r['counts']['total']})" for r in regions or [])
        message = f"Target account {account.account_id}: acting as {identity}; {seen} DR-tagged resources: {per_region}"
    elif error is not None:
        message = f"Target account {account.account_id} is not usable: {error}"
    else:
        failed = [r["region"] for r in regions or [] if not r["ok"]]
        message = f"Target account {account.account_id}: discovery failed in {', '.join(failed)}"
    return {
        "message": message,
        "account_id": account.account_id,
        "ok": ok,
        "identity": identity,
        "error": error,
        "regions": regions or [],
    }


def _account_fields(request: TargetAccountFields) -> dict[str, Any]:
    """What a create and an update both store: name, role, external id and regions."""
    return request.model_dump(include=set(TargetAccountFields.model_fields))


def _check_role_account(account_id: str, role_arn: str) -> None:
    match = _ROLE_ACCOUNT.match(role_arn)
    if match is not None and match[1] != account_id:
        raise RoleOfAnotherAccount(
            f"roleArn: role {role_arn} belongs to account {match[1]}, not {account_id}",
            field="roleArn",
        )


def _version_conflict(account_id: str, sent: int, current: int) -> VersionConflict:
    return VersionConflict(
        f"version: target account {account_id} changed since version {sent} (it is now at version {current}); "
        f"read it again and retry",
        field="version",
        currentVersion=current,
    )
