"""Injected faults (``POST /_localaws/faults``): throttling, or slow calls.

A rule matches calls by service and operation (``"*"`` for any) and either throttles a fraction of
them (``throttleRate``) or makes the first ``calls`` of them slow (``delaySeconds``: answered normally,
that much later — an AWS call whose retries outlast a caller's patience; without ``calls``, every one).
The choice is deterministic, not random: for rate r, call n (counting from 0) of a rule is throttled
when ``floor((n + 1) * r) > floor(n * r)``, so 0.5 throttles every second call, 0.25 every fourth
and 1.0 every call. Tests can therefore assert exact counts.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    """What a call gets: throttled, or served after ``delay`` seconds (0: at once)."""

    throttled: bool = False
    delay: float = 0.0


NO_FAULT = Fault()


@dataclass
class FaultRule:
    service: str
    operation: str
    throttle_rate: float = 0.0
    delay_seconds: float = 0.0
    calls: int | None = None  # a delay rule: how many matching calls it slows (None: all)
    seen: int = 0
    throttled: int = 0
    delayed: int = 0

    def matches(self, services: tuple[str, ...], operation: str) -> bool:
        service_ok = self.service == "*" or self.service in services
        return service_ok and self.operation in ("*", operation)

    def next_fault(self) -> Fault:
        n = self.seen
        self.seen += 1
        if self.delay_seconds > 0:
            if self.calls is not None and n >= self.calls:
                return NO_FAULT
            self.delayed += 1
            return Fault(delay=self.delay_seconds)
        hit = math.floor((n + 1) * self.throttle_rate) > math.floor(n * self.throttle_rate)
        if hit:
            self.throttled += 1
        return Fault(throttled=hit)

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"service": self.service, "operation": self.operation}
        if self.delay_seconds > 0:
            shown |= {"delaySeconds": self.delay_seconds, "calls": self.calls, "delayed": self.delayed}
        else:
            shown |= {"throttleRate": self.throttle_rate, "throttled": self.throttled}
        return {**shown, "matched": self.seen}


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Add (or replace, same service + operation) a rule; raises ``ValueError`` on bad input."""
        service = spec.get("service")
        operation = spec.get("operation", "*")
        if not isinstance(service, str) or not service:
            raise ValueError("service is required (e.g. 'drs', or '*')")
        if not isinstance(operation, str) or not operation:
            raise ValueError("operation must be an operation name such as 'StartRecovery', or '*'")
        if "delaySeconds" in spec:
            rule = FaultRule(service, operation, **_delay(spec))
        else:
            rate = spec.get("throttleRate")
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ValueError("throttleRate must be a number between 0 and 1 (or give delaySeconds)")
            rule = FaultRule(service, operation, throttle_rate=float(rate))
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

    def fault_for(self, services: tuple[str, ...], operation: str) -> Fault:
        """What this call gets. The first matching rule decides (and counts the call)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(services, operation):
                    return rule.next_fault()
        return NO_FAULT


MAX_DELAY_SECONDS = 120.0


def _delay(spec: dict[str, Any]) -> dict[str, Any]:
    """The fields of a delay rule; raises ``ValueError`` on bad input."""
    delay, calls = spec.get("delaySeconds"), spec.get("calls")
    if "throttleRate" in spec:
        raise ValueError("a rule either throttles (throttleRate) or delays (delaySeconds), not both")
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 < delay <= MAX_DELAY_SECONDS:
        raise ValueError(f"delaySeconds must be a number above 0 and at most {MAX_DELAY_SECONDS:g}")
    if calls is not None and (isinstance(calls, bool) or not isinstance(calls, int) or calls < 1):
        raise ValueError("calls must be a whole number of at least 1 (or absent: every matching call)")
    return {"delay_seconds": float(delay), "calls": calls}
