"""gunicorn settings of the API, read from ApiSettings (DRWAVE_API_WORKERS, DRWAVE_API_THREADS).

Threaded workers (gthread): an idle keep-alive socket (a browser tab of the web console) waits in the
worker's poller instead of holding the worker, so the next API call is served at once."""

from services.api.settings import ApiSettings

_settings = ApiSettings()

worker_class = "gthread"
workers = _settings.api_workers
threads = _settings.api_threads
