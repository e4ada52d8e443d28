"""Route 53 hosted zones and health checks in the Resource Groups Tagging API.

AWS returns them from ``tagging.get_resources`` (in us-east-1, Route 53 being global); moto 5.2.5
does not, because its Route 53 backend does not take part in moto's tagging registry. We register
a small read-through view of moto's Route 53 data in that registry, for the account of each
tagging request (moto's registry only lists backends that were used for the account).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

ROUTE53_TAGGING_REGION = "us-east-1"


@functools.cache
def _view_backends() -> Any:
    from moto.core.base_backend import BackendDict, BaseBackend
    from moto.core.resource_tagging import TaggableResourcesMixin, TaggedResource

    class Route53TaggingView(BaseBackend, TaggableResourcesMixin):
        SERVICE_NAMESPACE = "route53"

        def _route53(self) -> Any:
            from moto.route53.models import route53_backends

            return route53_backends[self.account_id]["aws"]

        def iter_tagged_resources(self) -> Iterator[TaggedResource]:
            route53 = self._route53()
            for zone_id in list(route53.zones):
                yield TaggedResource(
                    arn=f"arn:aws:route53:::hostedzone/{zone_id}",
                    tags=dict(route53.list_tags_for_resource(zone_id)),
                    resource_type="route53:hostedzone",
                )
            for check_id in list(route53.health_checks):
                yield TaggedResource(
                    arn=f"arn:aws:route53:::healthcheck/{check_id}",
                    tags=dict(route53.list_tags_for_resource(check_id)),
                    resource_type="route53:healthcheck",
                )

        def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
            kind, resource_id = arn.split(":::", 1)[1].split("/", 1)
            add = [{"Key": k, "Value": v} for k, v in tags.items()]
            self._route53().change_tags_for_resource(kind, resource_id, add, [])

        def untag_resource(self, arn: str, tag_keys: list[str]) -> None:
            kind, resource_id = arn.split(":::", 1)[1].split("/", 1)
            self._route53().change_tags_for_resource(kind, resource_id, [], tag_keys)

    return BackendDict(
        Route53TaggingView,
        "route53tagging",
        use_boto3_regions=False,
        additional_regions=[ROUTE53_TAGGING_REGION],
    )


def ensure_registered(account_id: str) -> None:
    """Make moto's tagging registry see Route 53 for ``account_id`` (idempotent, cheap)."""
    _view_backends()[account_id]
