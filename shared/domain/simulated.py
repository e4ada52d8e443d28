"""ARNs of the `simulated` adapter (pure parsing, shared by the API's validation and the workers).

Form: `arn:drwave:simulated:<region>:<account>:resource/<name>[/<N>ms][/fail]` — `/250ms` makes the
resource take 250 ms, `/fail` makes it fail with a recorded error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARN = re.compile(
    r"^arn:drwave:simulated:(?P<region>[a-z0-9-]*):(?P<account>\d*):resource/(?P<name>[A-Za-z0-9._-]+)"
    r"(?P<options>(?:/[A-Za-z0-9]+)*)$"
)
_DURATION = re.compile(r"^(\d{1,7})ms$")


class InvalidSimulatedArn(ValueError):
    pass


@dataclass(frozen=True)
class SimulatedSpec:
    region: str
    account: str
    name: str
    duration_ms: int = 0
    fail: bool = False


def parse_simulated_arn(arn: str) -> SimulatedSpec:
    match = _ARN.match(arn)
    if match is None:
        raise InvalidSimulatedArn(
            f"{arn!r} is not arn:drwave:simulated:<region>:<account>:resource/<name>[/<N>ms][/fail]"
        )
    duration_ms, fail = 0, False
    for option in filter(None, match["options"].split("/")):
        if option == "fail":
            fail = True
        elif m := _DURATION.match(option):
            duration_ms = int(m[1])
        else:
            raise InvalidSimulatedArn(f"{arn!r}: unknown option {option!r} (use /<N>ms or /fail)")
    return SimulatedSpec(match["region"], match["account"], match["name"], duration_ms, fail)
