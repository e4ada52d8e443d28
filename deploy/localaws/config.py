"""Runtime settings of one localaws endpoint, changeable through ``POST /_localaws/config``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_STEP_SECONDS = 1.0


@dataclass
class LocalAwsConfig:
    """Timing and identity knobs.

    ``drs_job_step_seconds`` is the time of one DRS job step (PENDING → STARTED → COMPLETED, so a
    job completes after two steps); ``global_cluster_step_seconds`` the same for an Aurora global
    switchover/failover (pending → failing-over → done); ``ecs_rollout_seconds`` how long an ECS
    ``UpdateService`` rollout takes (0: at once, as moto does). ``default_account`` is the account of any
    access key moto does not know (i.e. every static key; assumed-role keys map to the role's account).
    """

    drs_job_step_seconds: float = DEFAULT_STEP_SECONDS
    global_cluster_step_seconds: float = DEFAULT_STEP_SECONDS
    ecs_rollout_seconds: float = 0.0
    default_account: str = DEFAULT_ACCOUNT_ID
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    _FIELDS = {
        "drsJobStepSeconds": "drs_job_step_seconds",
        "globalClusterStepSeconds": "global_cluster_step_seconds",
        "ecsRolloutSeconds": "ecs_rollout_seconds",
    }

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a camelCase patch; raises ``ValueError`` on unknown keys or bad values."""
        unknown = sorted(set(changes) - set(self._FIELDS))
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; known: {sorted(self._FIELDS)}")
        parsed: dict[str, float] = {}
        for key, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{key} must be a number >= 0, not {value!r}")
            parsed[self._FIELDS[key]] = float(value)
        with self._lock:
            for attr, value in parsed.items():
                setattr(self, attr, value)

    def as_json(self) -> dict[str, Any]:
        """The changeable knobs under the names ``update`` takes, and the default account."""
        knobs = {key: getattr(self, attr) for key, attr in self._FIELDS.items()}
        return {**knobs, "defaultAccountId": self.default_account}
