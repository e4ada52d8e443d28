"""Bearer-token authentication and the one permission check every endpoint goes through.

`PERMISSIONS` maps every endpoint to the permission it needs; an endpoint missing from it is refused
(deny by default), and a test checks that every registered endpoint is listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, g, request

from shared.db.engine import Database
from shared.domain.roles import ROLE_PERMISSIONS, Permission, Role, allows
from shared.store import tokens

from .errors import ApiError
from .oidc import OidcVerifier

P = Permission
PUBLIC_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "static", "docs_redirect"})
# flask-openapi3's document and UI blueprints; the web console, which checks its own session cookie and
# then this module's Principal and PERMISSIONS (services/console/web/guard.py)
PUBLIC_PREFIXES = ("openapi", "swagger", "console.")
METRICS_ENDPOINT = "metrics.metrics"  # public too when DRWAVE_METRICS_TOKEN_REQUIRED=false

PERMISSIONS: dict[str, Permission] = {
    "identity.me": P.READ,
    METRICS_ENDPOINT: P.READ,
    "protection_groups.list_groups": P.READ,
    "protection_groups.get_group": P.READ,
    "protection_groups.create_group": P.GROUPS_WRITE,
    "protection_groups.update_group": P.GROUPS_WRITE,
    "protection_groups.delete_group": P.GROUPS_WRITE,
    "protection_groups.preview_selection": P.PLANS_VALIDATE,
    "resources.list_resources": P.READ,
    "recovery_plans.list_plans": P.READ,
    "recovery_plans.get_plan": P.READ,
    "recovery_plans.create_plan": P.PLANS_WRITE,
    "recovery_plans.update_plan": P.PLANS_WRITE,
    "recovery_plans.delete_plan": P.PLANS_WRITE,
    "recovery_plans.validate_plan": P.PLANS_VALIDATE,
    "target_accounts.list_target_accounts": P.TARGET_ACCOUNTS_READ,
    "target_accounts.get_target_account": P.TARGET_ACCOUNTS_READ,
    "target_accounts.create_target_account": P.TARGET_ACCOUNTS_WRITE,
    "target_accounts.update_target_account": P.TARGET_ACCOUNTS_WRITE,
    "target_accounts.delete_target_account": P.TARGET_ACCOUNTS_WRITE,
    "target_accounts.validate_target_account": P.PLANS_VALIDATE,  # a dry run: changes nothing
    "executions.list_executions": P.READ,
    "executions.get_execution": P.READ,
    "executions.list_events": P.READ,
    "executions.start_execution": P.EXECUTIONS_START,
    "executions.pause_execution": P.EXECUTIONS_CONTROL,
    "executions.resume_execution": P.EXECUTIONS_CONTROL,
    "executions.cancel_execution": P.EXECUTIONS_CONTROL,
    "executions.retry_execution": P.EXECUTIONS_CONTROL,
    "executions.skip_resource": P.EXECUTIONS_CONTROL,
    "tokens.list_tokens": P.TOKENS_ADMIN,
    "tokens.create_token": P.TOKENS_ADMIN,
    "tokens.revoke_token": P.TOKENS_ADMIN,
    "audit.list_audit": P.AUDIT_READ,
    "drs.get_launch_settings": P.READ,
    "drs.apply_launch_settings": P.GROUPS_WRITE,
    "drs.tag_sync": P.GROUPS_WRITE,
    "drs.list_recovery_instances": P.READ,
    "drs.terminate_instances": P.EXECUTIONS_CLEANUP,
    "drs.get_job_log": P.READ,
    "readiness.plan_readiness": P.READ,
    "readiness.list_readiness": P.READ,
    # the on-call loop (issue 10)
    "approvals.list_approvals": P.READ,
    "approvals.approve_execution": P.EXECUTIONS_APPROVE,
    "approvals.get_report": P.READ,
    "subscriptions.list_subscriptions": P.READ,
    "subscriptions.get_subscription": P.READ,
    "subscriptions.list_deliveries": P.READ,
    "subscriptions.create_subscription": P.SUBSCRIPTIONS_WRITE,
    "subscriptions.update_subscription": P.SUBSCRIPTIONS_WRITE,
    "subscriptions.delete_subscription": P.SUBSCRIPTIONS_WRITE,
    "subscriptions.test_subscription": P.SUBSCRIPTIONS_WRITE,
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    key: str = ""  # who it is for rate limiting: "token:<id>" or "oidc:<sub>" (set by the authenticator)

    @property
    def actor(self) -> str:
        return f"{self.name} ({self.role.value})"

    @property
    def permissions(self) -> list[str]:
        return sorted(p.value for p in ROLE_PERMISSIONS[self.role])

    def require(self, permission: Permission) -> None:
        if not allows(self.role, permission):
            raise ApiError(
                403, "FORBIDDEN", f"role {self.role.value} may not {permission.value}", permission=permission.value
            )


def current_principal() -> Principal:
    return g.principal


class Authenticator:
    """Bearer token -> Principal: drwave's own tokens (``drw_…``), else an OIDC JWT when OIDC is configured."""

    def __init__(self, db: Database, oidc: OidcVerifier | None = None):
        self.db = db
        self.oidc = oidc

    def principal(self, token: str) -> Principal:
        if self.oidc is not None and not token.startswith(tokens.PREFIX):
            identity = self.oidc.identity(token)
            return Principal(identity.name, identity.role, key=f"oidc:{identity.subject}")
        with self.db.engine.connect() as conn:
            row = tokens.lookup(conn, token)
            if row is not None and row.revoked_at is None and not row.expired and _stale(row.last_used_at):
                tokens.touch(conn, row.id)
                conn.commit()
        if row is None:
            raise ApiError(401, "UNAUTHENTICATED", "unknown token")
        if row.revoked_at is not None:
            raise ApiError(401, "TOKEN_REVOKED", f"token {row.name!r} was revoked at {row.revoked_at.isoformat()}")
        if row.expired:
            raise ApiError(401, "TOKEN_EXPIRED", f"token {row.name!r} expired at {row.expires_at.isoformat()}")
        return Principal(row.name, Role(row.role), key=f"token:{row.id}")


def _stale(last_used_at: datetime | None) -> bool:
    """Whether the token's last use is worth rewriting (saves a write on most requests)."""
    return last_used_at is None or datetime.now(UTC) - last_used_at >= tokens.LAST_USED_RESOLUTION


def install_auth(app: Flask, authenticator: Authenticator, public_endpoints: frozenset[str] = PUBLIC_ENDPOINTS) -> None:
    @app.before_request
    def _authenticate():
        endpoint = request.endpoint
        if endpoint is None or endpoint in public_endpoints or endpoint.startswith(PUBLIC_PREFIXES):
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "UNAUTHENTICATED", "missing bearer token: send 'Authorization: Bearer <token>'")
        principal = authenticator.principal(token.strip())
        permission = PERMISSIONS.get(endpoint)
        if permission is None:
            raise ApiError(403, "FORBIDDEN", f"endpoint {endpoint} is not open to any role")
        principal.require(permission)
        g.principal = principal
        return None
