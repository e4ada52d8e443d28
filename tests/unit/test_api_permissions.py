"""The permission table covers every endpoint, and roles get what docs/architecture.md, "Roles", gives them."""

from services.api.app import create_app
from services.api.auth import PERMISSIONS, PUBLIC_ENDPOINTS, PUBLIC_PREFIXES
from services.api.settings import ApiSettings
from shared.domain.roles import Permission, Role, allows


def make_app():
    # Unreachable servers: building the app must not connect to anything.
    return create_app(
        ApiSettings(database_url="postgresql+psycopg://x@127.0.0.1:1/x", redis_url="redis://127.0.0.1:1/0")
    )


def test_every_endpoint_is_either_public_or_has_a_permission():
    app = make_app()
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unlisted = {
        e for e in endpoints if e not in PERMISSIONS and e not in PUBLIC_ENDPOINTS and not e.startswith(PUBLIC_PREFIXES)
    }
    assert unlisted == set()


def test_the_permission_table_names_no_endpoint_that_does_not_exist():
    endpoints = {rule.endpoint for rule in make_app().url_map.iter_rules()}
    assert set(PERMISSIONS) <= endpoints


def test_read_only_may_only_read():
    assert [p for p in Permission if allows(Role.READ_ONLY, p)] == [Permission.READ, Permission.TARGET_ACCOUNTS_READ]


def test_operators_run_executions_but_do_not_edit_plans():
    assert allows(Role.OPERATOR, Permission.EXECUTIONS_CONTROL)
    assert allows(Role.OPERATOR, Permission.EXECUTIONS_START)
    assert not allows(Role.OPERATOR, Permission.PLANS_WRITE)
    assert not allows(Role.OPERATOR, Permission.EXECUTIONS_CLEANUP)


def test_plan_managers_edit_plans_but_run_no_executions():
    assert allows(Role.PLAN_MANAGER, Permission.PLANS_WRITE)
    assert not allows(Role.PLAN_MANAGER, Permission.EXECUTIONS_START)
    assert not allows(Role.PLAN_MANAGER, Permission.EXECUTIONS_CONTROL)


def test_recovery_managers_read_but_do_not_write_target_accounts():
    assert allows(Role.RECOVERY_MANAGER, Permission.TARGET_ACCOUNTS_READ)
    assert not allows(Role.RECOVERY_MANAGER, Permission.TARGET_ACCOUNTS_WRITE)
    assert allows(Role.ADMIN, Permission.TARGET_ACCOUNTS_WRITE)
