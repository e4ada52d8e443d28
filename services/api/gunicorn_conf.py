"""gunicorn configuration of the API (`gunicorn --config python:services.api.gunicorn_conf ...`): the
master and every worker log in drwave's format (DRWAVE_LOG_FORMAT), gunicorn's own error and access
lines included, from gunicorn's first line on."""

from __future__ import annotations

import logging

from services.api.settings import ApiSettings
from shared.logs import dict_config

_settings = ApiSettings()
logconfig_dict = dict_config(_settings.log_level, _settings.log_format)


def on_starting(server) -> None:
    logging.captureWarnings(True)  # in the master, so every worker inherits it
