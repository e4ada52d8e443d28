"""Finds what the queue lost and re-drives it through the same compare-and-set paths
(docs/architecture.md, "Lost messages").

- executions stuck PENDING (the API committed but its publish was lost) are started;
- resources past their wave's timeout are TIMED_OUT (their worker may be gone for good);
- unfinished resources with no heartbeat for `stale_seconds` get their task published again;
- every RUNNING/CANCELLING execution is advanced (a lost or early chord callback is repaired).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from shared.counters import RedisCounter
from shared.domain.states import ExecutionStatus, ResourceStatus
from shared.messaging import RecoverResource
from shared.unit_of_work import UnitOfWorkFactory

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
        uow: UnitOfWorkFactory,
        orchestrator: Orchestrator,
        *,
        pending_grace: float,
        stale_seconds: float,
        actions: RedisCounter | None = None,
    ):
        self.uow = uow
        self.orchestrator = orchestrator
        self.pending_grace = pending_grace
        self.stale_seconds = stale_seconds
        self.actions = actions  # drwave_reconciler_actions_total{action}

    def run_once(self) -> ReconcileReport:
        report = self._repair()
        if self.actions is not None:
            for action, count in asdict(report).items():
                if count:
                    self.actions.inc(action, amount=count)
        return report

    def _repair(self) -> ReconcileReport:
        report = ReconcileReport()
        with self.uow() as uow:
            pending = uow.executions.ids_with_status([ExecutionStatus.PENDING], self.pending_grace)
        for execution_id in pending:
            log.warning("[%s] reconciler: still PENDING after %.0fs, starting it", execution_id, self.pending_grace)
            self.orchestrator.start(execution_id)
            report.started += 1

        with self.uow() as uow:
            for run in uow.resources.overdue_in_running_waves(self.stale_seconds):
                what = "action" if run.is_action else "wave"
                moved = uow.resources.move(
                    run.id,
                    ResourceStatus(run.status),
                    ResourceStatus.TIMED_OUT,
                    actor="reconciler",
                    values={"error": f"{what} timeout reached (its worker was silent)"},
                )
                report.timed_out += moved is not None

        with self.uow() as uow:  # the heartbeat keeps the next round from publishing it again at once
            for run in uow.resources.stale_in_running_waves(self.stale_seconds):
                uow.resources.heartbeat(run.id)
                uow.publish(RecoverResource(run.id, run.adapter, run.execution_id, run.wave_number, run.arn))
                log.warning(
                    "[%s] reconciler: resource run %s silent, publishing its task again", run.execution_id, run.id
                )
                report.republished += 1

        # on-call hook (issue 10): approvals past their timeout, waves past their RTO target
        report.approvals_expired = len(oncall.expire_approvals(self.uow))
        oncall.flag_rto_at_risk(self.uow)

        with self.uow() as uow:
            active = uow.executions.ids_with_status([ExecutionStatus.RUNNING, ExecutionStatus.CANCELLING])
        for execution_id in active:
            self.orchestrator.advance(execution_id)
            report.advanced += 1
        return report
