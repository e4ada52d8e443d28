"""Everything one localaws endpoint remembers besides moto's backends, built in one place."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from deploy.localaws.actions import Actions
from deploy.localaws.aurora import AuroraGlobal
from deploy.localaws.calls import CallCounter
from deploy.localaws.config import LocalAwsConfig
from deploy.localaws.drs_model import DrsStore
from deploy.localaws.ecs_rollout import EcsRollouts
from deploy.localaws.faults import FaultInjector


@dataclass
class LocalAwsState:
    config: LocalAwsConfig = field(default_factory=LocalAwsConfig)
    clock: Callable[[], float] = time.time
    calls: CallCounter = field(default_factory=CallCounter)
    faults: FaultInjector = field(default_factory=FaultInjector)
    drs: DrsStore = field(init=False)
    aurora: AuroraGlobal = field(init=False)
    ecs: EcsRollouts = field(init=False)
    actions: Actions = field(init=False)  # Lambda Invoke, SSM Automation
    # One lock around our own emulators (DRS, Aurora): requests arrive on many threads.
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.drs = DrsStore(clock=self.clock)
        self.aurora = AuroraGlobal(clock=self.clock)
        self.ecs = EcsRollouts(clock=self.clock)
        self.actions = Actions(clock=self.clock)
        self.calls = CallCounter(clock=self.clock)

    def completions(self) -> dict[str, list[dict]]:
        """When each emulated long operation completed (in emulated time, observed by a caller or not)."""
        with self.lock:
            self.ecs.advance()
            for account_id in {op.account_id for op in self.aurora.pending()}:
                self.aurora.advance(account_id)
            now = self.clock()
            jobs = [
                {
                    "jobID": job.job_id,
                    "accountId": region.account_id,
                    "region": region.region,
                    "sourceServerIDs": [server.source_server_id for server in job.servers],
                    "completedAt": job.end_time(),
                }
                for region in self.drs.regions.values()
                for job in region.jobs.values()
                if job.end_time() <= now
            ]
            return {
                "drsJobs": jobs,
                "auroraOperations": list(self.aurora.completed),
                "ecsRollouts": list(self.ecs.completed),
            }

    def reset(self) -> None:
        """Forget everything: moto's backends, our emulators, call counts and faults."""
        from moto.moto_api._internal.models import moto_api_backend

        with self.lock:
            moto_api_backend.reset()
            self.drs.reset()
            self.aurora.reset()
            self.ecs.reset()
            self.actions.reset()
            self.calls.reset()
            self.faults.clear()
