"""ARNs of the `simulated` adapter (pure parsing, shared by the API's validation and the workers).

Form: `arn:drwave:simulated:<region>:<account>:resource/<name>[/<N>ms][/fail|/fail<N>]` — `/250ms` makes
the resource take 250 ms, `/fail` makes it fail with a recorded error, `/fail2` fails its first 2 attempts
and then succeeds (a retry, issue 12, starts the next attempt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARN = re.compile(
    r"^arn:drwave:simulated:(?P<region>[a-z0-9-]*):(?P<account>\d*):resource/(?P<name>[A-Za-z0-9._-]+)"
    r"(?P<options>(?:/[A-Za-z0-9]+)*)$"
)
_DURATION = re.compile(r"^(\d{1,7})ms$")
_FAIL = re.compile(r"^fail(\d{1,3})?$")
ALWAYS = -1


class InvalidSimulatedArn(ValueError):
    pass


@dataclass(frozen=True)
class SimulatedSpec:
    region: str
    account: str
    name: str
    duration_ms: int = 0
    fail_attempts: int = 0  # how many first attempts fail; ALWAYS for `/fail`

    @property
    def fail(self) -> bool:
        return self.fail_attempts != 0

    def fails(self, attempt: int) -> bool:
        """Whether this attempt (1 first) fails."""
        return self.fail_attempts == ALWAYS or attempt <= self.fail_attempts


def parse_simulated_arn(arn: str) -> SimulatedSpec:
    match = _ARN.match(arn)
    if match is None:
        raise InvalidSimulatedArn(
            f"{arn!r} is not arn:drwave:simulated:<region>:<account>:resource/<name>[/<N>ms][/fail|/fail<N>]"
        )
    duration_ms, fail_attempts = 0, 0
    for option in filter(None, match["options"].split("/")):
        if m := _FAIL.match(option):
            fail_attempts = int(m[1]) if m[1] else ALWAYS
        elif m := _DURATION.match(option):
            duration_ms = int(m[1])
        else:
            raise InvalidSimulatedArn(f"{arn!r}: unknown option {option!r} (use /<N>ms, /fail or /fail<N>)")
    return SimulatedSpec(match["region"], match["account"], match["name"], duration_ms, fail_attempts)
