"""Tag rules: which resources are enrolled in DR, in which wave, with which adapter.

Pure module (docs/architecture.md, "Tags"): no boto3, Flask, Celery or SQLAlchemy. ``evaluate(arn, tags)`` turns one
resource's tags into a :class:`TagEvaluation`; it never raises, whatever strings it is given, so
preview/validate can list every problem per resource instead of crashing.

Rules
-----
``dr:enabled``
    ``true`` enrols the resource, ``false`` (or a missing tag) does not. Any other value is an
    ``INVALID_ENABLED`` error.
``dr:priority``
    ``critical|high|medium|low``, required when enrolled (``MISSING_PRIORITY`` /
    ``INVALID_PRIORITY``). Gives the wave (critical 1, high 2, medium 3, low 4) and the RTO target
    in minutes (15, 30, 60, 240).
``dr:wave``
    ``1..5``, optional; an explicit wave wins over the priority's wave. The RTO target still comes
    from the priority. Non-integers and values out of range are ``INVALID_WAVE``.
``dr:recovery-strategy``
    ``drs|aurora|ecs|lambda|route53`` names the adapter. When absent the adapter follows the ARN's
    service (see :func:`adapter_for_arn`). Any other value (``eks-dns``, ``sql-ag``,
    ``managed-service``, typos, ``simulated``) is ``UNSUPPORTED_STRATEGY``. A strategy that
    contradicts an ARN drwave recognises (``lambda`` on an Aurora cluster ARN) is
    ``STRATEGY_MISMATCH``; on an ARN whose service drwave does not recognise, the tag decides. No
    strategy tag and an unrecognised ARN is ``UNKNOWN_SERVICE``.
``Customer`` / ``Environment``
    Scoping tags, read with :func:`customer_of`, :func:`environment_of`, :func:`in_scope`.

Decisions
---------
* **Keys are exact.** Tag keys are matched case-sensitively, as AWS stores them and as the Tagging
  API's ``TagFilters`` match them: ``DR:Enabled`` is not ``dr:enabled``.
* **Values are forgiving.** The values of the ``dr:`` tags are stripped of surrounding whitespace
  and compared case-insensitively: ``True``, `` high ``, ``DRS`` are accepted. ``dr:wave`` must then
  be ASCII digits (``01`` is wave 1; ``1.0``, ``+1``, ``٣`` are errors). An empty or blank value is
  treated as an invalid value, not as a missing tag. Discovery should therefore filter on the key
  ``dr:enabled`` alone (or on all spellings) and let ``evaluate`` decide.
* **``dr:enabled=false`` (or missing) means "not enrolled, nothing to report"**: the other tags are
  not looked at, ``errors`` is empty and the derived fields are ``None`` — a resource that opted out
  must not block a plan because of a stale priority tag.
* **An invalid ``dr:enabled`` is not enrolled but is reported.** Someone meant to enrol it, so the
  other ``dr:`` tags are checked too (all problems listed in one pass) and the derived fields are
  filled where they can be; ``valid`` is still ``False``.
* ``simulated`` is an adapter (benchmarks, orchestration tests) reachable only through
  ``arn:drwave:simulated:…`` ARNs, never through the strategy tag, so a real resource cannot be
  "recovered" by the do-nothing adapter by mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TAG_ENABLED = "dr:enabled"
TAG_PRIORITY = "dr:priority"
TAG_WAVE = "dr:wave"
TAG_STRATEGY = "dr:recovery-strategy"
TAG_CUSTOMER = "Customer"
TAG_ENVIRONMENT = "Environment"

MIN_WAVE = 1
MAX_WAVE = 5

PRIORITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
"""Priorities, most urgent first."""
PRIORITY_WAVE: Mapping[str, int] = {"critical": 1, "high": 2, "medium": 3, "low": 4}
PRIORITY_RTO_MINUTES: Mapping[str, int] = {"critical": 15, "high": 30, "medium": 60, "low": 240}

STRATEGY_VALUES: frozenset[str] = frozenset({"drs", "aurora", "ecs", "lambda", "route53"})
"""Values accepted in ``dr:recovery-strategy``."""
SUPPORTED_ADAPTERS: frozenset[str] = STRATEGY_VALUES | {"simulated"}

# Error codes.
INVALID_ENABLED = "INVALID_ENABLED"
MISSING_PRIORITY = "MISSING_PRIORITY"
INVALID_PRIORITY = "INVALID_PRIORITY"
INVALID_WAVE = "INVALID_WAVE"
UNSUPPORTED_STRATEGY = "UNSUPPORTED_STRATEGY"
STRATEGY_MISMATCH = "STRATEGY_MISMATCH"
UNKNOWN_SERVICE = "UNKNOWN_SERVICE"

_MAX_SHOWN_VALUE = 80


@dataclass(frozen=True)
class TagError:
    """One problem with one tag of one resource; ``message`` is a sentence a chat bot can post."""

    arn: str
    tag: str
    value: str | None
    code: str
    message: str


@dataclass(frozen=True)
class TagEvaluation:
    """What the tags of one resource mean for DR."""

    arn: str
    enrolled: bool
    wave: int | None
    priority: str | None
    rto_minutes: int | None
    adapter: str | None
    errors: tuple[TagError, ...] = ()

    @property
    def valid(self) -> bool:
        """Enrolled and without errors: the only resources an execution recovers."""
        return self.enrolled and not self.errors


def evaluate(arn: str, tags: Mapping[str, str] | None) -> TagEvaluation:
    """Apply the tag rules to one resource. Never raises."""
    arn = arn if isinstance(arn, str) else str(arn)
    tags = tags if isinstance(tags, Mapping) else {}

    enabled_raw = _get(tags, TAG_ENABLED)
    if enabled_raw is None:
        return _not_enrolled(arn)
    enabled = _norm(enabled_raw)
    if enabled == "false":
        return _not_enrolled(arn)

    errors: list[TagError] = []
    if enabled != "true":
        errors.append(_error(arn, TAG_ENABLED, enabled_raw, INVALID_ENABLED, "; expected 'true' or 'false'"))

    priority, priority_errors = _priority(arn, tags)
    errors.extend(priority_errors)
    explicit_wave, wave_errors = _wave(arn, tags)
    errors.extend(wave_errors)
    adapter, adapter_errors = _adapter(arn, tags)
    errors.extend(adapter_errors)

    if explicit_wave is not None:
        wave = explicit_wave
    elif wave_errors:  # a broken dr:wave must not silently fall back to the priority's wave
        wave = None
    else:
        wave = PRIORITY_WAVE.get(priority or "")
    return TagEvaluation(
        arn=arn,
        enrolled=enabled == "true",
        wave=wave,
        priority=priority,
        rto_minutes=PRIORITY_RTO_MINUTES.get(priority or ""),
        adapter=adapter,
        errors=tuple(errors),
    )


def adapter_for_arn(arn: str) -> str | None:
    """The adapter an ARN's service implies, or ``None`` when drwave has none for it.

    ``arn:<partition>:drs:…:source-server/…`` → drs, ``rds:…:cluster:…`` and
    ``rds::…:global-cluster:…`` → aurora, ``ecs:…:service/…`` → ecs, ``lambda:…:function:…`` →
    lambda, ``route53:::healthcheck/…`` or ``hostedzone/…`` → route53, ``arn:drwave:simulated:…`` →
    simulated. Partitions ``aws``, ``aws-cn``, ``aws-us-gov``, … are all accepted.
    """
    if not isinstance(arn, str):
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    _, partition, service, _region, _account, resource = parts
    if partition == "drwave":
        return "simulated" if service == "simulated" else None
    if partition != "aws" and not partition.startswith("aws-"):
        return None
    if service == "drs" and resource.startswith("source-server/"):
        return "drs"
    if service == "rds" and resource.startswith(("cluster:", "global-cluster:")):
        return "aurora"
    if service == "ecs" and resource.startswith("service/"):
        return "ecs"
    if service == "lambda" and resource.startswith("function:"):
        return "lambda"
    if service == "route53" and resource.startswith(("healthcheck/", "hostedzone/")):
        return "route53"
    return None


def customer_of(tags: Mapping[str, str] | None) -> str | None:
    """The ``Customer`` tag, stripped; ``None`` when missing or blank."""
    return _scope_value(tags, TAG_CUSTOMER)


def environment_of(tags: Mapping[str, str] | None) -> str | None:
    """The ``Environment`` tag, stripped; ``None`` when missing or blank."""
    return _scope_value(tags, TAG_ENVIRONMENT)


def in_scope(
    tags: Mapping[str, str] | None, *, customer: str | None = None, environment: str | None = None
) -> bool:
    """Whether a resource belongs to the given customer/environment (``None`` = any).

    Scoping values compare exactly (after stripping), as the Tagging API's ``TagFilters`` do, so a
    selection resolved locally agrees with one resolved by AWS.
    """
    if customer is not None and customer_of(tags) != customer.strip():
        return False
    return environment is None or environment_of(tags) == environment.strip()


# --- helpers -----------------------------------------------------------------------------------


def _not_enrolled(arn: str) -> TagEvaluation:
    return TagEvaluation(arn=arn, enrolled=False, wave=None, priority=None, rto_minutes=None, adapter=None)


def _get(tags: Mapping[Any, Any], key: str) -> str | None:
    try:
        value = tags.get(key)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)
    except Exception:  # a hostile Mapping or value must not crash a preview
        return None


def _norm(value: str) -> str:
    return value.strip().lower()


def _scope_value(tags: Mapping[str, str] | None, key: str) -> str | None:
    if not isinstance(tags, Mapping):
        return None
    value = _get(tags, key)
    if value is None or not value.strip():
        return None
    return value.strip()


def _priority(arn: str, tags: Mapping[str, str]) -> tuple[str | None, list[TagError]]:
    raw = _get(tags, TAG_PRIORITY)
    if raw is None:
        message = (
            f"Resource {arn} is enrolled (dr:enabled=true) but has no {TAG_PRIORITY} tag; "
            f"expected one of {', '.join(PRIORITIES)}."
        )
        return None, [TagError(arn, TAG_PRIORITY, None, MISSING_PRIORITY, message)]
    value = _norm(raw)
    if value in PRIORITY_WAVE:
        return value, []
    return None, [
        _error(arn, TAG_PRIORITY, raw, INVALID_PRIORITY, f"; expected one of {', '.join(PRIORITIES)}")
    ]


def _wave(arn: str, tags: Mapping[str, str]) -> tuple[int | None, list[TagError]]:
    raw = _get(tags, TAG_WAVE)
    if raw is None:
        return None, []
    value = raw.strip()
    if value.isascii() and value.isdigit():
        number = int(value)
        if MIN_WAVE <= number <= MAX_WAVE:
            return number, []
    expected = f"; expected a whole number from {MIN_WAVE} to {MAX_WAVE}"
    return None, [_error(arn, TAG_WAVE, raw, INVALID_WAVE, expected)]


def _adapter(arn: str, tags: Mapping[str, str]) -> tuple[str | None, list[TagError]]:
    from_arn = adapter_for_arn(arn)
    raw = _get(tags, TAG_STRATEGY)
    if raw is None:
        if from_arn is not None:
            return from_arn, []
        message = (
            f"Resource {arn} has no {TAG_STRATEGY} tag and its ARN names no service drwave can "
            f"recover; tag it with one of {', '.join(sorted(STRATEGY_VALUES))}."
        )
        return None, [TagError(arn, TAG_STRATEGY, None, UNKNOWN_SERVICE, message)]
    strategy = _norm(raw)
    if strategy not in STRATEGY_VALUES:
        expected = f", which drwave does not support; supported: {', '.join(sorted(STRATEGY_VALUES))}"
        return None, [_error(arn, TAG_STRATEGY, raw, UNSUPPORTED_STRATEGY, expected)]
    if from_arn is not None and from_arn != strategy:
        expected = f", but its ARN is recovered by the {from_arn} adapter"
        return None, [_error(arn, TAG_STRATEGY, raw, STRATEGY_MISMATCH, expected)]
    return strategy, []


def _error(arn: str, tag: str, value: str, code: str, tail: str) -> TagError:
    message = f"Resource {arn} has {tag}={_show(value)}{tail}."
    return TagError(arn=arn, tag=tag, value=value, code=code, message=message)


def _show(value: str) -> str:
    """A value as it reads on one line: quoted, escaped, and cut when very long."""
    shown = repr(value)
    if len(shown) > _MAX_SHOWN_VALUE:
        shown = shown[: _MAX_SHOWN_VALUE - 1] + "…"
    return shown
