"""The web console at /console: server-rendered pages (Jinja2) over the API's own service layer and
permission table, with a small vendored script that refreshes live fragments."""

from __future__ import annotations

import redis
from flask import Flask

from services.api.settings import ApiSettings

from .sessions import SessionStore
from .views import bp


def install_console(app: Flask, settings: ApiSettings, redis_client: redis.Redis) -> None:
    app.extensions["drwave_console"] = SessionStore(redis_client, int(settings.console_session_hours * 3600))
    app.register_blueprint(bp)


__all__ = ["install_console"]
