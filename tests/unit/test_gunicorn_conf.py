"""The API's gunicorn settings come from ApiSettings: threaded workers, so idle keep-alive sockets
do not hold a worker."""

import importlib

import services.api.gunicorn_conf as conf


def test_the_api_runs_gthread_workers_with_the_thread_count_from_settings(monkeypatch):
    monkeypatch.setenv("DRWAVE_API_THREADS", "12")
    monkeypatch.setenv("DRWAVE_API_WORKERS", "3")
    reloaded = importlib.reload(conf)
    assert (reloaded.worker_class, reloaded.workers, reloaded.threads) == ("gthread", 3, 12)
