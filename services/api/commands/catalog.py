"""Protection groups and recovery plans: create and read."""

from __future__ import annotations

from sqlalchemy import Row

from shared.db.engine import Database
from shared.store import groups, plans

from ..auth import Principal
from ..errors import ApiError
from ..schemas import GroupCreate, PlanCreate


class Catalog:
    def __init__(self, db: Database):
        self.db = db

    def create_group(self, principal: Principal, request: GroupCreate) -> Row:
        with self.db.engine.begin() as conn:
            if groups.name_taken(conn, request.name):
                raise ApiError(
                    409, "NAME_TAKEN", f"name: a protection group named {request.name!r} exists", field="name"
                )
            return groups.create(
                conn,
                name=request.name,
                region=request.region,
                account_id=request.account_id,
                selection=request.selection.model_dump(by_alias=True),
                created_by=principal.actor,
            )

    def get_group(self, group_id: str) -> Row:
        with self.db.engine.connect() as conn:
            row = groups.get(conn, group_id)
        if row is None:
            raise ApiError(404, "PROTECTION_GROUP_NOT_FOUND", f"no protection group {group_id!r}")
        return row

    def list_groups(self) -> list[Row]:
        with self.db.engine.connect() as conn:
            return groups.list_all(conn)

    def create_plan(self, principal: Principal, request: PlanCreate) -> Row:
        with self.db.engine.begin() as conn:
            if plans.name_taken(conn, request.name):
                raise ApiError(409, "NAME_TAKEN", f"name: a recovery plan named {request.name!r} exists", field="name")
            wanted = {gid for wave in request.waves for gid in wave.protection_group_ids}
            known = groups.get_many(conn, sorted(wanted))
            for index, wave in enumerate(request.waves):
                for position, gid in enumerate(wave.protection_group_ids):
                    if gid not in known:
                        field = f"waves[{index}].protectionGroupIds[{position}]"
                        raise ApiError(
                            400, "PROTECTION_GROUP_NOT_FOUND", f"{field}: no protection group {gid!r}", field=field
                        )
            waves = [wave.model_dump(by_alias=True, mode="json") for wave in request.waves]
            return plans.create(
                conn, name=request.name, description=request.description, waves=waves, created_by=principal.actor
            )

    def get_plan(self, plan_id: str) -> Row:
        with self.db.engine.connect() as conn:
            row = plans.get(conn, plan_id)
        if row is None:
            raise ApiError(404, "PLAN_NOT_FOUND", f"no recovery plan {plan_id!r}")
        return row

    def list_plans(self) -> list[Row]:
        with self.db.engine.connect() as conn:
            return plans.list_all(conn)
