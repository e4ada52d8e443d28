"""When to look at a long AWS operation again: tight near its expected end, sparse otherwise.

A fixed poll interval adds up to one interval of lag per wave (15 s by default). Operations of one kind
(a DRS launch, an Aurora switchover, an ECS rollout) take similar times, so once some have finished the
next look-up can wait until shortly before the expected end, then look every `tight` seconds, and back
off again if the operation overruns. With nothing learned yet the delay grows from `tight` to the
interval with the time the operation has been running.
"""

from __future__ import annotations

EARLY = 0.8  # start looking tightly at this fraction of the expected duration
BACKOFF = 0.25  # without an expectation, wait this fraction of the time the operation has been running
OVERRUN_BACKOFF = 0.1  # past the expectation, wait this fraction of the overrun


def next_poll(elapsed: float, expected: float | None, interval: float, tight: float = 1.0) -> float:
    """Seconds until the next look-up of an operation running for `elapsed` seconds.

    `expected` is a typical duration of operations of its kind (None: not known); `interval` the
    longest wait (the configured poll interval); `tight` the wait near the expected end.
    """
    tight = min(tight, interval)
    elapsed = max(0.0, elapsed)
    if expected is None or expected <= 0:
        return _clamp(elapsed * BACKOFF, tight, interval)
    window = expected * EARLY
    if elapsed < window - tight:
        return _clamp(window - elapsed, tight, interval)
    overrun = elapsed - expected
    if overrun <= interval:
        return tight
    return _clamp(overrun * OVERRUN_BACKOFF, tight, interval)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
