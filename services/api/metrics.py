"""What /metrics serves, computed at scrape time from Postgres (executions, waves, resource runs) and
Redis (queue lengths, the counters every process adds to: see shared.counters), so any API process —
whichever gunicorn worker a scrape reaches — answers the same numbers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from shared import counters
from shared.db.engine import Database
from shared.store import metrics as aggregates


class DrwaveCollector(Collector):
    def __init__(self, db: Database, redis_client: redis.Redis, queues: Sequence[str]):
        self.db = db
        self.redis = redis_client
        self.queues = list(queues)
        self.counters = [counters.RedisCounter(redis_client, spec) for spec in counters.ALL]

    def collect(self) -> Iterator[Metric]:
        yield from self._from_postgres()
        yield from self._from_redis()

    def _from_postgres(self) -> Iterator[Metric]:
        with self.db.engine.connect() as conn:
            by_execution = aggregates.executions_by_status_mode_phase(conn)
            by_wave = aggregates.waves_by_status(conn)
            by_resource = aggregates.resource_runs_by_adapter_status(conn)
            bucket_counts, count, total = aggregates.finished_wave_durations(conn)
        executions = GaugeMetricFamily(
            "drwave_executions", "executions by status, mode and phase", labels=["status", "mode", "phase"]
        )
        for status, mode, phase, n in by_execution:
            executions.add_metric([status, mode, phase], n)
        waves = GaugeMetricFamily("drwave_waves", "wave runs by status", labels=["status"])
        for status, n in by_wave:
            waves.add_metric([status], n)
        resource_runs = GaugeMetricFamily(
            "drwave_resource_runs", "resource runs by adapter and status", labels=["adapter", "status"]
        )
        for adapter, status, n in by_resource:
            resource_runs.add_metric([adapter, status], n)
        durations = HistogramMetricFamily("drwave_wave_duration_seconds", "duration of finished waves, start to finish")
        buckets = [(str(b), n) for b, n in zip(aggregates.WAVE_DURATION_BUCKETS, bucket_counts, strict=True)]
        durations.add_metric([], [*buckets, ("+Inf", count)], sum_value=total)
        yield from (executions, waves, resource_runs, durations)

    def _from_redis(self) -> Iterator[Metric]:
        pipeline = self.redis.pipeline(transaction=False)
        for queue in self.queues:
            pipeline.llen(queue)
        depth = GaugeMetricFamily("drwave_queue_depth", "messages waiting in each Celery queue", labels=["queue"])
        for queue, n in zip(self.queues, pipeline.execute(), strict=True):
            depth.add_metric([queue], n)
        yield depth
        for counter in self.counters:
            family = CounterMetricFamily(counter.spec.name, counter.spec.help, labels=list(counter.spec.labels))
            for labels, value in sorted(counter.read().items()):
                family.add_metric(list(labels), value)
            yield family


def registry_for(collector: DrwaveCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
