"""`create_app`: the API's composition root (Flask application factory)."""

from __future__ import annotations

from collections.abc import Callable

import redis
from flask import redirect, request
from flask_openapi3 import Info, OpenAPI
from werkzeug.middleware.proxy_fix import ProxyFix

from services.console.web import install_console
from services.workers.adapters import registry as adapters
from shared import counters
from shared.aws.discovery import Discovery
from shared.aws.drs_ops import DrsOperations
from shared.aws.preflight import PreflightProbe
from shared.aws.sessions import SessionFactory, default_region
from shared.db.engine import Database
from shared.messaging import SCHEDULER_QUEUE, Publisher, create_celery, worker_queue
from shared.notify import senders
from shared.unit_of_work import sql_units

from .auth import METRICS_ENDPOINT, PUBLIC_ENDPOINTS, Authenticator, install_auth
from .commands.approvals import ApprovalCommands
from .commands.audit import AuditQueries
from .commands.catalog import Catalog
from .commands.discovery import DiscoveryCommands
from .commands.drs import DrsCommands
from .commands.executions import ExecutionCommands
from .commands.preflight import Preflight
from .commands.queries import ExecutionQueries
from .commands.readiness import ReadinessQueries
from .commands.reports import ReportQueries
from .commands.resolve import Resolver
from .commands.retry import RetryCommands
from .commands.subscriptions import SubscriptionCommands
from .commands.target_accounts import TargetAccountCommands
from .commands.tokens import TokenCommands
from .container import Services
from .errors import register_error_handlers, validation_error_response
from .fields import EXTRA_REGIONS_CONFIG
from .idempotency import install_idempotency
from .input_checks import install_input_checks
from .metrics import DrwaveCollector, registry_for
from .oidc import OidcVerifier
from .rate_limits import install_rate_limits
from .settings import ApiSettings
from .views import (
    approvals,
    audit,
    catalog,
    discovery,
    drs,
    executions,
    health,
    identity,
    metrics,
    readiness,
    subscriptions,
    target_accounts,
    tokens,
)

SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"}}


def create_app(settings: ApiSettings | None = None) -> OpenAPI:
    settings = settings or ApiSettings()
    app = OpenAPI(
        __name__,
        info=Info(title="drwave", version="1", description="Disaster-recovery orchestrator REST API"),
        security_schemes=SECURITY_SCHEMES,
        validation_error_status=400,
        validation_error_callback=validation_error_response,
        doc_prefix="/openapi",
        doc_url="/openapi.json",
    )
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, **{EXTRA_REGIONS_CONFIG: settings.extra_regions})
    db = Database(settings.db_url)
    redis_client = redis.Redis.from_url(settings.broker_url, socket_timeout=5)  # connects on first use
    publisher = Publisher(create_celery("drwave-api", settings))
    counting = counters.counters_client(settings.broker_url)
    aws_calls = counters.RedisCounter(counting, counters.AWS_CALLS)
    sessions = session_factory(settings, on_call=aws_calls.inc)
    aws = Discovery(sessions)
    resolver = Resolver(db, aws)
    preflight = Preflight(db, resolver, PreflightProbe(sessions, max_replication_lag=settings.max_replication_lag))
    execution_commands = ExecutionCommands(sql_units(db, publisher), resolver, preflight)
    notify = senders.build_all(
        sessions=sessions, timeout=settings.notify_timeout, allow_private=settings.webhook_allow_private
    )
    app.extensions["drwave"] = Services(
        db=db,
        redis=redis_client,
        publisher=publisher,
        catalog=Catalog(db),
        discovery=DiscoveryCommands(db, resolver, preflight),
        target_accounts=TargetAccountCommands(db, aws),
        executions=execution_commands,
        queries=ExecutionQueries(db),
        state_dir=settings.state_dir,
        tokens=TokenCommands(db),
        audit=AuditQueries(db),
        drs=DrsCommands(db, resolver, DrsOperations(sessions)),
        readiness=ReadinessQueries(db),
        subscriptions=SubscriptionCommands(
            db, notify, allow_private=settings.webhook_allow_private, send_timeout=settings.notify_timeout
        ),
        approvals=ApprovalCommands(sql_units(db, publisher), execution_commands),
        reports=ReportQueries(db),
        retry=RetryCommands(sql_units(db, publisher)),
    )
    register_error_handlers(app)
    install_input_checks(app)
    public = PUBLIC_ENDPOINTS if settings.metrics_token_required else PUBLIC_ENDPOINTS | {METRICS_ENDPOINT}
    authenticator = Authenticator(db, oidc_verifier(settings))
    app.extensions["drwave_authenticator"] = authenticator  # the console logs in through the same checks
    install_auth(app, authenticator, public)
    install_rate_limits(app, settings.broker_url, settings.rate_limit)
    install_idempotency(app, redis_client)
    blueprints = (
        health.bp,
        identity.bp,
        metrics.bp,
        catalog.groups_bp,
        catalog.plans_bp,
        discovery.bp,
        target_accounts.bp,
        executions.bp,
        tokens.bp,
        audit.bp,
        drs.bp,
        readiness.bp,
        approvals.bp,
        subscriptions.bp,
    )
    for bp in blueprints:
        app.register_api(bp)
    install_console(app, settings, redis_client)
    if settings.trusted_proxies:  # behind a TLS-terminating proxy: https there (the console cookie's Secure flag)
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.get("/openapi.json", doc_ui=False)
    def openapi_document():
        return app.api_doc

    app.add_url_rule("/docs", "docs_redirect", lambda: redirect("/openapi/swagger"))

    queues = [SCHEDULER_QUEUE, *(worker_queue(name) for name in adapters.names())]
    app.extensions[metrics.REGISTRY] = registry_for(DrwaveCollector(db, redis_client, queues))
    requests_answered = counters.RedisCounter(counting, counters.API_REQUESTS)

    @app.after_request
    def _count(response):
        requests_answered.inc(request.method, request.endpoint or "unknown", str(response.status_code))
        return response

    return app


def oidc_verifier(settings: ApiSettings) -> OidcVerifier | None:
    if not settings.oidc_issuer:
        return None
    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience or "",
        role_claim=settings.oidc_role_claim,
        role_map=settings.oidc_role_map,
        jwks_cache_seconds=settings.oidc_jwks_cache_seconds,
        jwks_refetch_cooldown_seconds=settings.oidc_jwks_refetch_cooldown,
    )


def session_factory(settings: ApiSettings, on_call: Callable[[str, str, str], None] | None = None) -> SessionFactory:
    """The API's one boto3 session factory. Endpoints and credentials follow boto3's standard
    configuration (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, profiles…); nothing connects here."""
    return SessionFactory(
        default_region=default_region(settings.aws_region),
        max_attempts=settings.aws_max_attempts,
        connect_timeout=3.0,
        read_timeout=20.0,
        on_call=on_call,
    )
