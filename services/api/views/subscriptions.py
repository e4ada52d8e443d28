"""Subscriptions: who is notified of what, their deliveries, a test event."""

from __future__ import annotations

from ..auth import current_principal
from ..container import services
from ..oncall_schemas import (
    DeliveryList,
    DeliveryQuery,
    SubscriptionCreated,
    SubscriptionFields,
    SubscriptionList,
    SubscriptionOut,
    TestDeliveryOut,
)
from ..schemas import IdPath, MessageOut
from .common import CLIENT_ERRORS, respond, secured_blueprint

bp = secured_blueprint("subscriptions", __name__, "/v1/subscriptions", "subscriptions")
ERRORS = CLIENT_ERRORS


@bp.post("", responses={201: SubscriptionCreated, **ERRORS})
def create_subscription(body: SubscriptionFields):
    """Subscribe a webhook, Slack incoming webhook, SNS topic or EventBridge bus to execution events.
    A webhook's signing secret is in this answer only."""
    row, message = services().subscriptions.create(current_principal(), body)
    return respond(SubscriptionCreated, {**row._mapping, "message": message}, 201)


@bp.get("", responses={200: SubscriptionList, **ERRORS})
def list_subscriptions():
    return respond(SubscriptionList, {"items": services().subscriptions.list()})


@bp.get("/<id>", responses={200: SubscriptionOut, **ERRORS})
def get_subscription(path: IdPath):
    return respond(SubscriptionOut, services().subscriptions.get(path.id))


@bp.put("/<id>", responses={200: SubscriptionOut, **ERRORS})
def update_subscription(path: IdPath, body: SubscriptionFields):
    """Replace the subscription (its webhook secret stays)."""
    return respond(SubscriptionOut, services().subscriptions.update(current_principal(), path.id, body))


@bp.delete("/<id>", responses={200: MessageOut, **ERRORS})
def delete_subscription(path: IdPath):
    return respond(MessageOut, {"message": services().subscriptions.delete(path.id)})


@bp.get("/<id>/deliveries", responses={200: DeliveryList, **ERRORS})
def list_deliveries(path: IdPath, query: DeliveryQuery):
    """Newest first: status (pending, delivered, failed), attempts, the receiver's last answer."""
    rows = services().subscriptions.deliveries(path.id, query.before, query.limit)
    return respond(DeliveryList, {"items": rows})


@bp.post("/<id>/test", responses={200: TestDeliveryOut, **ERRORS})
def test_subscription(path: IdPath):
    """Send a `test` event to this subscription now and say how it went."""
    row, message = services().subscriptions.test(current_principal(), path.id)
    return respond(TestDeliveryOut, {"message": message, "delivery": row})
