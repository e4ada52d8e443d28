"""Request and response models of the v1 API (camelCase on the wire). The OpenAPI document is
generated from these by flask-openapi3."""

from __future__ import annotations

import json
import re
from datetime import datetime
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from shared.aws.regions import is_region
from shared.domain.actions import CONTEXT_KEY, DEFAULT_TIMEOUT_SECONDS, MAX_ACTIONS, MAX_TIMEOUT_SECONDS, ActionType
from shared.domain.failover import DEFAULT_FAILOVER, Failover, drill_problem
from shared.domain.progress import (
    DEFAULT_WAVE_TIMEOUT_SECONDS,
    MAX_WAVE_TIMEOUT_SECONDS,
    Mode,
    OnFailure,
    Phase,
)
from shared.domain.retry import attempts_of
from shared.domain.tags import MAX_WAVE, MIN_WAVE

from .fields import ACCOUNT_ID, REGION, Region, extra_regions
from .schemas_drs import CheckOut, LaunchSettings, RtoForecast


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


class MessageOut(Out):
    message: str = Field(description="one line a chat bot can post as is")


# --- selections and protection groups ----------------------------------------------------------

MAX_TAGS = 50
# Names are compared and stored trimmed: " Tier-1 " is "Tier-1", and a blank name is refused.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tag filters as AWS allows them: at most 50, keys 1-128 characters not starting with ``aws:``,
    values up to 256 characters."""
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or key.strip() != key:
            raise ValueError(f"tag key {key[:130]!r} must be 1-128 characters without surrounding spaces")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag key {key!r}: keys starting with 'aws:' are reserved by AWS")
        if len(value) > 256:
            raise ValueError(f"the value of tag {key!r} is longer than 256 characters")
    return tags


class Selection(Model):
    """Which resources: by tags (discovered in the account + region when resolved) or explicit ARNs."""

    tags: dict[str, str] | None = Field(
        default=None, examples=[{"Customer": "ABCD", "Environment": "Production"}], description="exact tag matches"
    )
    resource_arns: list[str] | None = Field(default=None, min_length=1, max_length=10_000)

    @field_validator("tags")
    @classmethod
    def _tags_are_aws_tags(cls, tags: dict[str, str] | None) -> dict[str, str] | None:
        return None if tags is None else check_tags(tags)

    @field_validator("resource_arns")
    @classmethod
    def _arns_look_like_arns(cls, arns: list[str] | None) -> list[str] | None:
        for index, arn in enumerate(arns or []):
            if not arn.startswith("arn:") or len(arn) > 2048:
                raise ValueError(f"item {index} ({arn[:80]!r}) is not an ARN")
        if arns is not None and len(set(arns)) != len(arns):
            raise ValueError("contains the same ARN twice")
        return arns

    @model_validator(mode="after")
    def _tags_or_arns(self) -> Selection:
        if self.tags is not None and self.resource_arns is not None:
            raise ValueError("give either tags or resourceArns, not both")
        if self.tags is None and self.resource_arns is None:
            raise ValueError("give tags or resourceArns")
        return self

    def stored(self) -> dict[str, Any]:
        """The JSON stored on the group: ``{"tags": {...}}`` or ``{"resourceArns": [...]}``."""
        return self.model_dump(by_alias=True, exclude_none=True)


LastRead = Annotated[int, Field(ge=1)]
"""The ``version`` of an update: the one last read (optimistic locking)."""


class GroupCreate(Model):
    name: Name
    region: Region = Field(examples=["us-east-1"])
    account_id: str | None = Field(default=None, pattern=ACCOUNT_ID, description="default: drwave's own account")
    selection: Selection
    launch_settings: LaunchSettings | None = Field(default=None, description="DRS launch settings of its servers")


class GroupUpdate(GroupCreate):
    """The whole group as it should be; ``region`` cannot change, ``version`` is the one last read."""

    version: LastRead


class VersionQuery(Model):
    version: int = Field(ge=1, description="the version last read (optimistic locking)")


class GroupOut(Out):
    id: str
    name: str
    region: str
    account_id: str | None
    selection: dict[str, Any]
    launch_settings: dict[str, Any] | None = None
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime | None = None


class GroupList(Out):
    items: list[GroupOut]


class PreviewRequest(Model):
    region: Region = Field(examples=["us-west-2"])
    account_id: str | None = Field(default=None, pattern=ACCOUNT_ID)
    selection: Selection


class TagErrorOut(Out):
    tag: str
    value: str | None
    code: str = Field(examples=["INVALID_PRIORITY"])
    message: str


class ResourceOut(Out):
    """One resolved resource: what its tags mean for DR."""

    arn: str
    region: str | None = None
    status: Literal["valid", "invalid", "not-enrolled"]
    enrolled: bool
    wave: int | None = Field(description="derived from dr:wave / dr:priority (null for explicit ARNs)")
    priority: str | None
    adapter: str | None
    rto_target_minutes: int | None
    tags: dict[str, str]
    errors: list[TagErrorOut]


class DerivedWaveOut(Out):
    number: int
    name: str
    resource_count: int
    rto_target_minutes: int


class SelectionCounts(Out):
    total: int
    valid: int
    invalid: int
    not_enrolled: int


class PreviewOut(Out):
    message: str
    account_id: str | None
    region: str
    selection: dict[str, Any]
    counts: SelectionCounts
    waves: list[DerivedWaveOut] = Field(description="the valid resources grouped by their derived wave")
    resources: list[ResourceOut]


class ResourceQuery(Model):
    region: Region = Field(description="e.g. us-west-2")
    account_id: str | None = Field(default=None, pattern=ACCOUNT_ID)
    tag: list[str] = Field(default_factory=list, max_length=MAX_TAGS, description="K=V, repeatable")

    @field_validator("tag")
    @classmethod
    def _key_equals_value(cls, pairs: list[str]) -> list[str]:
        tags: dict[str, str] = {}
        for index, pair in enumerate(pairs):
            key, equals, value = pair.partition("=")
            if not equals or not key:
                raise ValueError(f"item {index} ({pair[:80]!r}) is not KEY=VALUE")
            if tags.get(key, value) != value:
                raise ValueError(f"tag {key!r} is given twice with different values")
            tags[key] = value
        check_tags(tags)
        return pairs

    def tags(self) -> dict[str, str]:
        return dict(pair.partition("=")[::2] for pair in self.tag)


class ResourceList(Out):
    message: str
    counts: SelectionCounts
    items: list[ResourceOut]


# --- recovery plans --------------------------------------------------------------------------


LAMBDA_FUNCTION_ARN = r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$"
SSM_DOCUMENT = r"^([A-Za-z0-9_.-]{3,128}|arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:document/[A-Za-z0-9_.-]{3,128})$"
MAX_PAYLOAD_BYTES = 64 * 1024


class LambdaAction(Model):
    """Invoke a function (RequestResponse) and wait for its answer; a ``FunctionError`` fails the action."""

    type: Literal[ActionType.LAMBDA]
    function_arn: str = Field(pattern=LAMBDA_FUNCTION_ARN, max_length=2048)
    payload: dict[str, Any] = Field(default_factory=dict, description=f"the event, with `{CONTEXT_KEY}` added")
    timeout_seconds: int = Field(
        default=DEFAULT_TIMEOUT_SECONDS[ActionType.LAMBDA], ge=1, le=MAX_TIMEOUT_SECONDS[ActionType.LAMBDA]
    )

    @field_validator("payload")
    @classmethod
    def _payload(cls, payload: dict[str, Any]) -> dict[str, Any]:
        if CONTEXT_KEY in payload:
            raise ValueError(f"the key {CONTEXT_KEY!r} is drwave's (the execution it runs in)")
        if len(json.dumps(payload)) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"is larger than {MAX_PAYLOAD_BYTES // 1024} KB as JSON")
        return payload


class SsmAutomationAction(Model):
    """Start an SSM Automation and poll it to Success (Failed, TimedOut, Cancelled fail the action)."""

    type: Literal[ActionType.SSM_AUTOMATION]
    document_name: str = Field(pattern=SSM_DOCUMENT, max_length=2048, description="a name or a document ARN")
    parameters: dict[str, list[str]] = Field(
        default_factory=dict, description=f"string lists; `{CONTEXT_KEY}` is added when the document declares it"
    )
    timeout_seconds: int = Field(
        default=DEFAULT_TIMEOUT_SECONDS[ActionType.SSM_AUTOMATION],
        ge=1,
        le=MAX_TIMEOUT_SECONDS[ActionType.SSM_AUTOMATION],
    )
    region: Region | None = Field(default=None, description="default: the wave's first protection group's")
    account_id: str | None = Field(default=None, pattern=ACCOUNT_ID, description="default: as the region")

    @field_validator("parameters", mode="before")
    @classmethod
    def _string_lists(cls, parameters: Any) -> Any:
        """A single string is a list of one, as SSM's console takes it."""
        if isinstance(parameters, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in parameters.items()}
        return parameters

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, parameters: dict[str, list[str]]) -> dict[str, list[str]]:
        if CONTEXT_KEY in parameters:
            raise ValueError(f"the parameter {CONTEXT_KEY!r} is drwave's (the execution it runs in)")
        if len(parameters) > 50:
            raise ValueError("at most 50 parameters")
        return parameters


WaveAction = Annotated[LambdaAction | SsmAutomationAction, Field(discriminator="type")]


class WaveSpec(Model):
    name: Name
    protection_group_ids: list[str] = Field(default_factory=list, max_length=100)
    pause_before_wave: bool = False
    on_failure: OnFailure = OnFailure.CONTINUE
    timeout_seconds: int = Field(default=DEFAULT_WAVE_TIMEOUT_SECONDS, ge=1, le=MAX_WAVE_TIMEOUT_SECONDS)
    pre_actions: list[WaveAction] = Field(
        default_factory=list, max_length=MAX_ACTIONS, description="run in order before the wave's resources start"
    )
    post_actions: list[WaveAction] = Field(
        default_factory=list, max_length=MAX_ACTIONS, description="run in order after its resources are terminal"
    )


class AutoWaveActions(Model):
    """The pre- and post-actions of one derived wave of an auto-waved plan (run when that wave has resources)."""

    wave: int = Field(ge=MIN_WAVE, le=MAX_WAVE, description=f"the wave number ({MIN_WAVE}-{MAX_WAVE})")
    pre_actions: list[WaveAction] = Field(default_factory=list, max_length=MAX_ACTIONS)
    post_actions: list[WaveAction] = Field(default_factory=list, max_length=MAX_ACTIONS)


class AutoWaves(Model):
    """Resources selected by tags, grouped into waves by ``dr:wave`` / ``dr:priority`` at execution time."""

    account_id: str | None = Field(default=None, pattern=ACCOUNT_ID, description="default: drwave's own account")
    region: Region = Field(examples=["us-west-2"])
    tags: dict[str, str] = Field(examples=[{"Customer": "ABCD", "Environment": "Production"}])
    pause_before_waves: list[int] = Field(
        default_factory=list, max_length=MAX_WAVE, description=f"wave numbers ({MIN_WAVE}-{MAX_WAVE})"
    )
    on_failure: OnFailure = OnFailure.CONTINUE
    timeout_seconds: int = Field(
        default=DEFAULT_WAVE_TIMEOUT_SECONDS, ge=1, le=MAX_WAVE_TIMEOUT_SECONDS, description="per wave"
    )
    wave_actions: list[AutoWaveActions] = Field(default_factory=list, max_length=MAX_WAVE)

    @field_validator("wave_actions")
    @classmethod
    def _one_entry_per_wave(cls, entries: list[AutoWaveActions]) -> list[AutoWaveActions]:
        numbers = [entry.wave for entry in entries]
        if len(set(numbers)) != len(numbers):
            raise ValueError("names the same wave twice")
        return entries

    @field_validator("tags")
    @classmethod
    def _tags_are_aws_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        return check_tags(tags)

    @field_validator("pause_before_waves")
    @classmethod
    def _wave_numbers(cls, numbers: list[int]) -> list[int]:
        for number in numbers:
            if not MIN_WAVE <= number <= MAX_WAVE:
                raise ValueError(f"{number} is not a wave number ({MIN_WAVE}-{MAX_WAVE})")
        return sorted(set(numbers))


class ApprovalPolicyIn(Model):
    """Who must approve a gate (pauseBeforeWave, onFailure: pause) before the next wave starts."""

    required: int = Field(default=1, ge=1, le=10, description="approvals per gate in drill mode")
    recovery_required: int = Field(default=1, ge=1, le=10, description="approvals per gate in recovery mode")
    distinct_approvers: bool = Field(default=True, description="each approval from a different principal")
    starter_may_approve: bool = Field(default=True, description="the principal who started it may approve")
    timeout_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600, description="null: never expires")
    on_timeout: Literal["abort", "stay-paused"] = "stay-paused"


class PlanCreate(Model):
    name: Name
    description: str | None = Field(default=None, max_length=2000)
    waves: list[WaveSpec] | None = Field(default=None, min_length=1, max_length=50)
    auto_waves: AutoWaves | None = None
    approvals: ApprovalPolicyIn | None = None

    @field_validator("auto_waves")
    @classmethod
    def _not_both(cls, auto_waves: AutoWaves | None, info: ValidationInfo) -> AutoWaves | None:
        if auto_waves is not None and info.data.get("waves") is not None:
            raise ValueError("give either waves or autoWaves, not both")
        return auto_waves

    @model_validator(mode="after")
    def _waves_or_auto_waves(self) -> PlanCreate:
        if self.waves is None and self.auto_waves is None:
            raise ValueError("a plan needs waves or autoWaves")
        return self


class PlanUpdate(PlanCreate):
    """The whole plan as it should be; ``version`` is the one last read."""

    version: LastRead


class WaveOut(Out):
    number: int
    name: str
    protection_group_ids: list[str]
    pause_before_wave: bool
    on_failure: OnFailure
    timeout_seconds: int
    pre_actions: list[dict[str, Any]] = Field(default_factory=list)
    post_actions: list[dict[str, Any]] = Field(default_factory=list)


class AutoWavesOut(Out):
    account_id: str | None = None
    region: str
    tags: dict[str, str]
    pause_before_waves: list[int] = Field(default_factory=list)
    on_failure: OnFailure = OnFailure.CONTINUE
    timeout_seconds: int = DEFAULT_WAVE_TIMEOUT_SECONDS
    wave_actions: list[dict[str, Any]] = Field(default_factory=list)


class PlanOut(Out):
    id: str
    name: str
    description: str | None
    waves: list[WaveOut]
    auto_waves: AutoWavesOut | None = None
    approvals: dict[str, Any] | None = None
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime | None = None


class PlanList(Out):
    items: list[PlanOut]


class Finding(Out):
    """One error or warning of a plan validation."""

    code: str = Field(examples=["WAVE_EXCEEDS_DRS_JOB_QUOTA"])
    message: str
    arn: str | None = None
    wave: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ValidatedWaveOut(Out):
    number: int
    name: str
    pause_before_wave: bool
    on_failure: str
    timeout_seconds: int
    rto_target_minutes: int
    adapters: dict[str, int] = Field(description="resource count per adapter")
    resources: list[ResourceOut]


class PlanValidation(Out):
    message: str
    plan_id: str
    plan_version: int
    ready: bool = Field(description="a start now would be accepted (without skipInvalid)")
    rto_estimate_minutes: int
    waves: list[ValidatedWaveOut]
    invalid_resources: list[ResourceOut]
    errors: list[Finding]
    warnings: list[Finding]
    checks: list[CheckOut] = Field(default_factory=list, description="preflight checks of what AWS reports now")
    rto_forecast: RtoForecast | None = None


# --- target accounts -----------------------------------------------------------------------------

ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
EXTERNAL_ID = r"^[\w+=,.@:/-]+$"


class TargetAccountFields(Model):
    name: Name | None = None
    role_arn: str = Field(
        pattern=ROLE_ARN, max_length=2048, examples=["arn:aws:iam::111122223333:role/drwave-recovery"]
    )
    external_id: str | None = Field(default=None, pattern=EXTERNAL_ID, min_length=2, max_length=1224)
    regions: list[str] = Field(min_length=1, max_length=30, examples=[["us-east-1", "us-west-2"]])

    @field_validator("regions")
    @classmethod
    def _regions(cls, regions: list[str]) -> list[str]:
        for index, region in enumerate(regions):
            if re.match(REGION, region) is None or not is_region(region, extra_regions()):
                raise ValueError(f"item {index} ({region[:40]!r}) is not an AWS Region (such as us-east-1)")
        if len(set(regions)) != len(regions):
            raise ValueError("contains the same region twice")
        return regions


class TargetAccountCreate(TargetAccountFields):
    account_id: str = Field(pattern=ACCOUNT_ID, examples=["111122223333"])


class TargetAccountUpdate(TargetAccountFields):
    version: LastRead


class AccountPath(BaseModel):
    id: str = Field(max_length=64, description="the 12-digit account id")


class TargetAccountOut(Out):
    account_id: str
    name: str | None
    role_arn: str
    external_id: str | None
    regions: list[str]
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class TargetAccountList(Out):
    items: list[TargetAccountOut]


class RegionReport(Out):
    region: str
    ok: bool
    counts: SelectionCounts | None = None
    adapters: dict[str, int] = Field(default_factory=dict, description="valid resources per adapter")
    error: str | None = None


class TargetAccountValidation(Out):
    message: str
    account_id: str
    ok: bool
    identity: str | None = Field(description="the ARN drwave acts as in the account")
    error: str | None = None
    regions: list[RegionReport]


# --- executions --------------------------------------------------------------------------------


class ExecutionStart(Model):
    plan_id: str = Field(min_length=1, max_length=64)
    mode: Mode = Mode.DRILL
    phase: Phase = Phase.INSTANTIATE
    source_execution_id: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)
    skip_invalid: bool = False
    force: bool = Field(default=False, description="start despite failed preflight checks (recovery-manager, admin)")
    failover: Failover = Field(
        default=DEFAULT_FAILOVER,
        description="recovery: how Aurora global databases move their writer — graceful (switchover), ungraceful "
        "(failover, data loss allowed), auto (switchover; around an unreachable primary only with allowDataLoss "
        "or its approval). A drill always switches over: 'ungraceful' is refused there",
    )
    allow_data_loss: StrictBool = Field(
        default=False,
        description="recovery with failover 'auto': fail over (losing unreplicated writes) when the primary Region "
        "is unreachable, instead of pausing for a data loss approval. Refused in a drill",
    )

    @field_validator("failover", "allow_data_loss")
    @classmethod
    def _no_data_loss_in_a_drill(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("mode") is Mode.DRILL:
            asked = (value, False) if info.field_name == "failover" else (DEFAULT_FAILOVER, value)
            problem = drill_problem(*asked)
            if problem is not None:
                raise ValueError(problem[1])
        return value


class ExecutionQuery(Model):
    status: str | None = Field(default=None, max_length=40)
    plan_id: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200)


class ExecutionDetailQuery(Model):
    resources_limit: int | None = Field(
        default=None, ge=1, le=5000, description="at most this many resource runs (all when absent)"
    )
    resources_cursor: str | None = Field(
        default=None, max_length=200, description="`nextResourcesCursor` of the previous page"
    )


class RetryRequest(Model):
    resources: list[Annotated[str, StringConstraints(min_length=1, max_length=2048)]] | None = Field(
        default=None,
        min_length=1,
        max_length=10000,
        description="ARNs of FAILED or TIMED_OUT resource runs to retry (all of them when absent)",
    )
    comment: str | None = Field(default=None, max_length=2000, description="why; recorded on the timeline")

    @model_validator(mode="before")
    @classmethod
    def _optional_body(cls, data: Any) -> Any:
        """The body is optional: a POST without one retries every failed resource."""
        return {} if data is None else data


class SkipRequest(Model):
    arn: str = Field(min_length=1, max_length=2048, description="a FAILED or TIMED_OUT resource run's ARN")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        description="why it is accepted; recorded on the timeline"
    )


class EventQuery(Model):
    after: int = Field(default=0, ge=0)
    limit: int = Field(default=500, ge=1, le=5000)


class AttemptOut(Out):
    attempt: int
    status: str
    error: str | None = None
    operation_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ResourceRunOut(Out):
    id: int | None = Field(default=None, description="the resource run id (…/resources/{id}/log)")
    arn: str = Field(description="a resource's ARN; an action's name in the execution (action:wave1:pre1:…)")
    adapter: str
    status: str
    operation_id: str | None = None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    error_code: str | None = Field(default=None, description="a failure drwave acts on: DATA_LOSS_APPROVAL_REQUIRED")
    data_loss_approved_by: str | None = Field(
        default=None, description="who approved data loss for this cluster at a data loss pause (Aurora)"
    )
    detail: dict[str, Any] | None = None
    latest_job_log: dict[str, Any] | None = Field(default=None, description="DRS: the latest job log item")
    attempt: int = Field(default=1, description="the current attempt (a retry adds one)")
    attempts: list[AttemptOut] = Field(default_factory=list, description="every attempt, oldest first")
    skip_reason: str | None = Field(default=None, description="SKIPPED: why an operator accepted it")
    kind: Literal["resource", "action"] = "resource"
    stage: int = Field(default=0, description="pre-actions < 0, the wave's resources 0, post-actions > 0")
    phase: Literal["pre", "post"] | None = Field(default=None, description="an action's: before or after the wave")
    type: str | None = Field(default=None, description="an action's: lambda | ssm-automation")
    action: dict[str, Any] | None = Field(default=None, description="an action's spec, as the plan gave it")
    output: str | None = Field(default=None, description="an action's answer (at most 4 KB)")

    @model_validator(mode="before")
    @classmethod
    def _with_attempts(cls, data: Any) -> Any:
        """A stored run lists its earlier attempts; the API shows those and the current one."""
        mapping = data if isinstance(data, dict) else getattr(data, "_mapping", None)
        if mapping is None or "status" not in mapping:
            return data
        return {**mapping, "attempts": attempts_of(SimpleNamespace(**mapping))}

    @model_validator(mode="before")
    @classmethod
    def _an_action(cls, run: Any) -> Any:
        """An action run says so, with its phase (pre/post), type and output."""
        values = dict(run) if isinstance(run, dict) else dict(getattr(run, "_mapping", {}))
        action = values.get("action")
        if not action:
            return run
        output = (values.get("detail") or {}).get("output")
        return values | {"kind": "action", "phase": action.get("when"), "type": action.get("type"), "output": output}


class WaveRunOut(Out):
    number: int
    name: str
    status: str
    status_reason: str | None = None
    pause_before_wave: bool
    on_failure: str
    timeout_seconds: int | None = Field(default=None, description="the wave's time limit")
    rto_target_minutes: int | None = Field(default=None, description="the wave's RTO target, when its plan sets one")
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
    failover: str = Field(description="how Aurora global databases move their writer (a drill: graceful)")
    allow_data_loss: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ExecutionOut(ExecutionSummary):
    counts: dict[str, int]
    waves: list[WaveRunOut]
    next_resources_cursor: str | None = Field(
        default=None, description="with resourcesLimit: pass back as resourcesCursor for the next resource runs"
    )


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


class SupervisedProcess(Out):
    name: str = Field(examples=["scheduler"])
    state: str = Field(examples=["running"], description="running, restarting, failed, exited, gone or stopped")
    pid: int | None = None
    restarts: int = 0
    last_exit: str | None = Field(default=None, examples=["signal 9"])
    since: str | None = None


class Health(Out):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
    processes: list[SupervisedProcess] | None = Field(
        default=None, description="the processes `drwave run` supervises (null when it does not run this API)"
    )
