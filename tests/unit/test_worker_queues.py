"""Which adapter queues a worker consumes: a subset per host, or every adapter."""

from __future__ import annotations

from services.workers.__main__ import queues
from services.workers.adapters import registry
from services.workers.settings import WorkerSettings


def test_a_worker_given_adapters_consumes_only_their_queues():
    assert queues(WorkerSettings(worker_queues="drs, aurora")) == ["workers.drs", "workers.aurora"]


def test_queue_names_are_accepted_as_well_as_adapter_names():
    assert queues(WorkerSettings(worker_queues="workers.drs,workers.aurora")) == ["workers.drs", "workers.aurora"]


def test_a_worker_given_no_adapters_consumes_every_adapter_queue():
    assert queues(WorkerSettings(worker_queues=None)) == [f"workers.{name}" for name in registry.names()]
