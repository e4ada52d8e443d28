"""Account access: which role a worker uses to reach a resource's account — the registered target
account's role, else the worker's own credentials — cached per account for a short while."""

from __future__ import annotations

import threading
import time

from shared.domain.arns import location
from shared.unit_of_work import UnitOfWork

from .adapters.base import Adapter

Access = tuple[str | None, str | None]  # (role ARN, external id); (None, None): the worker's own credentials
NO_ROLE: Access = (None, None)


class AccountRoles:
    """One per worker process, shared by its threads (hence the lock)."""

    def __init__(self, cache_seconds: float) -> None:
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Access]] = {}
        self._lock = threading.Lock()

    def access(self, uow: UnitOfWork, adapter: Adapter, account_or_arn: str, detail: dict | None) -> Access:
        """The role for an account id or a resource ARN (``detail.accountId`` when the ARN names none)."""
        if not adapter.uses_aws:
            return NO_ROLE
        account = account_or_arn if account_or_arn.isdigit() else location(account_or_arn)[0]
        account = account or (detail or {}).get("accountId")
        if not account:
            return NO_ROLE
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(account)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = uow.target_accounts.get(account)
        access: Access = (row.role_arn, row.external_id) if row is not None else NO_ROLE
        with self._lock:
            self._cache[account] = (now + self.cache_seconds, access)
        return access
