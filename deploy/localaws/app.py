"""The WSGI application: admin API, call counting, fault injection, our emulators, then moto.

One request's way through :meth:`LocalAwsApp.__call__`:

1. ``/_localaws/…`` → ``admin``.
2. Recognise the AWS call (``awscall.identify``); unsigned requests go straight to moto.
3. Decide the account the way moto does and pin it with moto's ``x-moto-account-id`` header, so
   moto and our emulators agree (``--account`` changes the default account).
4. Count the call; answer an injected fault if a rule says so: throttling, a Region outage (503), or
   a slow call (served as usual, later).
5. DRS → ``drs_api``; Aurora global switchover/failover/describe → ``aurora``; Lambda Invoke and SSM
   Automation → ``actions``; anything else → moto.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from deploy.localaws import actions, admin, aurora, drs_api, route53_tagging
from deploy.localaws.accounts import account_for_access_key
from deploy.localaws.awscall import AwsCall, identify
from deploy.localaws.errors import AwsError, error_response, internal_error, throttling_error, unavailable_error
from deploy.localaws.state import LocalAwsState

log = logging.getLogger("deploy.localaws")

StartResponse = Callable[..., Any]


class LocalAwsApp:
    def __init__(self, state: LocalAwsState) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.state = state
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == admin.PREFIX or path.startswith(admin.PREFIX + "/"):
            return self._guarded(
                None, lambda: admin.handle(self.state, Request(environ)), environ, start_response
            )

        started = time.perf_counter()
        seen: dict[str, Any] = {}

        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            seen["status"] = status
            return start_response(status, headers, exc_info)

        call: AwsCall | None = None
        try:
            call = identify(environ)
        except Exception as exc:  # a malformed request must not kill the thread
            log.exception("could not read request")
            return internal_error(None, exc)(environ, start_response)
        if call is None:  # unsigned: moto's own API, instance metadata, …
            return self._moto(None, environ, recording_start_response)

        account = self._pin_account(environ, call)
        fault = self.state.faults.fault_for(call.names, call.operation, call.region)
        throttled = fault.throttled
        self.state.calls.record(call.key, throttled=throttled, scope=f"{account}/{call.region}")
        if fault.delay:  # a slow call: served as usual, later (holding no lock, so other calls go on)
            time.sleep(fault.delay)
        try:
            if fault.outage:
                return error_response(call, unavailable_error(call))(environ, recording_start_response)
            if throttled:
                return error_response(call, throttling_error(call))(environ, recording_start_response)
            response = self._guarded_emulation(call, account)
            if response is not None:
                return response(environ, recording_start_response)
            if call.service == "ecs" and self.state.config.ecs_rollout_seconds > 0:
                return self._ecs_update(call, account, environ, recording_start_response)
            return self._moto(call, environ, recording_start_response)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info(
                "%s account=%s region=%s -> %s%s %.1fms",
                call.key,
                account,
                call.region,
                str(seen.get("status", "?")).split(" ", 1)[0],
                fault.label(),
                elapsed_ms,
            )

    def _pin_account(self, environ: dict[str, Any], call: AwsCall) -> str:
        explicit = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        if explicit:
            return str(explicit)
        account = account_for_access_key(call.access_key, self.state.config.default_account)
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        return account

    def _guarded_emulation(self, call: AwsCall, account: str) -> Response | None:
        """Our emulators' answer, or ``None`` to let moto answer. Never raises."""
        try:
            return self._emulate(call, account)
        except AwsError as err:
            return error_response(call, err)
        except Exception as exc:
            log.exception("localaws emulation failed on %s", call.key)
            return internal_error(call, exc)

    def _emulate(self, call: AwsCall, account: str) -> Response | None:
        state = self.state
        if call.service == "drs":
            with state.lock:
                return drs_api.handle(call, state.drs, account, state.config.drs_job_step_seconds)
        if call.service == "rds":
            with state.lock:
                if call.operation in aurora.OPERATIONS:
                    step = state.config.global_cluster_step_seconds
                    return state.aurora.handle(call, account, step, region_out=state.faults.region_out)
                state.aurora.advance(account)
            return None
        if (call.service, call.operation) in actions.OPERATIONS:
            return state.actions.handle(call, account)
        if call.service == "resourcegroupstaggingapi":
            route53_tagging.ensure_registered(account)
        return None

    def _ecs_update(
        self, call: AwsCall, account: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """moto applies an ECS call; an UpdateService of the desired count then rolls out over time."""
        statuses: list[str] = []

        def noting_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        with self.state.lock:
            self.state.ecs.advance()
            before = self.state.ecs.running_before(call, account)
            answer = list(self._moto(call, environ, noting_start_response))
            if before is not None and statuses and statuses[0].startswith("2"):
                self.state.ecs.start(call, account, before, self.state.config.ecs_rollout_seconds)
        return answer

    def _moto(
        self, call: AwsCall | None, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        return self._guarded(call, lambda: self.moto, environ, start_response)

    @staticmethod
    def _guarded(
        call: AwsCall | None,
        make_app: Callable[[], Any],
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        try:
            return make_app()(environ, start_response)
        except Exception as exc:
            log.exception("request failed: %s", call.key if call else environ.get("PATH_INFO"))
            return internal_error(call, exc)(environ, start_response)
