"""gunicorn configuration of the API (`gunicorn -c python:services.api.gunicorn_conf ...`): the master
and every worker log in drwave's format (DRWAVE_LOG_FORMAT), gunicorn's own error and access logs included."""

from __future__ import annotations

from services.api.settings import ApiSettings
from shared.logs import configure_logging


def on_starting(server) -> None:
    """Runs in the master after gunicorn set up its loggers and before it forks workers (they inherit it)."""
    settings = ApiSettings()
    configure_logging(settings.log_level, settings.log_format)
