"""Counts of the AWS API calls served, keyed ``service:Operation`` (``GET /_localaws/calls``)."""

from __future__ import annotations

import threading
from collections import Counter


class CallCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()

    def record(self, key: str, *, throttled: bool = False) -> None:
        with self._lock:
            self._calls[key] += 1
            if throttled:
                self._throttled[key] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                "calls": dict(sorted(self._calls.items())),
                "throttled": dict(sorted(self._throttled.items())),
            }

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._throttled.clear()
