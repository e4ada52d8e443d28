"""Finds what the queue lost and re-drives it through the same compare-and-set paths (DESIGN §3).

- executions stuck PENDING (the API committed but its publish was lost) are started;
- resources past their wave's timeout are TIMED_OUT (their worker may be gone for good);
- unfinished resources with no heartbeat for `stale_seconds` get their task published again;
- every RUNNING/CANCELLING execution is advanced (a lost or early chord callback is repaired).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.db.engine import Database
from shared.domain.states import ExecutionStatus, ResourceStatus
from shared.messaging import Publisher
from shared.store import executions, resources

from . import oncall
from .orchestrator import Orchestrator

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    started: int = 0
    timed_out: int = 0
    republished: int = 0
    advanced: int = 0
    approvals_expired: int = 0


class Reconciler:
    def __init__(
        self,
        db: Database,
        orchestrator: Orchestrator,
        publisher: Publisher,
        *,
        pending_grace: float,
        stale_seconds: float,
    ):
        self.db = db
        self.orchestrator = orchestrator
        self.publisher = publisher
        self.pending_grace = pending_grace
        self.stale_seconds = stale_seconds

    def run_once(self) -> ReconcileReport:
        report = ReconcileReport()
        with self.db.engine.connect() as conn:
            pending = executions.ids_with_status(conn, [ExecutionStatus.PENDING], self.pending_grace)
        for execution_id in pending:
            log.warning("[%s] reconciler: still PENDING after %.0fs, starting it", execution_id, self.pending_grace)
            self.orchestrator.start(execution_id)
            report.started += 1

        with self.db.engine.begin() as conn:
            for run in resources.overdue_in_running_waves(conn):
                moved = resources.move(
                    conn,
                    run.id,
                    ResourceStatus(run.status),
                    ResourceStatus.TIMED_OUT,
                    actor="reconciler",
                    values={"error": "wave timeout reached"},
                )
                report.timed_out += moved is not None

        with self.db.engine.begin() as conn:
            stale = resources.stale_in_running_waves(conn, self.stale_seconds)
            for run in stale:
                resources.heartbeat(conn, run.id)
        for run in stale:
            log.warning("[%s] reconciler: resource run %s silent, publishing its task again", run.execution_id, run.id)
            self.publisher.recover_resource(run.id, run.adapter)
            report.republished += 1

        # on-call hook (issue 10): approvals past their timeout, waves past their RTO target
        report.approvals_expired = len(oncall.expire_approvals(self.db))
        oncall.flag_rto_at_risk(self.db)

        with self.db.engine.connect() as conn:
            active = executions.ids_with_status(conn, [ExecutionStatus.RUNNING, ExecutionStatus.CANCELLING])
        for execution_id in active:
            self.orchestrator.advance(execution_id)
            report.advanced += 1
        return report
