"""Delivery order per stream, on a database of its own with a notifier driven by hand (no notifier process
reads it): a plan's plan.readiness_changed events wait for each other like an execution's events do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from support import own_database
from webhook_receiver import Receiver

from services.api.commands.subscriptions import new_secret
from services.notifier.service import Notifier
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.db.tables import notification_deliveries
from shared.domain import notifications
from shared.domain.notifications import EventType, Retry
from shared.notify.senders import WebhookSender
from shared.store import deliveries, outbox, subscriptions

AN_HOUR = 3600.0  # the first retry's backoff: far beyond the test, so a failed delivery stays pending a retry


@pytest.fixture(scope="module")
def streams_db(servers) -> Iterator[Database]:
    url = own_database(servers.database_url, "drwave_streams")
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def readiness_changed(db: Database, plan_id: str, before: str, after: str) -> str:
    """A plan.readiness_changed event in the outbox, as the readiness evaluator writes it; its event id."""
    envelope = notifications.readiness_changed(
        event_id=outbox.new_event_id(),
        at=datetime.now(UTC),
        plan={"id": plan_id, "name": plan_id},
        before=before,
        after=after,
        problems=[],
    )
    with db.engine.begin() as conn:
        outbox.emit(conn, kind=EventType.PLAN_READINESS_CHANGED.value, envelope=envelope)
    return envelope["id"]


def event_of(db: Database, delivery_id: int) -> str:
    with db.engine.begin() as conn:
        return deliveries.load(conn, delivery_id).event_id


def test_a_plans_second_readiness_change_waits_for_the_first_one_pending_a_retry_while_another_plans_goes_out(
    streams_db, receiver
):
    queued: list[int] = []
    notifier = Notifier(
        streams_db,
        {"webhook": WebhookSender(timeout=10, allow_private=True)},
        Retry(base_seconds=AN_HOUR, cap_seconds=AN_HOUR),
        lease_seconds=60,
        api_url="http://drwave.invalid",
        queue_delivery=queued.append,
    )
    receiver.secret = new_secret()
    with streams_db.engine.begin() as conn:
        subscriptions.create(
            conn,
            created_by="test",
            name="readiness",
            kind="webhook",
            target=receiver.url,
            events=[EventType.PLAN_READINESS_CHANGED.value],
            plan_ids=None,
            secret=receiver.secret,
        )

    action_required = readiness_changed(streams_db, "plan-a", "ready", "actionRequired")
    ready_again = readiness_changed(streams_db, "plan-a", "actionRequired", "ready")
    assert notifier.pump().queued == 1
    (first,) = queued
    assert event_of(streams_db, first) == action_required
    receiver.refuse_all = True
    assert notifier.deliver(first) == "retry"
    receiver.refuse_all = False

    other_plan = readiness_changed(streams_db, "plan-b", "notEvaluated", "ready")
    queued.clear()
    notifier.pump()
    assert [event_of(streams_db, d) for d in queued] == [other_plan]  # plan-a's second change waits
    assert notifier.deliver(queued[0]) == "delivered"

    with streams_db.engine.begin() as conn:  # the retry falls due
        conn.execute(
            update(notification_deliveries)
            .where(notification_deliveries.c.id == first)
            .values(next_attempt_at=deliveries.now(conn))
        )
    for expected in (action_required, ready_again):
        queued.clear()
        notifier.pump()
        assert [event_of(streams_db, d) for d in queued] == [expected]
        assert notifier.deliver(queued[0]) == "delivered"

    arrived = [(e["data"]["planId"], e["data"]["status"]) for e in receiver.accepted]
    assert arrived == [("plan-b", "ready"), ("plan-a", "actionRequired"), ("plan-a", "ready")]
