"""boto3 clients per (account, role, region, service), with refreshable assumed-role credentials.

One :class:`SessionFactory` per process, built by the composition root from settings and handed to
adapters and discovery (cloud-custodian style: the factory is injected, clients are made where they
are used). Nothing connects at construction or at :meth:`SessionFactory.client`:

* Clients for the orchestrator's own account use the base boto3 session (default credential chain,
  or ``base_session_kwargs`` such as static test credentials).
* Clients for a target account with a role use credentials from STS ``AssumeRole`` (with the
  optional ``ExternalId``) wrapped in botocore's ``DeferredRefreshableCredentials`` — the class
  botocore's own assume-role provider uses: the first AWS call assumes the role, and botocore
  re-assumes it before the credentials expire, under its own lock. One set of credentials is shared
  by every region and service of the same (role, external id), so STS calls grow with roles, not
  clients. A failed ``AssumeRole`` surfaces as a ``ClientError`` (e.g. ``AccessDenied``) from the
  first call of the client, where :func:`shared.aws.errors.classify` sorts it.
* Every client has ``Config(retries={"mode": "standard", "total_max_attempts": N})`` (N attempts in
  all, like ``AWS_MAX_ATTEMPTS``) and connect/read timeouts. Endpoints follow boto3's standard
  configuration (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``, config files) unless the
  factory is given ``endpoint_url``, which then applies to every client (STS included). There is no
  test-only branch.

With ``on_call``, every HTTP attempt of every client (retries included) is reported as
``on_call(service, operation, outcome)`` through botocore's ``response-received`` event, so throttled
attempts that botocore retried by itself are counted too (see :func:`shared.aws.errors.call_outcome`).

Clients are thread-safe; creating them is not, so the cache is guarded by a lock. After a fork
(Celery prefork) call :meth:`SessionFactory.reset` in the child, or build the factory there.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials

from .errors import call_outcome

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/.+$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


def default_region(configured: str | None) -> str:
    """A service's default region: the one configured, else the one boto3's standard configuration
    names (``AWS_DEFAULT_REGION``, profiles), else us-east-1."""
    return configured or boto3.session.Session().region_name or "us-east-1"


@dataclass(frozen=True)
class ClientKey:
    """What a cached client is built for."""

    account_id: str | None
    role_arn: str | None
    external_id: str | None
    region: str
    service: str
    read_timeout: float | None = None  # a long call's own wait (one attempt: it is not repeated blindly)


class SessionFactory:
    """Builds and caches boto3 clients; see the module docstring."""

    def __init__(
        self,
        *,
        default_region: str,
        endpoint_url: str | None = None,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_pool_connections: int = 10,
        base_session_kwargs: Mapping[str, Any] | None = None,
        role_session_name: str = "drwave",
        role_duration_seconds: int = 3600,
        sts_client_factory: Callable[[], Any] | None = None,
        on_call: Callable[[str, str, str], None] | None = None,
    ) -> None:
        """
        :param default_region: region of the base session and of the STS client used to assume roles;
            also used by :meth:`client` when no region is given.
        :param endpoint_url: one endpoint for every client (e.g. a single local emulator). Leave
            ``None`` to let boto3's standard endpoint settings decide.
        :param max_attempts: total attempts per call (first call + retries) in botocore's ``standard``
            retry mode — the meaning of ``AWS_MAX_ATTEMPTS``; passed as ``total_max_attempts``.
        :param base_session_kwargs: passed to ``boto3.session.Session`` (``aws_access_key_id``,
            ``aws_secret_access_key``, ``aws_session_token``, ``profile_name``, ``region_name``).
        :param sts_client_factory: returns the STS client used for ``AssumeRole``; defaults to an STS
            client of the base session. The seam for tests (a ``Stubber``-ed or fake client).
        """
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not _SESSION_NAME.match(role_session_name):
            raise ValueError(f"role_session_name {role_session_name!r} is not a valid STS session name")
        if not 900 <= role_duration_seconds <= 43200:
            raise ValueError("role_duration_seconds must be between 900 and 43200")
        self.default_region = default_region
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.role_session_name = role_session_name
        self.role_duration_seconds = role_duration_seconds
        self.config = Config(
            # total attempts, first call included (Config's "max_attempts" would count retries only)
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
            user_agent_extra="drwave",
        )
        self._base_session_kwargs = dict(base_session_kwargs or {})
        self._base_session_kwargs.setdefault("region_name", default_region)
        self._sts_client_factory = sts_client_factory
        self._on_call = on_call
        self._lock = threading.Lock()
        self._base_session: boto3.session.Session | None = None
        self._base_core: botocore.session.Session | None = None
        self._sts_client: Any = None
        self._role_sessions: dict[tuple[str, str | None], boto3.session.Session] = {}
        self._clients: dict[ClientKey, Any] = {}

    def client(
        self,
        service: str,
        *,
        region: str | None = None,
        account_id: str | None = None,
        role_arn: str | None = None,
        external_id: str | None = None,
        read_timeout: float | None = None,
    ) -> Any:
        """The cached boto3 client for ``service`` in ``region`` (default: ``default_region``).

        With ``role_arn`` the client acts as that role (``AssumeRole`` with ``external_id`` when
        given); without it, as the base session. ``account_id``, when given with a role, must be the
        role's account (a guard against a mis-typed target account). With ``read_timeout`` the client
        waits that long for an answer and makes one attempt per call (a synchronous Lambda invoke: a
        retry would run the function twice). No network call is made here.
        """
        key = replace(self._key(service, region, account_id, role_arn, external_id), read_timeout=read_timeout)
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None:
                return cached
            session = self._session_for(key.role_arn, key.external_id)
            config = self.config
            if read_timeout is not None:
                config = config.merge(
                    Config(read_timeout=read_timeout, retries={"mode": "standard", "total_max_attempts": 1})
                )
            kwargs: dict[str, Any] = {"region_name": key.region, "config": config}
            if self.endpoint_url is not None:
                kwargs["endpoint_url"] = self.endpoint_url
            client = self._observed(session.client(key.service, **kwargs))
            self._clients[key] = client
            return client

    def reset(self) -> None:
        """Forget every cached session, credential and client (e.g. in a freshly forked worker)."""
        with self._lock:
            self._base_session = None
            self._base_core = None
            self._sts_client = None
            self._role_sessions.clear()
            self._clients.clear()

    # --- internals (all but _key, which is pure, run with self._lock held) -------------------

    def _key(
        self,
        service: str,
        region: str | None,
        account_id: str | None,
        role_arn: str | None,
        external_id: str | None,
    ) -> ClientKey:
        if not service:
            raise ValueError("service is required")
        if account_id is not None and not _ACCOUNT_ID.match(account_id):
            raise ValueError(f"account_id {account_id!r} is not a 12-digit AWS account id")
        if role_arn is None:
            if external_id is not None:
                raise ValueError("external_id needs a role_arn")
        else:
            match = _ROLE_ARN.match(role_arn)
            if match is None:
                raise ValueError(f"role_arn {role_arn!r} is not an IAM role ARN")
            if account_id is not None and match["account"] != account_id:
                raise ValueError(f"role_arn {role_arn} belongs to account {match['account']}, not {account_id}")
        return ClientKey(
            account_id=account_id,
            role_arn=role_arn,
            external_id=external_id,
            region=region or self.default_region,
            service=service,
        )

    def _base(self) -> boto3.session.Session:
        if self._base_session is None:
            self._base_core = botocore.session.Session()
            self._base_session = boto3.session.Session(botocore_session=self._base_core, **self._base_session_kwargs)
        return self._base_session

    def _sts(self) -> Any:
        if self._sts_client is None:
            if self._sts_client_factory is not None:
                self._sts_client = self._sts_client_factory()
            else:
                kwargs: dict[str, Any] = {"region_name": self.default_region, "config": self.config}
                if self.endpoint_url is not None:
                    kwargs["endpoint_url"] = self.endpoint_url
                self._sts_client = self._observed(self._base().client("sts", **kwargs))
        return self._sts_client

    def _observed(self, client: Any) -> Any:
        """Report every HTTP attempt of `client` to ``on_call``."""
        if self._on_call is None:
            return client
        service = client.meta.service_model.service_name
        report = self._on_call

        def attempted(event_name: str, response_dict: Any, parsed_response: Any, exception: Any, **_: Any) -> None:
            status = (response_dict or {}).get("status_code")
            code = ((parsed_response or {}).get("Error") or {}).get("Code")
            report(service, event_name.rsplit(".", 1)[-1], call_outcome(status, code, exception))

        client.meta.events.register("response-received", attempted)
        return client

    def _session_for(self, role_arn: str | None, external_id: str | None) -> boto3.session.Session:
        if role_arn is None:
            return self._base()
        session = self._role_sessions.get((role_arn, external_id))
        if session is None:
            credentials = DeferredRefreshableCredentials(
                refresh_using=self._assume_role_fetcher(self._sts(), role_arn, external_id),
                method="sts-assume-role",
            )
            self._base()
            core = botocore.session.Session()
            # share the parsed service models: a role's first client then costs ms, not 100+ ms
            core.register_component("data_loader", self._base_core.get_component("data_loader"))
            # botocore has no public setter for refreshable credentials; this is the usual idiom.
            core._credentials = credentials
            session = boto3.session.Session(botocore_session=core, region_name=self.default_region)
            self._role_sessions[(role_arn, external_id)] = session
        return session

    def _assume_role_fetcher(self, sts: Any, role_arn: str, external_id: str | None) -> Callable[[], dict[str, str]]:
        """The ``refresh_using`` callable: assumes the role, returns botocore credential metadata.

        It runs on a client's first call and before expiry, outside the factory lock; the STS client
        it uses was built under the lock, and STS clients are thread-safe.
        """

        def fetch() -> dict[str, str]:
            params: dict[str, Any] = {
                "RoleArn": role_arn,
                "RoleSessionName": self.role_session_name,
                "DurationSeconds": self.role_duration_seconds,
            }
            if external_id is not None:
                params["ExternalId"] = external_id
            credentials = sts.assume_role(**params)["Credentials"]
            expiration = credentials["Expiration"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": expiration.isoformat() if isinstance(expiration, datetime) else expiration,
            }

        return fetch
