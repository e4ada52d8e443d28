"""`create_app`: the API's composition root (Flask application factory)."""

from __future__ import annotations

import boto3
import redis
from flask import redirect, request
from flask_openapi3 import Info, OpenAPI
from prometheus_client import Counter

from shared.aws.discovery import Discovery
from shared.aws.sessions import SessionFactory
from shared.db.engine import Database
from shared.messaging import Publisher, create_celery

from .auth import Authenticator, install_auth
from .commands.audit import AuditQueries
from .commands.catalog import Catalog
from .commands.discovery import DiscoveryCommands
from .commands.executions import ExecutionCommands
from .commands.queries import ExecutionQueries
from .commands.resolve import Resolver
from .commands.target_accounts import TargetAccountCommands
from .commands.tokens import TokenCommands
from .container import Services
from .errors import register_error_handlers, validation_error_response
from .idempotency import install_idempotency
from .input_checks import install_input_checks
from .oidc import OidcVerifier
from .rate_limits import install_rate_limits
from .schemas import EXTRA_REGIONS_CONFIG
from .settings import ApiSettings
from .views import audit, catalog, discovery, executions, health, identity, metrics, target_accounts, tokens

REQUESTS = Counter("drwave_api_requests_total", "API requests", ["method", "endpoint", "status"])
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
    aws = Discovery(session_factory(settings))
    resolver = Resolver(db, aws)
    app.extensions["drwave"] = Services(
        db=db,
        redis=redis_client,
        publisher=publisher,
        catalog=Catalog(db),
        discovery=DiscoveryCommands(db, resolver),
        target_accounts=TargetAccountCommands(db, aws),
        executions=ExecutionCommands(db, publisher, resolver),
        queries=ExecutionQueries(db),
        tokens=TokenCommands(db),
        audit=AuditQueries(db),
    )
    register_error_handlers(app)
    install_input_checks(app)
    install_auth(app, Authenticator(db, oidc_verifier(settings)))
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
    )
    for bp in blueprints:
        app.register_api(bp)

    @app.get("/openapi.json", doc_ui=False)
    def openapi_document():
        return app.api_doc

    app.add_url_rule("/docs", "docs_redirect", lambda: redirect("/openapi/swagger"))

    @app.after_request
    def _count(response):
        REQUESTS.labels(request.method, request.endpoint or "unknown", response.status_code).inc()
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


def session_factory(settings: ApiSettings) -> SessionFactory:
    """The API's one boto3 session factory. Endpoints and credentials follow boto3's standard
    configuration (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, profiles…); nothing connects here."""
    region = settings.aws_region or boto3.session.Session().region_name or "us-east-1"
    return SessionFactory(
        default_region=region, max_attempts=settings.aws_max_attempts, connect_timeout=3.0, read_timeout=20.0
    )
