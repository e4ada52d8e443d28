"""The periodic EC2 → DRS tag sync: every Region (and account) a protection group or plan selects from."""

from __future__ import annotations

import logging

from shared.aws.discovery import AccountAccess
from shared.aws.drs_ops import DrsCallFailed, DrsOperations
from shared.aws.sessions import SessionFactory
from shared.db.engine import Database
from shared.store import groups, plans, target_accounts

log = logging.getLogger(__name__)


class PeriodicTagSync:
    def __init__(self, db: Database, sessions: SessionFactory) -> None:
        self.db = db
        self.operations = DrsOperations(sessions)

    def run_once(self) -> dict[str, int]:
        with self.db.engine.connect() as conn:
            places = {(g.account_id, g.region) for g in groups.list_all(conn)}
            places |= {
                (p.auto_waves.get("accountId"), p.auto_waves["region"]) for p in plans.list_all(conn) if p.auto_waves
            }
            accounts = {row.account_id: row for row in target_accounts.list_all(conn)}
        synced = failed = 0
        for account_id, region in sorted(places, key=lambda place: (place[0] or "", place[1])):
            row = accounts.get(account_id) if account_id else None
            access = AccountAccess(row.account_id, row.role_arn, row.external_id) if row else AccountAccess()
            try:
                result = self.operations.tag_sync(access, region, None, dry_run=False, prune=False)
            except DrsCallFailed as failure:
                log.warning("tag sync of %s/%s failed: %s", account_id or "drwave account", region, failure)
                failed += 1
                continue
            synced += result["synced"]
        return {"places": len(places), "synced": synced, "failed": failed}
