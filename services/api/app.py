"""`create_app`: the API's composition root (Flask application factory)."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import redis
from flask import redirect, request
from flask_openapi3 import Info, OpenAPI

from services.console.web import install_console
from services.workers.adapters import registry as adapters
from shared import counters
from shared.aws.discovery import Discovery
from shared.aws.sessions import SessionFactory
from shared.db.engine import Database
from shared.messaging import SCHEDULER_QUEUE, Publisher, create_celery, worker_queue
from shared.unit_of_work import sql_units

from .auth import METRICS_ENDPOINT, PUBLIC_ENDPOINTS, install_auth
from .commands.catalog import Catalog
from .commands.discovery import DiscoveryCommands
from .commands.executions import ExecutionCommands
from .commands.queries import ExecutionQueries
from .commands.resolve import Resolver
from .commands.target_accounts import TargetAccountCommands
from .container import Services
from .errors import ApiError, register_error_handlers, validation_error_response
from .idempotency import install_idempotency
from .metrics import DrwaveCollector, registry_for
from .settings import ApiSettings
from .views import catalog, discovery, executions, health, identity, metrics, target_accounts

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
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes)
    db = Database(settings.db_url)
    redis_client = redis.Redis.from_url(settings.broker_url, socket_timeout=5)  # connects on first use
    publisher = Publisher(create_celery("drwave-api", settings))
    counting = counters.counters_client(settings.broker_url)
    aws_calls = counters.RedisCounter(counting, counters.AWS_CALLS)
    aws = Discovery(session_factory(settings, on_call=aws_calls.inc))
    resolver = Resolver(db, aws)
    app.extensions["drwave"] = Services(
        db=db,
        redis=redis_client,
        publisher=publisher,
        catalog=Catalog(db),
        discovery=DiscoveryCommands(db, resolver),
        target_accounts=TargetAccountCommands(db, aws),
        executions=ExecutionCommands(sql_units(db, publisher), resolver),
        queries=ExecutionQueries(db),
        state_dir=settings.state_dir,
    )
    register_error_handlers(app)
    _install_body_checks(app)
    install_auth(
        app, db, PUBLIC_ENDPOINTS if settings.metrics_token_required else PUBLIC_ENDPOINTS | {METRICS_ENDPOINT}
    )
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
    )
    for bp in blueprints:
        app.register_api(bp)
    install_console(app, settings, redis_client)

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


def session_factory(settings: ApiSettings, on_call: Callable[[str, str, str], None] | None = None) -> SessionFactory:
    """The API's one boto3 session factory. Endpoints and credentials follow boto3's standard
    configuration (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, profiles…); nothing connects here."""
    region = settings.aws_region or boto3.session.Session().region_name or "us-east-1"
    return SessionFactory(
        default_region=region,
        max_attempts=settings.aws_max_attempts,
        connect_timeout=3.0,
        read_timeout=20.0,
        on_call=on_call,
    )


def _install_body_checks(app: OpenAPI) -> None:
    """Malformed JSON gets a 400 naming the problem (flask-openapi3 would see an empty body). The web
    console's forms post urlencoded bodies."""

    @app.before_request
    def _parse_json_body():
        if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
            return None
        if request.blueprint == "console":
            return None
        if not request.is_json:
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
        try:
            json.loads(request.get_data(cache=True))
        except ValueError as error:
            raise ApiError(400, "MALFORMED_JSON", f"body: not valid JSON ({error})") from None
        return None
