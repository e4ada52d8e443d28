"""Readiness passes never overlap: a pass skips while another scheduler's pass holds the advisory lock."""

from __future__ import annotations

import time

from ready_support import sim_arn
from sqlalchemy import text

from services.api.commands.preflight import Evaluation
from services.scheduler.readiness import READINESS_LOCK, ReadinessEvaluator
from shared.domain import preflight as rules


class CountingPreflight:
    def __init__(self) -> None:
        self.evaluated: list[str] = []

    def evaluate(self, plan_id: str) -> Evaluation:
        self.evaluated.append(plan_id)
        return Evaluation([rules.ok("drs.replication", "fine")], {})


def test_a_pass_skips_while_another_holds_the_lock_and_runs_once_it_is_released(ready_db, api):
    plan = api.plan([sim_arn("cache")])
    preflight = CountingPreflight()
    evaluator = ReadinessEvaluator(ready_db, preflight)

    with ready_db.engine.connect() as other:  # the stack's scheduler takes the lock too: wait for our turn
        other.execute(text("SELECT pg_advisory_lock(:id)"), {"id": READINESS_LOCK})
        assert evaluator.run_once().skipped is True
        other.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": READINESS_LOCK})
        other.commit()
    assert preflight.evaluated == []

    reports = [evaluator.run_once()]
    while reports[-1].skipped:  # the scheduler's own pass may hold the lock for a moment
        time.sleep(0.1)
        reports.append(evaluator.run_once())

    assert plan in preflight.evaluated
