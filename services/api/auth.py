"""Bearer-token authentication and the one permission check every endpoint goes through.

`PERMISSIONS` maps every endpoint to the permission it needs; an endpoint missing from it is refused
(deny by default), and a test checks that every registered endpoint is listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request

from shared.db.engine import Database
from shared.domain.roles import ROLE_PERMISSIONS, Permission, Role, allows
from shared.store import tokens

from .errors import ApiError

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
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role

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


def install_auth(app: Flask, db: Database, public_endpoints: frozenset[str] = PUBLIC_ENDPOINTS) -> None:
    @app.before_request
    def _authenticate():
        endpoint = request.endpoint
        if endpoint is None or endpoint in public_endpoints or endpoint.startswith(PUBLIC_PREFIXES):
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "UNAUTHENTICATED", "missing bearer token: send 'Authorization: Bearer <token>'")
        with db.engine.connect() as conn:
            row = tokens.lookup(conn, token.strip())
        if row is None:
            raise ApiError(401, "UNAUTHENTICATED", "unknown or revoked token")
        principal = Principal(row.name, Role(row.role))
        permission = PERMISSIONS.get(endpoint)
        if permission is None:
            raise ApiError(403, "FORBIDDEN", f"endpoint {endpoint} is not open to any role")
        principal.require(permission)
        g.principal = principal
        return None
