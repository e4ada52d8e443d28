"""resource_runs: the one module that writes the resource_runs table (the hot path of every wave)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.db.tables import executions, resource_runs, wave_runs
from shared.domain.failover import DATA_LOSS_APPROVAL_REQUIRED
from shared.domain.states import (
    RESOURCE_FAILED,
    RESOURCE_TERMINAL,
    ExecutionStatus,
    ResourceStatus,
    WaveStatus,
)
from shared.store import events
from shared.store.transition import guard

R = resource_runs


def insert_many(conn: Connection, execution_id: str, rows: Iterable[dict[str, Any]]) -> None:
    """rows: dicts with wave_number, arn, adapter; an action's also with stage and action."""
    batch = [{"execution_id": execution_id, "stage": 0, "action": None, **row} for row in rows]
    if batch:
        conn.execute(insert(R), batch)


def for_wave(
    conn: Connection, execution_id: str, number: int, stage: int | None = None, *, pending: bool = False
) -> list[Row]:
    """The wave's runs (of one stage, when given); ``pending``: only those still to start (a retried wave
    re-runs just its new attempts, never a run that SUCCEEDED)."""
    query = select(R.c.id, R.c.adapter, R.c.arn).where(R.c.execution_id == execution_id, R.c.wave_number == number)
    if stage is not None:
        query = query.where(R.c.stage == stage)
    if pending:
        query = query.where(R.c.status == ResourceStatus.PENDING.value)
    return list(conn.execute(query.order_by(R.c.id)))


def list_for(
    conn: Connection, execution_id: str, *, after: tuple[int, int] | None = None, limit: int | None = None
) -> list[Row]:
    """The runs of an execution by wave, then id; `after` a (wave number, id) already seen."""
    query = select(R).where(R.c.execution_id == execution_id)
    if after is not None:
        query = query.where(tuple_(R.c.wave_number, R.c.id) > tuple_(*after))
    return list(conn.execute(query.order_by(R.c.wave_number, R.c.id).limit(limit)))


def counts_for(conn: Connection, execution_id: str) -> dict[int, dict[str, int]]:
    """How many runs of each wave are in each status."""
    rows = conn.execute(
        select(R.c.wave_number, R.c.status, func.count())
        .where(R.c.execution_id == execution_id)
        .group_by(R.c.wave_number, R.c.status)
    )
    counted: dict[int, dict[str, int]] = {}
    for wave_number, status, count in rows:
        counted.setdefault(wave_number, {})[status] = count
    return counted


def _with_wave():
    """resource_runs joined with the wave run they belong to."""
    return R.join(wave_runs, and_(wave_runs.c.execution_id == R.c.execution_id, wave_runs.c.number == R.c.wave_number))


def load_work(conn: Connection, run_id: int) -> Row | None:
    """A resource run with what a worker needs to act on it: execution status, mode, phase, failover
    options, wave deadline."""
    return conn.execute(_load_work_statement(), {"run_id": run_id}).first()


def _work_columns() -> tuple:
    return (
        *R.c,
        executions.c.status.label("execution_status"),
        executions.c.mode,
        executions.c.phase,
        executions.c.failover,
        executions.c.allow_data_loss,
        wave_runs.c.started_at.label("wave_started_at"),
        wave_runs.c.timeout_seconds,
        func.clock_timestamp().label("now"),
    )


@functools.lru_cache(maxsize=1)
def _load_work_statement():
    return (
        select(*_work_columns())
        .select_from(_with_wave().join(executions, executions.c.id == R.c.execution_id))
        .where(R.c.id == bindparam("run_id"))
    )


def claim_work(conn: Connection, run_id: int) -> Row | None:
    """PENDING -> STARTING and ``load_work``'s answer, in one statement (one round trip where a load and
    a claim take two: the first step of every run). It claims only a run the step would claim: its wave
    has started, its execution is not being cancelled, and it is before the wave's timeout (a resource;
    a pending action's clock starts at its claim). None when any of that does not hold or another
    delivery claimed it first: the step then loads the run and decides as always."""
    return conn.execute(_claim_work_statement(), {"run_id": run_id}).first()


@functools.lru_cache(maxsize=1)
def _claim_work_statement():
    wave_deadline = wave_runs.c.started_at + func.make_interval(0, 0, 0, 0, 0, 0, wave_runs.c.timeout_seconds)
    stopping = (ExecutionStatus.CANCELLING.value, ExecutionStatus.CANCELLED.value)
    return (
        update(R)
        .where(
            R.c.id == bindparam("run_id"),
            guard(R.c.status, ResourceStatus.PENDING, ResourceStatus.STARTING),
            executions.c.id == R.c.execution_id,
            wave_runs.c.execution_id == R.c.execution_id,
            wave_runs.c.number == R.c.wave_number,
            wave_runs.c.started_at.is_not(None),
            executions.c.status.not_in(stopping),
            or_(R.c.action.is_not(None), func.clock_timestamp() < wave_deadline),
        )
        .values(**_moved_to(ResourceStatus.STARTING))
        .returning(*_work_columns())
    )


MOVED_COLUMNS = ("id", "status", "operation_id", "detail", "error", "start_attempts", "started_at", "attempt")


def move(
    conn: Connection,
    run_id: int,
    expected: ResourceStatus,
    target: ResourceStatus,
    *,
    actor: str,
    values: dict[str, Any] | None = None,
    message: str | None = None,
    detail: dict[str, Any] | None = None,
    attempt: int | None = None,
) -> Row | None:
    """Compare-and-set one resource run; terminal moves (and moves with a `message`) are also written to
    the timeline by the same statement. With `attempt`, only that attempt of the run moves: what a worker
    learnt about an earlier attempt never lands on the new one a retry made. Returns the run's
    `MOVED_COLUMNS` as updated, with the database clock as `now` (fewer columns: less to decode on the
    hot path), or None when another writer won."""
    values = values or {}
    logged = bool(message) or target in RESOURCE_TERMINAL
    statement = _move_statement(expected, target, tuple(sorted(values)), logged, bool(message), attempt is not None)
    params = {
        "run_id": run_id,
        **{f"v_{k}": v for k, v in values.items()},
        **({"of_attempt": attempt} if attempt is not None else {}),
    }
    if logged:
        params |= {"kind": f"resource.{target.value.lower()}", "actor": actor, "event_detail": detail or {}}
        params |= {"message": message} if message else {"suffix": f": {target.value}"}
    return conn.execute(statement, params).first()


@functools.lru_cache(maxsize=128)
def _move_statement(
    expected: ResourceStatus,
    target: ResourceStatus,
    keys: tuple[str, ...],
    logged: bool,
    has_message: bool,
    of_attempt: bool = False,
):
    """The statement of one shape of move, built once: building it costs more than running it (this is
    the hot path of every wave). With `logged` it is WITH moved AS (UPDATE ...), logged AS (INSERT ...
    FROM moved) SELECT * FROM moved — atomic even on an autocommit connection, one round trip."""
    changes = _moved_to(target) | {key: bindparam(f"v_{key}", type_=R.c[key].type) for key in keys}
    where = [R.c.id == bindparam("run_id"), guard(R.c.status, expected, target)]
    if of_attempt:
        where.append(R.c.attempt == bindparam("of_attempt"))
    now = func.clock_timestamp().label("now")
    if not logged:
        return update(R).where(*where).values(**changes).returning(*(R.c[name] for name in MOVED_COLUMNS), now)
    moved = update(R).where(*where).values(**changes).returning(*R.c, now)
    rows = moved.cte("moved")
    entry = func.jsonb_build_object("operationId", rows.c.operation_id, "error", rows.c.error).op("||")(
        bindparam("event_detail", type_=JSONB)
    )
    text = bindparam("message") if has_message else rows.c.arn.op("||")(bindparam("suffix"))
    timeline = events.append_from(rows, bindparam("kind"), bindparam("actor"), text, entry).cte("logged")
    return select(*(rows.c[name] for name in (*MOVED_COLUMNS, "now"))).add_cte(timeline)


def _moved_to(target: ResourceStatus) -> dict[str, Any]:
    """What every move to `target` writes besides its own values: a claim counts a start attempt, an end
    stamps the finish."""
    changes: dict[str, Any] = {"status": target.value, "heartbeat_at": func.clock_timestamp()}
    if target is ResourceStatus.STARTING:
        changes["started_at"] = func.coalesce(R.c.started_at, func.clock_timestamp())
        changes["start_attempts"] = R.c.start_attempts + 1
    if target in RESOURCE_TERMINAL:
        changes["finished_at"] = func.clock_timestamp()
    return changes


def _unrecorded_start(run_id: int, attempts: int) -> tuple:
    """The run's start claim ``attempts`` (its token), as long as no AWS operation id was recorded."""
    return (
        R.c.id == run_id,
        R.c.status == ResourceStatus.STARTING.value,
        R.c.start_attempts == attempts,
        R.c.operation_id.is_(None),
    )


def reclaim_stale_start(conn: Connection, run_id: int, attempts: int, stale_seconds: float) -> Row | None:
    """Take over a STARTING run whose owner died before recording its AWS operation (CAS on attempts)."""
    silent = or_(
        R.c.heartbeat_at.is_(None),  # given back by `release_start`
        R.c.heartbeat_at < func.clock_timestamp() - func.make_interval(0, 0, 0, 0, 0, 0, stale_seconds),
    )
    return conn.execute(
        update(R)
        .where(*_unrecorded_start(run_id, attempts), silent)
        .values(start_attempts=R.c.start_attempts + 1, heartbeat_at=func.clock_timestamp())
        .returning(*R.c)
    ).first()


def keep_start(conn: Connection, run_id: int, attempts: int) -> bool:
    """The claimant's heartbeat while a lone start is inside AWS (CAS on attempts); False once the start
    was recorded or re-claimed."""
    return bool(
        conn.execute(
            update(R).where(*_unrecorded_start(run_id, attempts)).values(heartbeat_at=func.clock_timestamp())
        ).rowcount
    )


def release_start(conn: Connection, run_id: int, attempts: int) -> bool:
    """A start that hit a retryable AWS error gives its claim back (CAS on attempts): the next delivery of
    the run's task re-claims it at once instead of waiting for the claim to go stale."""
    released = conn.execute(update(R).where(*_unrecorded_start(run_id, attempts)).values(heartbeat_at=None))
    return bool(released.rowcount)


def source_chain(execution_id: str, max_depth: int = 10) -> Any:
    """The chain of earlier executions an execution follows (``source_execution_id``, then its source, …):
    a recursive CTE of ``id`` and ``depth`` (1: the direct source)."""
    chain = (
        select(executions.c.source_execution_id.label("id"), literal_column("1").label("depth"))
        .where(executions.c.id == execution_id, executions.c.source_execution_id.is_not(None))
        .cte("chain", recursive=True)
    )
    return chain.union_all(
        select(executions.c.source_execution_id, chain.c.depth + 1)
        .select_from(executions.join(chain, executions.c.id == chain.c.id))
        .where(executions.c.source_execution_id.is_not(None), chain.c.depth < max_depth)
    )


def source_details(conn: Connection, execution_id: str, arns: Iterable[str], max_depth: int = 10) -> dict[str, dict]:
    """What earlier phases recorded about each ARN: the ``detail`` of its runs along the chain of source
    executions (``source_execution_id``), merged oldest first, so a cleanup finds the snapshot its
    instantiate took. ARNs with nothing recorded are absent."""
    wanted = list(arns)
    if not wanted:
        return {}
    chain = source_chain(execution_id, max_depth)
    rows = conn.execute(
        select(R.c.arn, R.c.detail)
        .select_from(R.join(chain, R.c.execution_id == chain.c.id))
        .where(R.c.arn.in_(wanted), R.c.detail.is_not(None))
        .order_by(chain.c.depth.desc())
    )
    merged: dict[str, dict] = {}
    for arn, detail in rows:
        merged.setdefault(arn, {}).update(detail or {})
    return merged


def heartbeat(conn: Connection, run_id: int, detail: dict[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"heartbeat_at": func.clock_timestamp()}
    if detail is not None:
        values["detail"] = detail
    conn.execute(update(R).where(R.c.id == run_id).values(**values))


def cancel_pending(conn: Connection, execution_id: str, wave_numbers: Iterable[int], reason: str) -> int:
    """PENDING runs of waves that will never run become CANCELLED (so every run ends terminal)."""
    numbers = list(wave_numbers)
    if not numbers:
        return 0
    return conn.execute(
        update(R)
        .where(
            R.c.execution_id == execution_id,
            R.c.wave_number.in_(numbers),
            guard(R.c.status, ResourceStatus.PENDING, ResourceStatus.CANCELLED),
        )
        .values(status=ResourceStatus.CANCELLED.value, error=reason, finished_at=func.clock_timestamp())
    ).rowcount


def _dispatched():
    """Runs of the stage their wave dispatched (every run of a wave without actions)."""
    return or_(wave_runs.c.stage.is_(None), R.c.stage == wave_runs.c.stage)


def cancel_later_stages(conn: Connection, execution_id: str, number: int, after: int, reason: str) -> int:
    """PENDING runs of a wave's stages after `after` become CANCELLED: the wave stopped before them."""
    return conn.execute(
        update(R)
        .where(
            R.c.execution_id == execution_id,
            R.c.wave_number == number,
            R.c.stage > after,
            guard(R.c.status, ResourceStatus.PENDING, ResourceStatus.CANCELLED),
        )
        .values(status=ResourceStatus.CANCELLED.value, error=reason, finished_at=func.clock_timestamp())
    ).rowcount


def new_attempts(conn: Connection, run_ids: list[int]) -> list[int]:
    """FAILED/TIMED_OUT runs go back to PENDING for their next attempt (compare-and-set on each run's
    status); the attempt that ended is appended to ``attempts``. Returns the ids that moved."""
    if not run_ids:
        return []
    ended = func.jsonb_build_object(
        "attempt", R.c.attempt,
        "status", R.c.status,
        "error", R.c.error,
        "operationId", R.c.operation_id,
        "startedAt", R.c.started_at,
        "finishedAt", R.c.finished_at,
    )  # fmt: skip
    failed = or_(*(guard(R.c.status, status, ResourceStatus.PENDING) for status in RESOURCE_FAILED))
    return list(
        conn.scalars(
            update(R)
            .where(R.c.id.in_(run_ids), failed)
            .values(
                status=ResourceStatus.PENDING.value,
                attempt=R.c.attempt + 1,
                attempts=R.c.attempts.op("||")(func.jsonb_build_array(ended)),
                operation_id=None,
                error=None,
                error_code=None,  # a data loss approval (data_loss_approved_by) stays with the run
                data_loss_asked_at=None,
                started_at=None,
                finished_at=None,
                heartbeat_at=None,
            )
            .returning(R.c.id)
        )
    )


def reopen_cancelled(conn: Connection, run_ids: list[int]) -> list[int]:
    """CANCELLED runs of a wave an abort skipped become PENDING again (they never started: still their
    first attempt). Returns the ids that moved."""
    if not run_ids:
        return []
    return list(
        conn.scalars(
            update(R)
            .where(R.c.id.in_(run_ids), guard(R.c.status, ResourceStatus.CANCELLED, ResourceStatus.PENDING))
            .values(status=ResourceStatus.PENDING.value, error=None, finished_at=None, heartbeat_at=None)
            .returning(R.c.id)
        )
    )


def by_arn(conn: Connection, execution_id: str, arn: str) -> Row | None:
    return conn.execute(select(R).where(R.c.execution_id == execution_id, R.c.arn == arn)).first()


def stale_in_running_waves(conn: Connection, stale_seconds: float, limit: int = 1000) -> list[Row]:
    """Unfinished runs of RUNNING waves with no sign of life for `stale_seconds`: their message was lost
    (runs of a later stage of their wave wait to be dispatched: not theirs)."""
    cutoff = func.clock_timestamp() - func.make_interval(0, 0, 0, 0, 0, 0, stale_seconds)
    return list(
        conn.execute(
            select(R.c.id, R.c.adapter, R.c.execution_id, R.c.wave_number, R.c.arn)
            .select_from(_with_wave().join(executions, executions.c.id == R.c.execution_id))
            .where(
                wave_runs.c.status == WaveStatus.RUNNING.value,
                executions.c.status.in_([ExecutionStatus.RUNNING.value, ExecutionStatus.CANCELLING.value]),
                R.c.status.not_in([s.value for s in RESOURCE_TERMINAL]),
                _dispatched(),
                or_(
                    R.c.heartbeat_at < cutoff,
                    and_(R.c.heartbeat_at.is_(None), wave_runs.c.started_at < cutoff),
                ),
            )
            .limit(limit)
        )
    )


def overdue_in_running_waves(conn: Connection, silent_seconds: float = 0, limit: int = 1000) -> list[Row]:
    """Unfinished runs past their timeout whose worker is gone: no sign of life for `silent_seconds` (a
    live worker times its run out itself, and stops what it can: ``Recovery._refuse_or_expire``). The
    timeout is a resource's wave timeout from the wave's start, an action's own from its claim
    (``Work.deadline``)."""
    action_seconds = cast(R.c.action["timeoutSeconds"].astext, Integer)
    deadline = case(
        (
            R.c.action.is_(None),
            wave_runs.c.started_at + func.make_interval(0, 0, 0, 0, 0, 0, wave_runs.c.timeout_seconds),
        ),
        else_=R.c.started_at + func.make_interval(0, 0, 0, 0, 0, 0, action_seconds),
    )
    now = literal_column("clock_timestamp()")
    silent = or_(
        R.c.heartbeat_at.is_(None), R.c.heartbeat_at < now - func.make_interval(0, 0, 0, 0, 0, 0, silent_seconds)
    )
    return list(
        conn.execute(
            select(R.c.id, R.c.status, R.c.execution_id, R.c.action.is_not(None).label("is_action"))
            .select_from(_with_wave())
            .where(
                wave_runs.c.status == WaveStatus.RUNNING.value,
                R.c.status.not_in([s.value for s in RESOURCE_TERMINAL]),
                deadline < now,
                silent,
            )
            .limit(limit)
        )
    )


def typical_duration(conn: Connection, adapter: str, phase: str, samples: int = 20) -> float | None:
    """How long the last `samples` successful runs of an adapter's phase took, in seconds: their lower
    quartile, so that tight polling starts before most of them ended; None before the first."""
    recent = (
        select(func.extract("epoch", R.c.finished_at - R.c.started_at).label("seconds"))
        .select_from(R.join(executions, executions.c.id == R.c.execution_id))
        .where(
            R.c.adapter == adapter,
            executions.c.phase == phase,
            R.c.status == ResourceStatus.SUCCEEDED.value,
            R.c.started_at.is_not(None),
        )
        .order_by(R.c.finished_at.desc())
        .limit(samples)
        .subquery()
    )
    value = conn.scalar(select(func.percentile_cont(0.25).within_group(recent.c.seconds)))
    return float(value) if value is not None else None


# --- data loss approvals (Aurora, issue 12: docs/architecture.md, "Graceful, then ungraceful") ----------


def awaiting_data_loss(asked: bool = False):
    """The runs that failed only for want of a data loss approval: not yet asked about (the scheduler's
    pause asks), or, with ``asked``, asked about and still waiting (what an approval decides)."""
    return and_(
        R.c.status == ResourceStatus.FAILED.value,
        R.c.error_code == DATA_LOSS_APPROVAL_REQUIRED,
        R.c.data_loss_asked_at.is_not(None) if asked else R.c.data_loss_asked_at.is_(None),
    )


def ask_data_loss(conn: Connection, execution_id: str, wave_number: int) -> int:
    """The pause asks about the wave's runs awaiting a data loss approval: they are asked once."""
    return conn.execute(
        update(R)
        .where(R.c.execution_id == execution_id, R.c.wave_number == wave_number, awaiting_data_loss())
        .values(data_loss_asked_at=func.clock_timestamp())
    ).rowcount


def asked_data_loss(conn: Connection, execution_id: str) -> list[Row]:
    """The runs an approval of the execution's data loss pause decides about, by wave and id."""
    return list(
        conn.execute(
            select(R)
            .where(R.c.execution_id == execution_id, awaiting_data_loss(asked=True))
            .order_by(R.c.wave_number, R.c.id)
        )
    )


def approve_data_loss(conn: Connection, run_ids: list[int], approver: str) -> int:
    """Data loss approved for these runs' clusters: their next attempt may fail over."""
    if not run_ids:
        return 0
    return conn.execute(
        update(R).where(R.c.id.in_(run_ids), awaiting_data_loss(asked=True)).values(data_loss_approved_by=approver)
    ).rowcount
