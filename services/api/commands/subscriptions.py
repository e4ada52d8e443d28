"""Subscriptions: create (a webhook gets its signing secret, once), read, replace, delete, deliveries,
and a test event delivered at once."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from shared.db.engine import Database
from shared.domain import notifications
from shared.domain.notifications import EventType
from shared.domain.subscriptions import InvalidTarget, SubscriptionNotFound
from shared.notify.senders import Sender
from shared.notify.targets import TargetRefused, check_url
from shared.store import deliveries, outbox, subscriptions

from ..auth import Principal
from ..oncall_schemas import SubscriptionFields

URL_KINDS = ("webhook", "slack")
SECRET_BYTES = 24
EVENT_BUS = re.compile(r"^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/)?[\w.\-/]{1,256}$")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class SubscriptionCommands:
    def __init__(self, db: Database, senders: dict[str, Sender], *, allow_private: bool, send_timeout: float):
        self.db = db
        self.senders = senders
        self.allow_private = allow_private
        self.send_timeout = send_timeout

    def create(self, principal: Principal, request: SubscriptionFields) -> tuple[Row, str]:
        self._check_target(request)
        secret = new_secret() if request.kind == "webhook" else None
        with self.db.engine.begin() as conn:
            row = subscriptions.create(conn, created_by=principal.actor, secret=secret, **_fields(request))
        return row, f"Subscribed {row.id} '{row.name}' ({row.kind}) to {', '.join(row.events)}"

    def get(self, subscription_id: str) -> Row:
        with self.db.engine.connect() as conn:
            return self._get(conn, subscription_id)

    def list(self) -> list[Row]:
        with self.db.engine.connect() as conn:
            return subscriptions.list_all(conn)

    def update(self, principal: Principal, subscription_id: str, request: SubscriptionFields) -> Row:
        self._check_target(request)
        with self.db.engine.begin() as conn:
            current = self._get(conn, subscription_id)
            secret = current.secret if request.kind == "webhook" else None
            if request.kind == "webhook" and secret is None:
                secret = new_secret()  # became a webhook: GET cannot show it, so it must be re-created to learn it
            return subscriptions.update_fields(conn, subscription_id, secret=secret, **_fields(request))

    def delete(self, subscription_id: str) -> str:
        with self.db.engine.begin() as conn:
            row = self._get(conn, subscription_id)
            subscriptions.remove(conn, subscription_id)
        return f"Deleted subscription {subscription_id} '{row.name}' and its deliveries"

    def deliveries(self, subscription_id: str, before: int | None, limit: int) -> list[Row]:
        with self.db.engine.connect() as conn:
            self._get(conn, subscription_id)
            return deliveries.page(conn, subscription_id, before_id=before, limit=limit)

    def test(self, principal: Principal, subscription_id: str) -> tuple[Row, str]:
        """Record a `test` event for this subscription only and attempt it now; a failed attempt is retried
        by the notifier like any other delivery."""
        with self.db.engine.begin() as conn:
            sub = self._get(conn, subscription_id)
            envelope = notifications.envelope(
                event_id=outbox.new_event_id(),
                kind=EventType.TEST,
                at=datetime.now(UTC),
                execution=None,
                message=f"Test notification for subscription {sub.id} '{sub.name}', sent by {principal.actor}",
                extra={"subscriptionId": sub.id},
            )
            row = outbox.emit(conn, kind=EventType.TEST.value, envelope=envelope)
            outbox.mark_fanned(conn, row.id, envelope)
            delivery_id = deliveries.add(  # leased while attempted here: the notifier must not send it too
                conn,
                subscription_id=sub.id,
                outbox=row,
                event_type=EventType.TEST.value,
                leased_for=self.send_timeout + deliveries.LEASE_MARGIN,
            )
        sent = self.senders[sub.kind].send(sub.target, sub.secret, envelope)
        with self.db.engine.begin() as conn:
            if sent.ok:
                deliveries.delivered(conn, delivery_id, sent.status_code)
            else:
                deliveries.attempt_failed(
                    conn,
                    delivery_id,
                    error=sent.error or "failed",
                    status_code=sent.status_code,
                    retry_at=deliveries.now(conn),
                )
            row = next(d for d in deliveries.page(conn, sub.id, before_id=delivery_id + 1, limit=1))
        outcome = "delivered" if sent.ok else f"failed ({sent.error}); the notifier retries it"
        return row, f"Test event {envelope['id']} to {sub.id} '{sub.name}': {outcome}"

    # --- helpers ---------------------------------------------------------------------------------

    def _check_target(self, request: SubscriptionFields) -> None:
        target = request.target
        try:
            if request.kind in URL_KINDS:
                check_url(target, allow_private=self.allow_private)
            elif request.kind == "sns" and not (target.startswith("arn:") and ":sns:" in target):
                raise TargetRefused("an SNS subscription's target is a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
            elif request.kind == "eventbridge" and EVENT_BUS.match(target) is None:
                raise TargetRefused("an EventBridge subscription's target is an event bus name or ARN")
        except TargetRefused as refused:
            raise InvalidTarget(str(refused)) from None

    @staticmethod
    def _get(conn, subscription_id: str) -> Row:
        row = subscriptions.get(conn, subscription_id)
        if row is None:
            raise SubscriptionNotFound(subscription_id)
        return row


def _fields(request: SubscriptionFields) -> dict[str, Any]:
    """What a create and an update both store: every field of the request (the secret is the command's)."""
    return request.model_dump()
