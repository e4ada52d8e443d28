"""Token lifecycle through the admin API and the `drwave tokens` command (a real process on the
session's PostgreSQL): expiry, listing without secrets, revocation, and the 401 codes that follow."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.roles import Role
from shared.store import tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def drwave(servers, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DRWAVE_DATABASE_URL": servers.database_url, "DRWAVE_STATE_DIR": str(servers.config.state_dir)}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "tokens", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_admin_creates_a_token_whose_secret_is_shown_once_and_never_listed(client, admin):
    response = client.post(
        "/v1/tokens", json={"name": name("bot"), "role": "operator", "expiresIn": "30d"}, headers=admin
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["token"].startswith("drw_")
    expires = datetime.fromisoformat(created["expiresAt"])
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)

    me = client.get("/v1/me", headers=bearer(created["token"]))
    assert me.status_code == 200 and me.get_json()["role"] == "operator"

    listed = client.get("/v1/tokens", headers=admin).get_json()["items"]
    mine = next(item for item in listed if item["id"] == created["id"])
    assert set(mine) == {"id", "name", "role", "createdAt", "lastUsedAt", "expiresAt", "revokedAt"}
    assert mine["lastUsedAt"] is not None and mine["revokedAt"] is None
    assert created["token"] not in str(listed)


def test_a_revoked_token_answers_token_revoked(client, admin):
    created = client.post("/v1/tokens", json={"name": name("old-bot"), "role": "read-only"}, headers=admin).get_json()
    assert created["expiresAt"] is None
    assert client.get("/v1/me", headers=bearer(created["token"])).status_code == 200

    revoked = client.delete(f"/v1/tokens/{created['id']}", headers=admin)
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["token"]["revokedAt"] is not None

    refused = client.get("/v1/me", headers=bearer(created["token"]))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "TOKEN_REVOKED"
    again = client.delete(f"/v1/tokens/{created['id']}", headers=admin)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "TOKEN_ALREADY_REVOKED"


def test_an_expired_token_answers_token_expired(client, db):
    with db.engine.begin() as conn:
        token = tokens.create(conn, name("expired"), Role.ADMIN, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    refused = client.get("/v1/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "TOKEN_EXPIRED"


def test_an_unknown_token_is_unauthenticated(client):
    refused = client.get("/v1/me", headers=bearer("drw_not-a-token"))
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "role": "operator", "expiresIn": "1w"}, "expiresIn"),
        ({"name": "x", "role": "operator", "expiresIn": "0s"}, "expiresIn"),
        ({"name": "x", "role": "superuser"}, "role"),
        ({"name": "   ", "role": "operator"}, "name"),
    ],
)
def test_a_bad_token_request_is_a_400_naming_the_field(client, admin, body, field):
    response = client.post("/v1/tokens", json=body, headers=admin)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(f"{field}:")


def test_revoking_a_token_that_does_not_exist_is_a_404(client, admin):
    response = client.delete("/v1/tokens/999999999", headers=admin)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "TOKEN_NOT_FOUND"


@pytest.mark.parametrize("role", ["recovery-manager", "plan-manager", "operator", "read-only"])
def test_only_admins_manage_tokens(client, token_for, role):
    headers = token_for(role)
    assert client.get("/v1/tokens", headers=headers).status_code == 403
    assert client.post("/v1/tokens", json={"name": "x", "role": "admin"}, headers=headers).status_code == 403
    assert client.delete("/v1/tokens/1", headers=headers).status_code == 403


def test_the_cli_creates_lists_and_revokes_tokens(servers, client):
    bot = name("cli-bot")
    created = drwave(servers, "create", "--role", "operator", "--name", bot, "--expires-in", "12h")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert created.stdout == token + "\n" and token.startswith("drw_")  # only the token: scripts capture it
    assert client.get("/v1/me", headers=bearer(token)).get_json()["name"] == bot

    listed = drwave(servers, "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "ROLE", "CREATED", "LAST", "USED", "EXPIRES", "REVOKED"]
    row = next(line for line in rows if bot in line)
    assert "operator" in row and token not in listed.stdout

    revoked = drwave(servers, "revoke", bot)
    assert revoked.returncode == 0, revoked.stderr
    assert f"'{bot}' (operator)" in revoked.stdout
    refused = client.get("/v1/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "TOKEN_REVOKED"


def test_the_cli_refuses_a_bad_lifetime_and_an_unknown_token(servers):
    bad = drwave(servers, "create", "--role", "operator", "--name", "x", "--expires-in", "soon")
    assert bad.returncode == 2 and "not a duration" in bad.stderr and bad.stdout == ""
    unknown = drwave(servers, "revoke", name("nobody"))
    assert unknown.returncode == 1 and "no token" in unknown.stderr
