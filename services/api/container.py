"""The API's dependencies, built once by `create_app` and reached by views through `services()`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import redis
from flask import current_app

from shared.db.engine import Database
from shared.messaging import Publisher

from .commands.approvals import ApprovalCommands
from .commands.audit import AuditQueries
from .commands.catalog import Catalog
from .commands.discovery import DiscoveryCommands
from .commands.drs import DrsCommands
from .commands.executions import ExecutionCommands
from .commands.queries import ExecutionQueries
from .commands.readiness import ReadinessQueries
from .commands.reports import ReportQueries
from .commands.retry import RetryCommands
from .commands.subscriptions import SubscriptionCommands
from .commands.target_accounts import TargetAccountCommands
from .commands.tokens import TokenCommands


@dataclass
class Services:
    db: Database
    redis: redis.Redis
    publisher: Publisher
    catalog: Catalog
    discovery: DiscoveryCommands
    target_accounts: TargetAccountCommands
    executions: ExecutionCommands
    queries: ExecutionQueries
    state_dir: Path  # where `drwave run` reports the processes it supervises
    tokens: TokenCommands
    audit: AuditQueries
    drs: DrsCommands
    readiness: ReadinessQueries
    subscriptions: SubscriptionCommands
    approvals: ApprovalCommands
    retry: RetryCommands
    reports: ReportQueries


def services() -> Services:
    return current_app.extensions["drwave"]
