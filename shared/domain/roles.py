"""The seed's five roles and what each may do (docs/architecture.md, "Roles").

Pure data, checked in one place by the API."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    READ = "read"
    GROUPS_WRITE = "protection-groups:write"
    PLANS_WRITE = "recovery-plans:write"
    PLANS_VALIDATE = "recovery-plans:validate"
    EXECUTIONS_START = "executions:start"
    EXECUTIONS_CONTROL = "executions:control"
    EXECUTIONS_CLEANUP = "executions:cleanup"
    EXECUTIONS_FORCE = "executions:force"  # start despite failed preflight checks
    EXECUTIONS_APPROVE = "executions:approve"
    SUBSCRIPTIONS_WRITE = "subscriptions:write"
    TARGET_ACCOUNTS_READ = "target-accounts:read"
    TARGET_ACCOUNTS_WRITE = "target-accounts:write"
    TOKENS_ADMIN = "tokens:admin"
    AUDIT_READ = "audit:read"


class Role(StrEnum):
    ADMIN = "admin"
    RECOVERY_MANAGER = "recovery-manager"
    PLAN_MANAGER = "plan-manager"
    OPERATOR = "operator"
    READ_ONLY = "read-only"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.RECOVERY_MANAGER: frozenset(set(Permission) - {P.TARGET_ACCOUNTS_WRITE, P.TOKENS_ADMIN}),
    Role.PLAN_MANAGER: frozenset({P.READ, P.GROUPS_WRITE, P.PLANS_WRITE, P.PLANS_VALIDATE, P.TARGET_ACCOUNTS_READ}),
    Role.OPERATOR: frozenset(
        {P.READ, P.EXECUTIONS_START, P.EXECUTIONS_CONTROL, P.EXECUTIONS_APPROVE, P.TARGET_ACCOUNTS_READ}
    ),
    Role.READ_ONLY: frozenset({P.READ, P.TARGET_ACCOUNTS_READ}),
}


def allows(role: Role | str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[Role(role)]
