"""Durations as people type them: ``90s``, ``15m``, ``12h``, ``30d``."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_DAYS = 3650
_DURATION = re.compile(r"^(\d{1,7})([smhd])$")


def parse_duration(text: str) -> timedelta:
    """``30d`` -> 30 days. A positive whole number and one unit of s, m, h, d; at most ten years."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text[:40]!r} is not a duration such as 90s, 15m, 12h or 30d")
    duration = timedelta(**{UNITS[match[2]]: int(match[1])})
    if not timedelta(0) < duration <= timedelta(days=MAX_DAYS):
        raise ValueError(f"{text!r}: a duration must be more than 0 and at most {MAX_DAYS} days")
    return duration
