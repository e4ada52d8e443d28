"""Protection groups and recovery plans: create, read, update (optimistic locking), delete.

Rules (docs/architecture.md, "API contract"): names unique case-insensitively (409 ``NAME_TAKEN``); ``version`` must be
the one last read (409 ``VERSION_CONFLICT``); a group's region never changes (400); a group is not
deleted while a plan names it (409 ``PROTECTION_GROUP_IN_USE``) nor edited while an execution of
such a plan is active (409 ``PROTECTION_GROUP_EXECUTING``); a plan is not deleted while it executes.
Row locks make the checks hold under concurrency: a plan write takes ``FOR SHARE`` on the groups it
names, a group edit or delete takes ``FOR UPDATE`` on the group before looking for users.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError

from shared.db.engine import Database
from shared.domain.errors import (
    InvalidWaveAction,
    MissingProtectionGroup,
    NameTaken,
    PlanExecuting,
    ProtectionGroupExecuting,
    ProtectionGroupInUse,
    RegionImmutable,
    VersionConflict,
)
from shared.store import audit, executions, groups, plans
from shared.store.audit import Action, Entity

from ..auth import Principal
from ..schemas import GroupCreate, GroupUpdate, PlanCreate, PlanUpdate, SsmAutomationAction, WaveSpec
from . import lookups

CREATE, UPDATE, DELETE = Action.CREATE, Action.UPDATE, Action.DELETE
GROUP, PLAN = Entity.PROTECTION_GROUP, Entity.RECOVERY_PLAN


class Catalog:
    def __init__(self, db: Database):
        self.db = db

    # --- protection groups -----------------------------------------------------------------------

    def create_group(self, principal: Principal, request: GroupCreate) -> Row:
        with self.db.engine.begin() as conn:
            with _unique_name(conn, groups, "protection group", request.name):
                row = groups.create(conn, region=request.region, created_by=principal.actor, **_group_fields(request))
            audit.record(conn, actor=principal.actor, action=CREATE, entity=GROUP, entity_id=row.id, after=row)
            return row

    def get_group(self, group_id: str) -> Row:
        with self.db.engine.connect() as conn:
            return lookups.group(conn, group_id)

    def list_groups(self) -> list[Row]:
        with self.db.engine.connect() as conn:
            return groups.list_all(conn)

    def update_group(self, principal: Principal, group_id: str, request: GroupUpdate) -> Row:
        with self.db.engine.begin() as conn:
            current = lookups.group(conn, group_id, lock=True)
            _check_version("protection group", current, request.version)
            if request.region != current.region:
                raise RegionImmutable(
                    f"region: the region of protection group {group_id} is {current.region} and cannot change; "
                    f"create a new group for {request.region}",
                    field="region",
                )
            active = plans.active_execution_using_group(conn, group_id)
            if active is not None:
                execution_id, plan_id = active
                raise ProtectionGroupExecuting(
                    f"protection group {group_id} is used by plan {plan_id}, which is executing as {execution_id}; "
                    f"edit it when the execution has finished",
                    executionId=execution_id,
                    planId=plan_id,
                )
            with _unique_name(conn, groups, "protection group", request.name, other_than=group_id):
                row = groups.update(conn, group_id, expected_version=request.version, **_group_fields(request))
            if row is None:  # cannot happen under the row lock; kept as the compare-and-set it is
                raise _version_conflict("protection group", group_id, request.version, current.version)
            audit.record(
                conn, actor=principal.actor, action=UPDATE, entity=GROUP, entity_id=group_id, before=current, after=row
            )
            return row

    def delete_group(self, principal: Principal, group_id: str, version: int) -> str:
        with self.db.engine.begin() as conn:
            current = lookups.group(conn, group_id, lock=True)
            _check_version("protection group", current, version)
            users = plans.using_group(conn, group_id)
            if users:
                raise ProtectionGroupInUse(
                    f"protection group {group_id} is used by plan(s) {', '.join(users)}; remove it from them first",
                    planIds=users,
                )
            groups.remove(conn, group_id, expected_version=version)
            audit.record(conn, actor=principal.actor, action=DELETE, entity=GROUP, entity_id=group_id, before=current)
        return f"Deleted protection group {group_id} '{current.name}'"

    # --- recovery plans ----------------------------------------------------------------------------

    def create_plan(self, principal: Principal, request: PlanCreate) -> Row:
        with self.db.engine.begin() as conn:
            with _unique_name(conn, plans, "recovery plan", request.name):
                row = plans.create(conn, created_by=principal.actor, **_plan_fields(conn, request))
            audit.record(conn, actor=principal.actor, action=CREATE, entity=PLAN, entity_id=row.id, after=row)
            return row

    def get_plan(self, plan_id: str) -> Row:
        with self.db.engine.connect() as conn:
            return lookups.plan(conn, plan_id)

    def list_plans(self) -> list[Row]:
        with self.db.engine.connect() as conn:
            return plans.list_all(conn)

    def update_plan(self, principal: Principal, plan_id: str, request: PlanUpdate) -> Row:
        with self.db.engine.begin() as conn:
            current = lookups.plan(conn, plan_id)
            _check_version("recovery plan", current, request.version)
            with _unique_name(conn, plans, "recovery plan", request.name, other_than=plan_id):
                row = plans.update(conn, plan_id, expected_version=request.version, **_plan_fields(conn, request))
            if row is None:  # another writer won between the read and the compare-and-set
                raise _version_conflict("recovery plan", plan_id, request.version, None)
            audit.record(
                conn, actor=principal.actor, action=UPDATE, entity=PLAN, entity_id=plan_id, before=current, after=row
            )
            return row

    def delete_plan(self, principal: Principal, plan_id: str, version: int) -> str:
        with self.db.engine.begin() as conn:
            current = lookups.plan(conn, plan_id)
            _check_version("recovery plan", current, version)
            active = executions.active_for_plan(conn, plan_id)
            if active is not None:
                raise PlanExecuting(
                    f"recovery plan {plan_id} is executing as {active}; delete it when the execution has finished",
                    executionId=active,
                )
            if plans.soft_delete(conn, plan_id, expected_version=version) is None:
                raise _version_conflict("recovery plan", plan_id, version, None)
            audit.record(conn, actor=principal.actor, action=DELETE, entity=PLAN, entity_id=plan_id, before=current)
        return f"Deleted recovery plan {plan_id} '{current.name}'"


# --- helpers -------------------------------------------------------------------------------------


def _group_fields(request: GroupCreate) -> dict[str, Any]:
    """What a create and an update of a group both store (the region is set once, at create)."""
    return {
        "name": request.name,
        "account_id": request.account_id,
        "selection": request.selection.stored(),
        "launch_settings": request.launch_settings.stored() if request.launch_settings else None,
    }


def _plan_fields(conn: Connection, request: PlanCreate) -> dict[str, Any]:
    """Columns of a plan; the groups its waves name must exist (locked ``FOR SHARE`` until commit)."""
    if request.auto_waves is not None:
        return {
            "name": request.name,
            "description": request.description,
            "waves": [],
            "auto_waves": request.auto_waves.model_dump(by_alias=True, mode="json"),
            "approvals": _approvals(request),
        }
    waves = request.waves or []
    wanted = {gid for wave in waves for gid in wave.protection_group_ids}
    known = groups.get_many(conn, sorted(wanted), share=True)
    for index, wave in enumerate(waves):
        for position, gid in enumerate(wave.protection_group_ids):
            if gid not in known:
                field = f"waves[{index}].protectionGroupIds[{position}]"
                raise MissingProtectionGroup(field, gid, field=field)
    _check_actions(waves)
    return {
        "name": request.name,
        "description": request.description,
        "waves": [wave.model_dump(by_alias=True, mode="json") for wave in waves],
        "auto_waves": None,
        "approvals": _approvals(request),
    }


def _check_actions(waves: list[WaveSpec]) -> None:
    """An SSM action runs in its own region, else in its wave's first protection group's: a wave without
    groups must name it (a Lambda function's region is in its ARN)."""
    for index, wave in enumerate(waves):
        if wave.protection_group_ids:
            continue
        for kind, actions in (("preActions", wave.pre_actions), ("postActions", wave.post_actions)):
            for position, action in enumerate(actions):
                needs_region = isinstance(action, SsmAutomationAction) and action.region is None
                if needs_region and not action.document_name.startswith("arn:"):
                    raise InvalidWaveAction(
                        f"waves[{index}].{kind}[{position}].region",
                        "required: the wave has no protection group whose region the automation could run in",
                    )


def _approvals(request: PlanCreate) -> dict[str, Any] | None:
    """The plan's approval policy as stored (issue 10); None keeps the defaults."""
    return request.approvals.model_dump(by_alias=True, mode="json") if request.approvals is not None else None


def _check_version(kind: str, current: Row, version: int) -> None:
    if current.version != version:
        raise _version_conflict(kind, current.id, version, current.version)


def _version_conflict(kind: str, item_id: str, sent: int, current: int | None) -> VersionConflict:
    now = f" (it is now at version {current})" if current is not None else ""
    return VersionConflict(
        f"version: {kind} {item_id} changed since version {sent}{now}; read it again and retry",
        field="version",
        currentVersion=current,
    )


def _name_taken(kind: str, name: str) -> NameTaken:
    return NameTaken(f"name: a {kind} named {name!r} exists", field="name")


@contextmanager
def _unique_name(
    conn: Connection, store: ModuleType, kind: str, name: str, *, other_than: str | None = None
) -> Iterator[None]:
    """Names are unique case-insensitively: 409 ``NAME_TAKEN`` when another item has the name before the
    write in the block (``store.name_taken``) and when a concurrent writer took it first (it trips the
    unique index)."""
    if store.name_taken(conn, name, other_than=other_than):
        raise _name_taken(kind, name)
    try:
        yield
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None) or ""
        if constraint.endswith("_lower_name"):
            raise _name_taken(kind, name) from None
        raise
