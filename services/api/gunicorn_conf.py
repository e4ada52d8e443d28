"""gunicorn's configuration, read from the API's settings so they stay the one source: the number of
worker processes is ``DRWAVE_API_WORKERS`` (``ApiSettings.api_workers``) wherever the API runs
(``drwave run`` and ``deploy/compose.yml`` both start gunicorn with ``-c python:services.api.gunicorn_conf``)."""

from services.api.settings import ApiSettings

workers = ApiSettings().api_workers
