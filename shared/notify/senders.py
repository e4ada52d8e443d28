"""One sender per subscription kind, in a registry keyed by kind. A sender makes one attempt and says
how it went; retries, order and bookkeeping belong to the notifier."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import requests
from botocore.exceptions import BotoCoreError, ClientError
from standardwebhooks.webhooks import Webhook

from shared.aws.sessions import SessionFactory

from .targets import TargetRefused, check_url

ARN_REGION = 3  # arn:partition:service:REGION:account:resource
ECHOED_BODY_CHARS = 200  # of a refusing receiver's answer, kept in the delivery's last_error


@dataclass(frozen=True)
class Sent:
    ok: bool
    status_code: int | None = None
    error: str | None = None


class Sender(Protocol):
    def send(self, target: str, secret: str | None, envelope: Mapping[str, Any]) -> Sent: ...


def body_of(envelope: Mapping[str, Any]) -> str:
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True)


def signature_headers(secret: str, event_id: str, body: str, at: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks: webhook-id, webhook-timestamp (unix seconds) and webhook-signature
    (v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">)."""
    at = at or datetime.now(UTC)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }


def printable(text: str) -> str:
    """``text`` with every control character (NUL, escapes, line breaks) as a space: a receiver's answer is
    echoed into ``last_error``, which PostgreSQL cannot store with a NUL and a log or terminal must not
    interpret."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)


def _post(url: str, body: str, headers: dict[str, str], timeout: float, allow_private: bool) -> Sent:
    try:
        check_url(url, allow_private=allow_private)
        response = requests.post(
            url,
            data=body.encode(),
            headers={"Content-Type": "application/json", **headers},
            timeout=timeout,
            allow_redirects=False,  # a redirect could lead past check_url to a private address
        )
    except TargetRefused as refused:
        return Sent(False, error=f"target refused: {refused}")
    except requests.RequestException as error:
        return Sent(False, error=f"{type(error).__name__}: {error}"[:500])
    if 200 <= response.status_code < 300:
        return Sent(True, response.status_code)
    if response.is_redirect:
        return Sent(False, response.status_code, f"HTTP {response.status_code}: redirect not followed")
    answer = printable(response.text[:ECHOED_BODY_CHARS])
    return Sent(False, response.status_code, f"HTTP {response.status_code}: {answer}")


@dataclass
class WebhookSender:
    timeout: float
    allow_private: bool

    def send(self, target: str, secret: str | None, envelope: Mapping[str, Any]) -> Sent:
        body = body_of(envelope)
        headers = signature_headers(secret or "", envelope["id"], body) if secret else {}
        return _post(target, body, headers, self.timeout, self.allow_private)


@dataclass
class SlackSender:
    """A Slack incoming webhook: `text` for notifications, `blocks` for the message itself."""

    timeout: float
    allow_private: bool

    def send(self, target: str, secret: str | None, envelope: Mapping[str, Any]) -> Sent:
        data = envelope["data"]
        context = " · ".join(str(v) for v in (envelope["type"], data.get("executionId"), data.get("planName")) if v)
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": data["message"]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ]
        text = data["message"]
        if data.get("approveCommand"):  # in the text too: a notification or a client without blocks shows only it
            text += f"\nApprove: `{data['approveCommand']}`"
            blocks.insert(1, {"type": "section", "text": {"type": "mrkdwn", "text": f"`{data['approveCommand']}`"}})
        body = json.dumps({"text": text, "blocks": blocks})
        return _post(target, body, {}, self.timeout, self.allow_private)


def _aws_error(error: Exception) -> Sent:
    return Sent(False, error=f"{type(error).__name__}: {error}"[:500])


def _region_of(arn_or_name: str) -> str | None:
    parts = arn_or_name.split(":")
    return parts[ARN_REGION] or None if arn_or_name.startswith("arn:") and len(parts) > ARN_REGION else None


@dataclass
class SnsSender:
    """publish to a topic ARN, with message attributes eventType and executionId for filter policies."""

    sessions: SessionFactory

    def send(self, target: str, secret: str | None, envelope: Mapping[str, Any]) -> Sent:
        attributes = {
            "eventType": {"DataType": "String", "StringValue": envelope["type"]},
            "executionId": {"DataType": "String", "StringValue": envelope["data"].get("executionId") or "none"},
        }
        try:
            self.sessions.client("sns", region=_region_of(target)).publish(
                TopicArn=target,
                Message=body_of(envelope),
                Subject=f"drwave {envelope['type']}"[:100],
                MessageAttributes=attributes,
            )
        except (ClientError, BotoCoreError) as error:
            return _aws_error(error)
        return Sent(True)


@dataclass
class EventBridgeSender:
    """put_events on a bus (name or ARN): source drwave, detail-type the event type, detail the envelope."""

    sessions: SessionFactory

    def send(self, target: str, secret: str | None, envelope: Mapping[str, Any]) -> Sent:
        entry = {
            "Source": "drwave",
            "DetailType": envelope["type"],
            "Detail": body_of(envelope),
            "EventBusName": target,
        }
        try:
            answer = self.sessions.client("events", region=_region_of(target)).put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as error:
            return _aws_error(error)
        if answer.get("FailedEntryCount"):
            failed = answer["Entries"][0]
            return Sent(False, error=f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")
        return Sent(True)


def build_all(*, sessions: SessionFactory, timeout: float, allow_private: bool) -> dict[str, Sender]:
    return {
        "webhook": WebhookSender(timeout, allow_private),
        "slack": SlackSender(timeout, allow_private),
        "sns": SnsSender(sessions),
        "eventbridge": EventBridgeSender(sessions),
    }


KINDS: tuple[str, ...] = ("webhook", "slack", "sns", "eventbridge")
