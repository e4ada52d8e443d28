"""Request and response models of the on-call loop: subscriptions, deliveries, approvals, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator

from shared.domain.notifications import ALL, SUBSCRIBABLE

from .schemas import ExecutionSummary, Model, Out

Kind = Literal["webhook", "slack", "sns", "eventbridge"]


class SubscriptionFields(Model):
    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    target: str = Field(
        min_length=1,
        max_length=2048,
        description="webhook/slack: an https URL; sns: a topic ARN; eventbridge: a bus name or ARN",
        examples=["https://hooks.example.com/drwave"],
    )
    events: list[str] = Field(min_length=1, max_length=20, examples=[["execution.paused", "execution.finished"]])
    plan_ids: list[str] | None = Field(default=None, max_length=100, description="only these plans (default: all)")

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        known = {e.value for e in SUBSCRIBABLE}
        for index, name in enumerate(events):
            if name != ALL and name not in known:
                raise ValueError(
                    f"item {index} ({name[:60]!r}) is not an event type; use '*' or one of {sorted(known)}"
                )
        return sorted(set(events))


class SubscriptionOut(Out):
    id: str
    name: str
    kind: str
    target: str
    events: list[str]
    plan_ids: list[str] | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str | None = Field(description="webhook signing secret (whsec_...): shown only in this answer")
    message: str


class SubscriptionList(Out):
    items: list[SubscriptionOut]


class DeliveryOut(Out):
    id: int
    event_id: str
    event_type: str
    execution_id: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryQuery(Model):
    before: int | None = Field(default=None, ge=1, description="a delivery id: older deliveries only")
    limit: int = Field(default=100, ge=1, le=1000)


class DeliveryList(Out):
    items: list[DeliveryOut]


class TestDeliveryOut(Out):
    message: str
    delivery: DeliveryOut


class GrantOut(Out):
    by: str
    role: str
    comment: str | None
    at: datetime


class ApprovalOut(Out):
    wave: int
    status: Literal["pending", "granted", "expired", "superseded"]  # superseded: a retry left its pause
    required: int
    reason: str | None
    grants: list[GrantOut]
    opened_at: datetime
    expires_at: datetime | None


class ApprovalList(Out):
    items: list[ApprovalOut]


class ApproveRequest(Model):
    comment: str | None = Field(default=None, max_length=2000, examples=["DB replica lag checked: 0 s"])
    allow_data_loss: StrictBool = Field(
        default=False,
        description="at a data loss pause (an Aurora primary Region unreachable): the waiting clusters fail over, "
        "losing unreplicated writes; without it they stay FAILED and the execution goes on",
    )


class ControlRequest(Model):
    """Optional (pause, cancel): no body is the action without a comment."""

    comment: str | None = Field(
        default=None, max_length=2000, description="recorded on the timeline event with who asked"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_body_is_a_plain_action(cls, value: Any) -> Any:
        return {} if value is None else value


class ResumeRequest(ControlRequest):
    """Optional: a resume without a body is a plain resume."""

    comment: str | None = Field(default=None, max_length=2000, description="recorded with the approval at a gate")
    allow_data_loss: StrictBool = Field(
        default=False, description="as for approve: at a data loss pause, the waiting clusters fail over"
    )


class ApproveResponse(Out):
    message: str
    execution: ExecutionSummary
    approval: ApprovalOut | None = Field(description="the gate's approval request (null for a requested pause)")


class ReportQuery(BaseModel):
    format: Literal["json", "html", "svg"] = "json"


class ReportOut(BaseModel):
    """The report document (see README "Reports")."""

    model_config = {"extra": "allow"}
    execution: str
    plan: dict[str, Any]
    status: str
    waves: list[dict[str, Any]]
