"""The notifier's service layer: fan the outbox out to subscriptions, deliver one event per task.

- `pump` (every poll interval): turns new outbox rows into envelopes and per-subscription deliveries, in
  outbox order (one fan-out at a time, under an advisory lock), then leases the first due delivery of
  every (subscription, stream) and queues a deliver task for it. A stream is one execution's events, or
  one plan's plan-level events (``plan.readiness_changed``), or an event on its own (a test event). A
  later event of a stream is not leased before its head is delivered or given up: they arrive in order.
- `deliver`: one attempt. Success marks it delivered; a failure schedules the next attempt with
  exponential backoff and jitter, until the retry window (24 h by default) is over, then marks it failed.

Deliveries run in the notifier's own processes on the `notifications` queue and the engine only writes
rows, so a dead or slow receiver never delays a wave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Row

from shared.db.engine import Database
from shared.domain import notifications as domain
from shared.domain.notifications import EventType, Retry
from shared.domain.states import ExecutionStatus
from shared.notify.senders import Sender
from shared.reports import load
from shared.store import approval_requests, deliveries, executions, outbox, resources, subscriptions, waves

log = logging.getLogger(__name__)
FAN_OUT_BATCH = 500


@dataclass
class PumpReport:
    fanned_out: int = 0
    queued: int = 0


class Notifier:
    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        retry: Retry,
        *,
        lease_seconds: float,
        api_url: str,
        queue_delivery: Callable[[int], None],
        queue_report: Callable[[str], None] | None = None,
    ):
        self.db = db
        self.senders = senders
        self.retry = retry
        self.lease_seconds = lease_seconds
        self.api_url = api_url
        self.queue_delivery = queue_delivery
        self.queue_report = queue_report

    # --- pump ------------------------------------------------------------------------------------

    def pump(self) -> PumpReport:
        report = PumpReport(fanned_out=self.fan_out())
        with self.db.engine.begin() as conn:
            due = deliveries.lease_due_heads(conn, self.lease_seconds)
        for delivery_id in due:
            self.queue_delivery(delivery_id)
        report.queued = len(due)
        return report

    def fan_out(self) -> int:
        finished: list[str] = []
        with self.db.engine.begin() as conn:
            if not outbox.take_fan_out_lock(conn):
                return 0
            rows = outbox.unfanned(conn, FAN_OUT_BATCH)
            if not rows:
                return 0
            subs = subscriptions.list_all(conn)
            for row in rows:
                envelope = row.envelope or self._safe_envelope(conn, row)
                kind = EventType(envelope["type"])
                plan_id = envelope["data"].get("planId")
                for sub in subs:
                    if domain.matches(sub.events, sub.plan_ids, kind, plan_id):
                        deliveries.add(conn, subscription_id=sub.id, outbox=row, event_type=kind.value, plan_id=plan_id)
                outbox.mark_fanned(conn, row.id, envelope)
                if kind is EventType.EXECUTION_FINISHED:
                    finished.append(row.execution_id)
        if self.queue_report is not None:
            for execution_id in finished:
                self.queue_report(execution_id)
        return len(rows)

    def _safe_envelope(self, conn: Connection, row: Row) -> dict[str, Any]:
        """A row whose data cannot be gathered still goes out, with the timeline's message: one bad row must
        not hold back every later notification."""
        try:
            with conn.begin_nested():
                return self.envelope(conn, row)
        except Exception:
            log.exception(
                "[%s] outbox row %s: building its data failed; sending the message only", row.execution_id, row.id
            )
            kind = domain.TIMELINE_TYPES.get(row.kind, EventType.TEST)
            return domain.envelope(event_id=row.event_id, kind=kind, at=row.at, execution=None, message=row.message)

    def envelope(self, conn: Connection, row: Row) -> dict[str, Any]:
        """The envelope of a timeline entry, with the data its type promises."""
        execution = executions.get(conn, row.execution_id)._mapping
        kind = domain.event_type(
            row.kind, was_paused=outbox.was_paused_before(conn, row.execution_id, row.timeline_event_id)
        )
        facts = dict(execution)
        if kind is EventType.EXECUTION_RETRIED:  # a retry moves the execution to RUNNING
            facts["status"] = ExecutionStatus.RUNNING.value
        elif row.kind.startswith("execution."):
            facts["status"] = row.kind.split(".", 1)[1].upper()
        wave = waves.get(conn, row.execution_id, row.wave_number) if row.wave_number is not None else None
        extra: dict[str, Any] = {"actor": row.actor}
        if kind is EventType.EXECUTION_PAUSED:
            wave, extra = self._paused(conn, row, execution, extra)
        elif kind is EventType.EXECUTION_FINISHED:
            report = load.report(conn, row.execution_id)
            extra |= {
                "statusReason": execution["status_reason"],
                "counts": report["counts"],
                "durationSeconds": report["durationSeconds"],
                "rto": report["rto"],
                "rtoMet": report["rto"]["met"],
            }
        elif kind is EventType.RESOURCE_FAILED:
            detail = row.detail or {}
            extra |= {"arn": row.resource_arn, "error": detail.get("error"), "operationId": detail.get("operationId")}
        elif row.detail:
            extra |= row.detail
        return domain.envelope(
            event_id=row.event_id,
            kind=kind,
            at=row.at,
            execution=facts,
            message=row.message,
            wave=self._wave(conn, wave) if wave is not None else None,
            extra=extra,
        )

    def _paused(self, conn: Connection, row: Row, execution: Mapping[str, Any], extra: dict[str, Any]):
        opened = [r for r in approval_requests.list_for(conn, row.execution_id) if r.opened_at >= row.at]
        request = opened[0] if opened else None
        number = request.wave_number if request is not None else execution["paused_before_wave"]
        wave = waves.get(conn, row.execution_id, number) if number is not None else None
        extra |= {
            "reason": request.reason if request is not None else execution["status_reason"],
            "approvalsRequired": request.required if request is not None else 0,
            "approvalsReceived": 0,
            "expiresAt": request.expires_at.isoformat() if request is not None and request.expires_at else None,
            **domain.approve_hint(self.api_url, row.execution_id),
        }
        return wave, extra

    @staticmethod
    def _wave(conn: Connection, wave: Row) -> dict[str, Any]:
        runs = [r for r in resources.list_for(conn, wave.execution_id) if r.wave_number == wave.number]
        counts: dict[str, int] = {}
        for run in runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        return {
            "number": wave.number,
            "name": wave.name,
            "status": wave.status,
            "rtoTargetMinutes": wave.rto_target_minutes,
            "counts": counts,
        }

    # --- deliver ---------------------------------------------------------------------------------

    def deliver(self, delivery_id: int) -> str:
        with self.db.engine.begin() as conn:
            delivery = deliveries.load(conn, delivery_id)
            if delivery is None or delivery.status != deliveries.PENDING:
                return "done"
            if deliveries.earlier_pending(conn, delivery):  # its stream's head goes first
                deliveries.release(conn, delivery_id)
                return "waiting"
        sender = self.senders[delivery.kind]
        sent = sender.send(delivery.target, delivery.secret, delivery.envelope)
        with self.db.engine.begin() as conn:
            if sent.ok:
                deliveries.delivered(conn, delivery_id, sent.status_code)
                return "delivered"
            attempts = delivery.attempts + 1
            delay = self.retry.delay(attempts)
            age = (delivery.now - delivery.created_at).total_seconds()
            retry_at = None if self.retry.gives_up(age, delay) else delivery.now + timedelta(seconds=delay)
            deliveries.attempt_failed(
                conn, delivery_id, error=sent.error or "failed", status_code=sent.status_code, retry_at=retry_at
            )
        log.warning(
            "delivery %s of %s to %s failed (attempt %d): %s; %s",
            delivery_id,
            delivery.event_id,
            delivery.subscription_id,
            attempts,
            sent.error,
            f"next at {retry_at:%H:%M:%S}" if retry_at else "giving up",
        )
        return "retry" if retry_at else "failed"
