"""OIDC bearer tokens against a local issuer: a discovery document and a JWKS served over HTTP on
127.0.0.1, RS256 keys made here. Signature, key rotation, exp, nbf, aud, iss and the group -> role map."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE = "drwave-test"
ROLE_MAP = {"sre-oncall": "operator", "dr-admins": "admin"}


class SigningKey:
    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex[:12]
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        return {**RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True), "kid": self.kid, "use": "sig"}


class Issuer:
    """A minimal OIDC issuer: /.well-known/openid-configuration and /jwks, with the published keys
    swappable (rotation) and every JWKS fetch counted."""

    def __init__(self) -> None:
        self.keys = [SigningKey()]
        self.jwks_fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks"}
                elif self.path == "/jwks":
                    issuer.jwks_fetches += 1
                    body = {"keys": [key.jwk() for key in issuer.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, key: SigningKey | None = None, **claims) -> str:
        key = key or self.keys[0]
        now = int(time.time())
        payload = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": f"user-{uuid.uuid4().hex[:6]}",
            "iat": now,
            "exp": now + 300,
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key.private, algorithm="RS256", headers={"kid": key.kid})


@pytest.fixture(scope="module")
def issuer():
    server = Issuer()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def oidc_client(make_app, issuer):
    # Refetch cooldown 0: this test rotates the key right after the first fetch (the default, 30 s,
    # only spaces out refetches caused by unknown key ids).
    app = make_app(oidc_issuer=issuer.url, oidc_audience=AUDIENCE, oidc_role_map=ROLE_MAP, oidc_jwks_refetch_cooldown=0)
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def test_a_jwt_of_the_issuer_is_a_principal_with_its_mapped_role_named_by_email(oidc_client, issuer):
    token = issuer.token(email="alice@example.com", groups=["sre-oncall", "unrelated"])
    me = oidc_client.get("/v1/me", headers=bearer(token))
    assert me.status_code == 200, me.get_json()
    assert me.get_json()["name"] == "alice@example.com" and me.get_json()["role"] == "operator"


def test_the_most_privileged_mapped_group_wins_and_sub_names_a_principal_without_email(oidc_client, issuer):
    token = issuer.token(sub="svc-robot", groups=["sre-oncall", "dr-admins"])
    me = oidc_client.get("/v1/me", headers=bearer(token)).get_json()
    assert me == {**me, "name": "svc-robot", "role": "admin"}


def test_what_an_oidc_principal_changes_is_recorded_under_its_email(oidc_client, issuer):
    headers = bearer(issuer.token(email="bob@example.com", groups=["dr-admins"]))
    body = {"name": f"oidc {uuid.uuid4().hex[:8]}", "region": "us-west-2", "selection": {"tags": {"App": "a"}}}
    created = oidc_client.post("/v1/protection-groups", json=body, headers=headers)
    assert created.status_code == 201 and created.get_json()["createdBy"] == "bob@example.com (admin)"
    log = oidc_client.get("/v1/audit", query_string={"entityId": created.get_json()["id"]}, headers=headers)
    assert [e["actor"] for e in log.get_json()["items"]] == ["bob@example.com (admin)"]


def test_the_key_set_is_cached(oidc_client, issuer):
    oidc_client.get("/v1/me", headers=bearer(issuer.token(groups=["sre-oncall"])))
    fetches = issuer.jwks_fetches
    for _ in range(5):
        assert oidc_client.get("/v1/me", headers=bearer(issuer.token(groups=["sre-oncall"]))).status_code == 200
    assert issuer.jwks_fetches == fetches


def test_a_rotated_key_is_fetched_and_the_retired_one_is_refused(oidc_client, issuer):
    old = issuer.keys[0]
    assert oidc_client.get("/v1/me", headers=bearer(issuer.token(old, groups=["sre-oncall"]))).status_code == 200
    new = SigningKey()
    issuer.keys = [new]
    rotated = oidc_client.get("/v1/me", headers=bearer(issuer.token(new, groups=["sre-oncall"])))
    assert rotated.status_code == 200, rotated.get_json()
    retired = oidc_client.get("/v1/me", headers=bearer(issuer.token(old, groups=["sre-oncall"])))
    assert error_of(retired, 401)["code"] == "UNAUTHENTICATED"


def test_an_expired_jwt_answers_token_expired(oidc_client, issuer):
    now = int(time.time())
    token = issuer.token(groups=["dr-admins"], iat=now - 3600, exp=now - 600)
    assert error_of(oidc_client.get("/v1/me", headers=bearer(token)), 401)["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        ({"aud": "someone-else"}, "aud is not"),
        ({"iss": "http://127.0.0.1:1/not-the-issuer"}, "iss is not"),
        ({"nbf": int(time.time()) + 3600}, "nbf"),
        ({"exp": None}, '"exp"'),
    ],
)
def test_a_jwt_for_another_audience_issuer_or_time_is_refused(oidc_client, issuer, claims, problem):
    token = issuer.token(groups=["dr-admins"], **claims)
    error = error_of(oidc_client.get("/v1/me", headers=bearer(token)), 401)
    assert error["code"] == "UNAUTHENTICATED" and problem in error["message"]


def test_a_jwt_signed_by_a_key_the_issuer_never_published_is_refused(oidc_client, issuer):
    impostor = SigningKey()
    impostor.kid = issuer.keys[0].kid  # claims to be the published key
    token = issuer.token(impostor, groups=["dr-admins"])
    assert error_of(oidc_client.get("/v1/me", headers=bearer(token)), 401)["code"] == "UNAUTHENTICATED"


def test_a_jwt_whose_groups_map_to_no_role_is_forbidden(oidc_client, issuer):
    token = issuer.token(groups=["marketing"])
    error = error_of(oidc_client.get("/v1/me", headers=bearer(token)), 403)
    assert error["code"] == "FORBIDDEN" and "marketing" in error["message"]
    assert error_of(oidc_client.get("/v1/me", headers=bearer(issuer.token())), 403)["code"] == "FORBIDDEN"


def test_drwave_tokens_keep_working_beside_oidc(oidc_client, admin):
    assert oidc_client.get("/v1/me", headers=admin).get_json()["role"] == "admin"
    garbage = error_of(oidc_client.get("/v1/me", headers=bearer("not-a-jwt")), 401)
    assert garbage["code"] == "UNAUTHENTICATED"


def test_an_unreachable_issuer_is_a_503_not_a_500(make_app, issuer):
    from shared.embedded import free_port

    elsewhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = make_app(oidc_issuer=elsewhere, oidc_audience=AUDIENCE, oidc_role_map=ROLE_MAP).test_client()
    token = issuer.token(iss=elsewhere, groups=["dr-admins"])
    assert error_of(client.get("/v1/me", headers=bearer(token)), 503)["code"] == "DEPENDENCY_DOWN"
