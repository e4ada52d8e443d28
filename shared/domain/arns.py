"""AWS ARNs, parsed (pure): where a resource lives — partition, service, region, account — and what it is.

Adapters take the DR region and account from the resource's ARN, never from settings; global services
(Route 53) have neither, and the caller falls back to what it knows (a resource run's ``detail``).
"""

from __future__ import annotations

from dataclasses import dataclass


class InvalidArn(ValueError):
    pass


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, arn: str) -> Arn:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``; raises :class:`InvalidArn`."""
        parts = arn.split(":", 5) if isinstance(arn, str) else []
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
            raise InvalidArn(f"{arn!r} is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)")
        return cls(parts[1], parts[2], parts[3], parts[4], parts[5])

    @property
    def resource_id(self) -> str:
        """The part after the resource type: ``s-1234…`` of ``source-server/s-1234…``, ``db`` of ``cluster:db``."""
        for separator in ("/", ":"):
            if separator in self.resource:
                return self.resource.split(separator, 1)[1]
        return self.resource

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def location(arn: str) -> tuple[str | None, str | None]:
    """``(account, region)`` of an ARN, ``None`` for parts it does not have (or for a malformed ARN)."""
    try:
        parsed = Arn.parse(arn)
    except InvalidArn:
        return None, None
    return parsed.account or None, parsed.region or None
