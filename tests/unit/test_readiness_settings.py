"""The defaults of readiness and preflight settings: a pass every 30 min (every minute under make run),
replication lag over 15 min a warning, no periodic tag sync unless asked."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from services.api.settings import ApiSettings
from services.cli import RunSettings
from services.scheduler.settings import SchedulerSettings


@pytest.fixture(autouse=True)
def no_drwave_environment(monkeypatch):
    for name in [n for n in os.environ if n.startswith("DRWAVE_")]:
        monkeypatch.delenv(name)


def test_the_scheduler_evaluates_readiness_every_30_minutes_and_syncs_tags_only_when_asked():
    settings = SchedulerSettings()

    assert settings.readiness_interval == 1800 == 30 * 60
    assert settings.tag_sync_interval is None


def test_make_run_evaluates_readiness_every_minute():
    assert RunSettings().readiness_interval == 60


def test_replication_lag_over_15_minutes_is_the_default_limit_of_the_api_and_the_scheduler():
    assert ApiSettings().max_replication_lag == SchedulerSettings().max_replication_lag == 900 == 15 * 60


def test_the_intervals_and_the_lag_limit_come_from_the_environment_and_must_be_positive(monkeypatch):
    monkeypatch.setenv("DRWAVE_READINESS_INTERVAL", "5")
    monkeypatch.setenv("DRWAVE_TAG_SYNC_INTERVAL", "600")
    monkeypatch.setenv("DRWAVE_MAX_REPLICATION_LAG", "300")
    settings = SchedulerSettings()
    assert (settings.readiness_interval, settings.tag_sync_interval, settings.max_replication_lag) == (5, 600, 300)

    monkeypatch.setenv("DRWAVE_READINESS_INTERVAL", "0")
    with pytest.raises(ValidationError, match="readiness_interval"):
        SchedulerSettings()
