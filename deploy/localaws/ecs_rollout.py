"""ECS service rollouts that take time, which moto lacks (its ``UpdateService`` is done at once).

With ``ecsRolloutSeconds`` > 0, an ``UpdateService`` that changes ``desiredCount`` leaves the service
at its old ``runningCount`` with the PRIMARY deployment ``IN_PROGRESS``; ``ecsRolloutSeconds`` later the
running count reaches the desired one and the rollout is ``COMPLETED``. Like Aurora, time is evaluated
lazily (:meth:`EcsRollouts.advance`, before every ECS request). 0 (the default) keeps moto's behaviour.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy.localaws.awscall import AwsCall


@dataclass
class _Rollout:
    account_id: str
    region: str
    cluster: str
    service: str
    arn: str
    desired: int
    started_at: float
    seconds: float

    @property
    def ends_at(self) -> float:
        return self.started_at + self.seconds


def _service(account_id: str, region: str, cluster: str, service: str) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[account_id][region]._get_service(cluster, service)


def _set_running(service: Any, running: int, state: str) -> None:
    service.running_count = running
    service.pending_count = max(0, service.desired_count - running)
    for deployment in service.deployments or []:
        if deployment.get("status") == "PRIMARY":
            deployment.update(runningCount=running, pendingCount=service.pending_count, rolloutState=state)


class EcsRollouts:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._rollouts: dict[str, _Rollout] = {}
        self.completed: list[dict[str, Any]] = []

    def reset(self) -> None:
        with self._lock:
            self._rollouts.clear()
            self.completed.clear()

    def advance(self) -> None:
        with self._lock:
            now = self.clock()
            for arn, rollout in list(self._rollouts.items()):
                if now < rollout.ends_at:
                    continue
                del self._rollouts[arn]
                try:
                    service = _service(rollout.account_id, rollout.region, rollout.cluster, rollout.service)
                except Exception:  # deleted meanwhile
                    continue
                _set_running(service, rollout.desired, "COMPLETED")
                self.completed.append(
                    {"serviceArn": arn, "desiredCount": rollout.desired, "completedAt": rollout.ends_at}
                )

    def running_before(self, call: AwsCall, account_id: str) -> int | None:
        """The running count of the service an ``UpdateService`` is about to change (None: not one)."""
        body = self._body(call)
        if call.operation != "UpdateService" or body.get("desiredCount") is None:
            return None
        try:
            return int(_service(account_id, call.region, body.get("cluster", "default"), body["service"]).running_count)
        except Exception:  # moto answers the error
            return None

    def start(self, call: AwsCall, account_id: str, running_before: int, seconds: float) -> None:
        """After moto applied an ``UpdateService``: roll out from `running_before` over `seconds`."""
        body = self._body(call)
        cluster, name, desired = body.get("cluster", "default"), body["service"], int(body["desiredCount"])
        with self._lock:
            service = _service(account_id, call.region, cluster, name)
            if desired == running_before:
                return
            _set_running(service, running_before, "IN_PROGRESS")
            self._rollouts[service.arn] = _Rollout(
                account_id, call.region, cluster, name, service.arn, desired, self.clock(), seconds
            )

    @staticmethod
    def _body(call: AwsCall) -> dict[str, Any]:
        try:
            body = json.loads(call.body or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
