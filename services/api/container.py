"""The API's dependencies, built once by `create_app` and reached by views through `services()`."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import current_app

from shared.db.engine import Database
from shared.messaging import Publisher

from .commands.approvals import ApprovalCommands
from .commands.catalog import Catalog
from .commands.discovery import DiscoveryCommands
from .commands.executions import ExecutionCommands
from .commands.queries import ExecutionQueries
from .commands.reports import ReportQueries
from .commands.subscriptions import SubscriptionCommands
from .commands.target_accounts import TargetAccountCommands


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
    subscriptions: SubscriptionCommands
    approvals: ApprovalCommands
    reports: ReportQueries


def services() -> Services:
    return current_app.extensions["drwave"]
