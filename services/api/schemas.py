"""Request and response models of the v1 API (camelCase on the wire). The OpenAPI document is
generated from these by flask-openapi3."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from shared.domain.progress import Mode, OnFailure, Phase


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class ErrorBody(Out):
    code: str = Field(examples=["EXECUTION_NOT_PAUSED"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(Out):
    error: ErrorBody


class IdPath(BaseModel):
    id: str = Field(max_length=64)


# --- protection groups -----------------------------------------------------------------------


class Selection(Model):
    resource_arns: list[str] = Field(min_length=1, max_length=10_000)

    @field_validator("resource_arns")
    @classmethod
    def _arns_look_like_arns(cls, arns: list[str]) -> list[str]:
        for index, arn in enumerate(arns):
            if not arn.startswith("arn:") or len(arn) > 2048:
                raise ValueError(f"item {index} ({arn[:80]!r}) is not an ARN")
        if len(set(arns)) != len(arns):
            raise ValueError("contains the same ARN twice")
        return arns


class GroupCreate(Model):
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", examples=["us-east-1"])
    account_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    selection: Selection


class GroupOut(Out):
    id: str
    name: str
    region: str
    account_id: str | None
    selection: dict[str, Any]
    version: int
    created_by: str
    created_at: datetime


class GroupList(Out):
    items: list[GroupOut]


# --- recovery plans --------------------------------------------------------------------------


class WaveSpec(Model):
    name: str = Field(min_length=1, max_length=200)
    protection_group_ids: list[str] = Field(default_factory=list, max_length=100)
    pause_before_wave: bool = False
    on_failure: OnFailure = OnFailure.CONTINUE
    timeout_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)


class PlanCreate(Model):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    waves: list[WaveSpec] = Field(min_length=1, max_length=50)


class WaveOut(Out):
    number: int
    name: str
    protection_group_ids: list[str]
    pause_before_wave: bool
    on_failure: OnFailure
    timeout_seconds: int


class PlanOut(Out):
    id: str
    name: str
    description: str | None
    waves: list[WaveOut]
    version: int
    created_by: str
    created_at: datetime


class PlanList(Out):
    items: list[PlanOut]


# --- executions --------------------------------------------------------------------------------


class ExecutionStart(Model):
    plan_id: str = Field(min_length=1, max_length=64)
    mode: Mode = Mode.DRILL
    phase: Phase = Phase.INSTANTIATE
    source_execution_id: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)
    skip_invalid: bool = False


class ExecutionQuery(Model):
    status: str | None = Field(default=None, max_length=40)
    plan_id: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200)


class EventQuery(Model):
    after: int = Field(default=0, ge=0)
    limit: int = Field(default=500, ge=1, le=5000)


class ResourceRunOut(Out):
    arn: str
    adapter: str
    status: str
    operation_id: str | None = None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    detail: dict[str, Any] | None = None


class WaveRunOut(Out):
    number: int
    name: str
    status: str
    status_reason: str | None = None
    pause_before_wave: bool
    on_failure: str
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int]
    resources: list[ResourceRunOut]


class ExecutionSummary(Out):
    id: str
    plan_id: str
    plan_name: str
    mode: str
    phase: str
    status: str
    status_reason: str | None = None
    current_wave: int | None
    paused_before_wave: int | None
    pause_requested: bool
    source_execution_id: str | None = None
    reason: str | None = None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ExecutionOut(ExecutionSummary):
    counts: dict[str, int]
    waves: list[WaveRunOut]


class ExecutionPage(Out):
    items: list[ExecutionSummary]
    next_cursor: str | None


class ActionResponse(Out):
    message: str = Field(description="one line a chat bot can post as is")
    execution: ExecutionSummary


class EventOut(Out):
    id: int
    at: datetime
    kind: str
    actor: str
    wave_number: int | None
    resource_arn: str | None
    message: str
    detail: dict[str, Any] | None


class EventList(Out):
    items: list[EventOut]


# --- identity ------------------------------------------------------------------------------------


class MeOut(Out):
    name: str
    role: str
    permissions: list[str]


class Health(Out):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
