"""Injected faults (``POST /_localaws/faults``): throttling, slow calls and Region outages.

A rule matches calls by service, operation and Region (``"*"`` for any; Region defaults to ``"*"``).

* **Throttling** (``"throttleRate": r``) throttles a fraction of the matching calls. The choice is
  deterministic, not random: call n (counting from 0) of a rule is throttled when
  ``floor((n + 1) * r) > floor(n * r)``, so 0.5 throttles every second call, 0.25 every fourth and 1.0
  every call. Tests can therefore assert exact counts.
* **Slow calls** (``"delaySeconds": s``, optional ``"calls": n``) answer the first ``n`` matching calls
  normally, ``s`` seconds later (without ``calls``, every one): an AWS call whose retries outlast a
  caller's patience.
* **Outage** (``"outage": true``) answers every matching call as an unreachable Region does: HTTP 503
  ``ServiceUnavailable``, until the rule is deleted. A call is matched by the Region it is signed for
  (where the client sent it), so a primary-Region outage leaves calls to the other Regions alone.

One rule per (service, operation, Region): adding one replaces the rule it equals on those three.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

MAX_DELAY_SECONDS = 120.0


@dataclass(frozen=True)
class Fault:
    """What a call gets: throttled, a Region outage, or served after ``delay`` seconds (0: at once)."""

    throttled: bool = False
    outage: bool = False
    delay: float = 0.0

    def label(self) -> str:
        """How the call log names the fault ("" for none)."""
        if self.outage:
            return " (outage)"
        if self.throttled:
            return " (throttled)"
        return f" (delayed {self.delay:g}s)" if self.delay else ""


NO_FAULT = Fault()


@dataclass
class FaultRule:
    service: str
    operation: str
    region: str = "*"
    throttle_rate: float = 0.0
    outage: bool = False
    delay_seconds: float = 0.0
    calls: int | None = None  # a delay rule: how many matching calls it slows (None: all)
    seen: int = 0
    throttled: int = 0
    delayed: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return self.service, self.operation, self.region

    def matches(self, services: tuple[str, ...], operation: str, region: str) -> bool:
        service_ok = self.service == "*" or self.service in services
        return service_ok and self.operation in ("*", operation) and self.region in ("*", region)

    def next_fault(self) -> Fault:
        n = self.seen
        self.seen += 1
        if self.outage:
            return Fault(outage=True)
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
        shown: dict[str, Any] = {"service": self.service, "operation": self.operation, "region": self.region}
        if self.outage:
            shown |= {"outage": True}
        elif self.delay_seconds > 0:
            shown |= {"delaySeconds": self.delay_seconds, "calls": self.calls, "delayed": self.delayed}
        else:
            shown |= {"throttleRate": self.throttle_rate, "throttled": self.throttled}
        return {**shown, "matched": self.seen}


def _name(spec: dict[str, Any], field: str, default: str | None, example: str) -> str:
    value = spec.get(field, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be {example}, or '*'")
    return value


def _kind(spec: dict[str, Any]) -> dict[str, Any]:
    """The fields of the rule's one kind (throttling, delay or outage); raises ``ValueError`` on bad input."""
    given = [field for field in ("throttleRate", "delaySeconds", "outage") if spec.get(field) is not None]
    if len(given) > 1:
        raise ValueError("a rule is one of throttleRate, delaySeconds or outage, not several")
    if "outage" in given:
        if spec["outage"] is not True:
            raise ValueError("outage must be true (delete the rule to end the outage)")
        return {"outage": True}
    if "delaySeconds" in given:
        return _delay(spec)
    rate = spec.get("throttleRate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ValueError("throttleRate must be a number between 0 and 1 (or give delaySeconds or outage: true)")
    return {"throttle_rate": float(rate)}


def _delay(spec: dict[str, Any]) -> dict[str, Any]:
    """The fields of a delay rule; raises ``ValueError`` on bad input."""
    delay, calls = spec.get("delaySeconds"), spec.get("calls")
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 < delay <= MAX_DELAY_SECONDS:
        raise ValueError(f"delaySeconds must be a number above 0 and at most {MAX_DELAY_SECONDS:g}")
    if calls is not None and (isinstance(calls, bool) or not isinstance(calls, int) or calls < 1):
        raise ValueError("calls must be a whole number of at least 1 (or absent: every matching call)")
    return {"delay_seconds": float(delay), "calls": calls}


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Add (or replace, same service + operation + Region) a rule; raises ``ValueError`` on bad input."""
        if not isinstance(spec.get("service"), str) or not spec.get("service"):
            raise ValueError("service is required (e.g. 'drs', or '*')")
        rule = FaultRule(
            service=spec["service"],
            operation=_name(spec, "operation", "*", "an operation name such as 'StartRecovery'"),
            region=_name(spec, "region", "*", "a Region such as 'us-east-1'"),
            **_kind(spec),
        )
        with self._lock:
            self._rules = [r for r in self._rules if r.key != rule.key]
            self._rules.append(rule)
        return rule

    def remove(self, spec: dict[str, Any]) -> bool:
        """Delete the rule of this service + operation + Region (operation and Region default to ``"*"``)."""
        key = (
            _name(spec, "service", None, "a service such as 'rds'"),
            _name(spec, "operation", "*", "an operation name"),
            _name(spec, "region", "*", "a Region"),
        )
        with self._lock:
            kept = [r for r in self._rules if r.key != key]
            removed = len(kept) != len(self._rules)
            self._rules = kept
        return removed

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.as_json() for r in self._rules]

    def fault_for(self, services: tuple[str, ...], operation: str, region: str) -> Fault:
        """What this call gets: an outage rule first, else the first matching rule decides (and counts
        the call)."""
        with self._lock:
            ordered = sorted(self._rules, key=lambda r: not r.outage)
            for rule in ordered:
                if rule.matches(services, operation, region):
                    return rule.next_fault()
        return NO_FAULT

    def region_out(self, service: str, region: str) -> bool:
        """Whether an outage rule covers every ``service`` call to ``region`` (what an emulated operation
        that needs that Region, such as a global switchover from the other side, asks)."""
        with self._lock:
            return any(
                r.outage and r.service in ("*", service) and r.operation == "*" and r.region in ("*", region)
                for r in self._rules
            )
