"""Injected throttling (``POST /_localaws/faults``).

A rule matches calls by service and operation (``"*"`` for any) and throttles a fraction of them.
The choice is deterministic, not random: for rate r, call n (counting from 0) of a rule is throttled
when ``floor((n + 1) * r) > floor(n * r)``, so 0.5 throttles every second call, 0.25 every fourth
and 1.0 every call. Tests can therefore assert exact counts.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class FaultRule:
    service: str
    operation: str
    throttle_rate: float
    seen: int = 0
    throttled: int = 0

    def matches(self, services: tuple[str, ...], operation: str) -> bool:
        service_ok = self.service == "*" or self.service in services
        return service_ok and self.operation in ("*", operation)

    def next_is_throttled(self) -> bool:
        n = self.seen
        self.seen += 1
        hit = math.floor((n + 1) * self.throttle_rate) > math.floor(n * self.throttle_rate)
        if hit:
            self.throttled += 1
        return hit

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "throttleRate": self.throttle_rate,
            "matched": self.seen,
            "throttled": self.throttled,
        }


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Add (or replace, same service + operation) a rule; raises ``ValueError`` on bad input."""
        service = spec.get("service")
        operation = spec.get("operation", "*")
        rate = spec.get("throttleRate")
        if not isinstance(service, str) or not service:
            raise ValueError("service is required (e.g. 'drs', or '*')")
        if not isinstance(operation, str) or not operation:
            raise ValueError("operation must be an operation name such as 'StartRecovery', or '*'")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError("throttleRate must be a number between 0 and 1")
        rule = FaultRule(service=service, operation=operation, throttle_rate=float(rate))
        with self._lock:
            self._rules = [r for r in self._rules if (r.service, r.operation) != (service, operation)]
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.as_json() for r in self._rules]

    def should_throttle(self, services: tuple[str, ...], operation: str) -> bool:
        """Whether this call is throttled. The first matching rule decides (and counts the call)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(services, operation):
                    return rule.next_is_throttled()
        return False
