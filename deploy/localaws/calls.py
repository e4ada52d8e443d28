"""Counts of the AWS API calls served, keyed ``service:Operation`` (``GET /_localaws/calls``), also by
``<account>/<region>`` with the busiest one-second window of each (how hard one account+Region is hit)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable


class CallCounter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()
        self._scoped: Counter[tuple[str, str]] = Counter()
        self._seconds: Counter[tuple[str, str, int]] = Counter()

    def record(self, key: str, *, throttled: bool = False, scope: str | None = None) -> None:
        with self._lock:
            self._calls[key] += 1
            if throttled:
                self._throttled[key] += 1
            if scope is not None:
                self._scoped[key, scope] += 1
                self._seconds[key, scope, int(self.clock())] += 1

    def snapshot(self) -> dict[str, dict]:
        with self._lock:
            by_scope: dict[str, dict[str, int]] = {}
            for (key, scope), count in sorted(self._scoped.items()):
                by_scope.setdefault(key, {})[scope] = count
            peak: dict[str, dict[str, int]] = {}
            for (key, scope, _), count in self._seconds.items():
                peak.setdefault(key, {})[scope] = max(count, peak.get(key, {}).get(scope, 0))
            return {
                "calls": dict(sorted(self._calls.items())),
                "throttled": dict(sorted(self._throttled.items())),
                "byAccountRegion": by_scope,
                "peakPerSecond": {key: dict(sorted(scopes.items())) for key, scopes in sorted(peak.items())},
            }

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._throttled.clear()
            self._scoped.clear()
            self._seconds.clear()
