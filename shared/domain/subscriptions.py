"""Domain errors of subscriptions (the rules live in shared.domain.notifications and shared.notify.targets)."""

from __future__ import annotations

from shared.domain.errors import DomainError, NotFound


class SubscriptionNotFound(NotFound):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"no subscription {subscription_id!r}")


class InvalidTarget(DomainError):
    def __init__(self, problem: str) -> None:
        super().__init__(problem, about="target")
