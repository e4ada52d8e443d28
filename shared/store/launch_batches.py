"""launch_batches and launch_batch_members: the one module that writes them (docs/architecture.md,
"Launch batches").

The scheduler creates a wave's batches in the transaction that starts the wave. A member task claims
its batch with a compare-and-set (``PENDING → STARTING``, or a re-claim of a start whose worker went
silent); only the claimant calls AWS, then stores the operation id (``STARTED``) or gives the claim
back after a retryable error. Status look-ups are shared the same way: one member at a time takes the
``viewed_at`` lease, asks AWS once and stores the answer in ``view`` for every member to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, literal_column, or_, select, update

from shared.db.tables import executions, launch_batch_members, launch_batches, resource_runs
from shared.domain.batches import BATCH_LIMITS, RunRef, split
from shared.domain.states import BatchStatus
from shared.store import events
from shared.store.transition import guard

LB, M, R = launch_batches, launch_batch_members, resource_runs
BS = BatchStatus


def _seconds_ago(seconds: float) -> Any:
    return func.clock_timestamp() - func.make_interval(0, 0, 0, 0, 0, 0, seconds)


def create_for_wave(
    conn: Connection,
    execution_id: str,
    wave_number: int,
    runs: Iterable[Any],
    limits: Mapping[str, int] = BATCH_LIMITS,
) -> int:
    """Split a starting wave's runs (rows with ``id``, ``adapter``, ``arn``) into batches; returns how many.

    Costs nothing when the wave has no run of a batching adapter.
    """
    planned = split((RunRef(run.id, run.adapter, run.arn) for run in runs), limits)
    if not planned:
        return 0
    ids = conn.scalars(
        insert(LB).returning(LB.c.id, sort_by_parameter_order=True),
        [
            {
                "execution_id": execution_id,
                "wave_number": wave_number,
                "adapter": batch.adapter,
                "account_id": batch.account_id,
                "region": batch.region,
            }
            for batch in planned
        ],
    ).all()
    conn.execute(
        insert(M),
        [
            {"resource_run_id": run_id, "batch_id": batch_id}
            for batch_id, batch in zip(ids, planned, strict=True)
            for run_id in batch.run_ids
        ],
    )
    return len(planned)


def forget_members(conn: Connection, run_ids: list[int]) -> None:
    """Retried runs leave the batch of their earlier attempt (which keeps its operation id and outcomes
    as history): their wave's next start makes new batches of only them."""
    if run_ids:
        conn.execute(delete(M).where(M.c.resource_run_id.in_(run_ids)))


def batch_of(conn: Connection, run_id: int) -> int | None:
    """The batch a resource run belongs to, or None when it starts on its own."""
    return conn.scalar(select(M.c.batch_id).where(M.c.resource_run_id == run_id))


def get(conn: Connection, batch_id: int) -> Row | None:
    """A batch with ``view_age`` (seconds since the last look-up, None before the first)."""
    return conn.execute(
        select(
            LB,
            func.extract("epoch", func.clock_timestamp() - LB.c.viewed_at).label("view_age"),
        ).where(LB.c.id == batch_id)
    ).first()


def list_for(conn: Connection, execution_id: str) -> list[Row]:
    return list(conn.execute(select(LB).where(LB.c.execution_id == execution_id).order_by(LB.c.id)))


def members(conn: Connection, batch_id: int) -> list[Row]:
    """The batch's resource runs (id, arn, status, detail, execution id, attempt), in run order."""
    return list(
        conn.execute(
            select(R.c.id, R.c.arn, R.c.status, R.c.detail, R.c.execution_id, R.c.attempt)
            .select_from(R.join(M, M.c.resource_run_id == R.c.id))
            .where(M.c.batch_id == batch_id)
            .order_by(R.c.id)
        )
    )


def claim_start(conn: Connection, batch_id: int, stale_seconds: float) -> Row | None:
    """Take the batch's start: ``PENDING → STARTING``, or re-claim a STARTING batch silent for ``stale_seconds``.

    Returns the claimed row (its ``start_attempts`` is the claim's token), or None when another member
    holds the claim or the batch has started already.
    """
    return conn.execute(
        update(LB)
        .where(
            LB.c.id == batch_id,
            or_(
                guard(LB.c.status, BS.PENDING, BS.STARTING),
                guard(LB.c.status, BS.STARTING, BS.STARTING) & (LB.c.claimed_at < _seconds_ago(stale_seconds)),
            ),
        )
        .values(
            status=BS.STARTING.value,
            start_attempts=LB.c.start_attempts + 1,
            claimed_at=func.clock_timestamp(),
        )
        .returning(*LB.c)
    ).first()


def _end_claim(conn: Connection, batch_id: int, attempts: int, target: BatchStatus, **values: Any) -> Row | None:
    """``STARTING → target`` for the claim ``attempts`` only (a re-claimed start has another token)."""
    return conn.execute(
        update(LB)
        .where(LB.c.id == batch_id, guard(LB.c.status, BS.STARTING, target), LB.c.start_attempts == attempts)
        .values(status=target.value, **values)
        .returning(*LB.c)
    ).first()


def release(conn: Connection, batch_id: int, attempts: int) -> bool:
    """Give a claim back after a retryable error, so the next member task may start the batch at once."""
    return _end_claim(conn, batch_id, attempts, BS.PENDING, claimed_at=None) is not None


def record_start(
    conn: Connection,
    batch_id: int,
    attempts: int,
    *,
    operation_id: str,
    detail: dict[str, Any],
    outcomes: dict[str, dict[str, Any]],
    actor: str,
    message: str,
) -> Row | None:
    """``STARTING → STARTED`` with the operation id, for the claim ``attempts`` only; logged on the timeline."""
    row = _end_claim(
        conn,
        batch_id,
        attempts,
        BS.STARTED,
        operation_id=operation_id,
        detail=detail,
        outcomes=outcomes,
        started_at=func.clock_timestamp(),
    )
    if row is not None:
        timeline = {"batchId": row.id, "operationId": operation_id, **detail}
        events.append(
            conn, row.execution_id, "batch.started", actor, message, wave_number=row.wave_number, detail=timeline
        )
    return row


def fail(conn: Connection, batch_id: int, attempts: int, error: str, *, actor: str) -> Row | None:
    """``STARTING → FAILED``: the batch could not be started; every member fails with ``error``."""
    row = _end_claim(conn, batch_id, attempts, BS.FAILED, error=error)
    if row is not None:
        message = f"Batch {row.id} ({row.adapter}) could not be started: {error}"
        timeline = {"batchId": row.id, "error": error}
        events.append(
            conn, row.execution_id, "batch.failed", actor, message, wave_number=row.wave_number, detail=timeline
        )
    return row


def claim_view(conn: Connection, batch_id: int, max_age: float, scope_gap: float = 0.0) -> bool:
    """Take the lease to refresh the shared status look-up when it is older than ``max_age`` seconds and,
    with ``scope_gap``, no batch of the same account and Region was looked up in the last ``scope_gap``
    seconds (serialized per account+Region by a transaction-scoped advisory lock)."""
    if scope_gap > 0:
        scope = select(func.coalesce(LB.c.account_id, "") + "/" + LB.c.region).where(LB.c.id == batch_id)
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(scope.scalar_subquery()))))
        other = LB.alias("other")
        this = select(LB.c.account_id, LB.c.region).where(LB.c.id == batch_id).subquery()
        recent = conn.scalar(
            select(other.c.id)
            .where(
                other.c.id != batch_id,
                other.c.status == BS.STARTED.value,
                other.c.account_id.is_not_distinct_from(this.c.account_id),
                other.c.region == this.c.region,
                other.c.viewed_at > _seconds_ago(scope_gap),
            )
            .limit(1)
        )
        if recent is not None:
            return False
    return bool(
        conn.execute(
            update(LB)
            .where(
                LB.c.id == batch_id,
                LB.c.status == BS.STARTED.value,
                or_(LB.c.viewed_at.is_(None), LB.c.viewed_at < _seconds_ago(max_age)),
            )
            .values(viewed_at=func.clock_timestamp())
        ).rowcount
    )


def store_view(conn: Connection, batch_id: int, view: dict[str, Any]) -> None:
    conn.execute(update(LB).where(LB.c.id == batch_id).values(view=view, viewed_at=literal_column("clock_timestamp()")))


def jobs_of(conn: Connection, run_ids: list[int]) -> dict[int, str]:
    """The DRS job of each resource run's launch batch (the batch's operation id, ``drsjob-…``)."""
    if not run_ids:
        return {}
    rows = conn.execute(
        select(M.c.resource_run_id, LB.c.operation_id)
        .join(LB, LB.c.id == M.c.batch_id)
        .where(M.c.resource_run_id.in_(run_ids), LB.c.operation_id.like("drsjob-%"))
    )
    return {row.resource_run_id: row.operation_id for row in rows}


def claim_scope_views(conn: Connection, batch_id: int, max_age: float) -> list[Row]:
    """The other started batches of this batch's account, Region and execution phase whose look-up is
    older than ``max_age``, each claimed for refreshing (with the execution's mode and phase)."""
    this = (
        select(LB.c.account_id, LB.c.region, executions.c.phase)
        .select_from(LB.join(executions, executions.c.id == LB.c.execution_id))
        .where(LB.c.id == batch_id)
        .subquery()
    )
    same = (
        select(LB.c.id)
        .select_from(LB.join(executions, executions.c.id == LB.c.execution_id))
        .where(
            LB.c.id != batch_id,
            LB.c.status == BS.STARTED.value,
            LB.c.account_id.is_not_distinct_from(this.c.account_id),
            LB.c.region == this.c.region,
            executions.c.phase == this.c.phase,
            or_(LB.c.viewed_at.is_(None), LB.c.viewed_at < _seconds_ago(max_age)),
        )
    )
    claimed = update(LB).where(LB.c.id.in_(same.scalar_subquery())).values(viewed_at=func.clock_timestamp())
    ids = [row.id for row in conn.execute(claimed.returning(LB.c.id))]
    if not ids:
        return []
    return list(
        conn.execute(
            select(LB, executions.c.mode, executions.c.phase)
            .select_from(LB.join(executions, executions.c.id == LB.c.execution_id))
            .where(LB.c.id.in_(ids))
        )
    )
