"""gunicorn's configuration, read from the API's settings so they stay the one source (`drwave run` and
`deploy/compose.yml` both start gunicorn with `--config python:services.api.gunicorn_conf`): worker
processes `DRWAVE_API_WORKERS`, threads per worker `DRWAVE_API_THREADS`, and the master and every worker
log in drwave's format (`DRWAVE_LOG_FORMAT`), gunicorn's own error and access lines included.

Threaded workers (gthread): an idle keep-alive socket (a browser tab of the web console) waits in the
worker's poller instead of holding the worker, so the next API call is served at once."""

from __future__ import annotations

import logging

from services.api.settings import ApiSettings
from shared.logs import dict_config

_settings = ApiSettings()
worker_class = "gthread"
workers = _settings.api_workers
threads = _settings.api_threads
logconfig_dict = dict_config(_settings.log_level, _settings.log_format)


def on_starting(server) -> None:
    logging.captureWarnings(True)  # in the master, so every worker inherits it
