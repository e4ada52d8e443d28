"""The web console in-process (Flask test client against real Postgres/Redis): login and CSRF, security
headers, permission checks shared with the API, escaping."""

from __future__ import annotations

import re

import pytest
from support import create_plan, paused_execution, sim, start, unique, wait_for

XSS = "<img src=x onerror=alert(1)>"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, headers: dict) -> str:
    """Log the test client in with the bearer token of `headers`; return the session's CSRF token."""
    page = client.get("/console/login")
    token = headers["Authorization"].split(" ", 1)[1]
    response = client.post("/console/login", data={"token": token, "csrf_token": csrf_of(page.text)})
    assert response.status_code == 302, response.text
    return csrf_of(client.get("/console/executions").text)


@pytest.fixture()
def console(app):
    return app.test_client()


def test_pages_need_a_session_and_send_the_security_headers(console):
    response = console.get("/console/executions")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/login")
    login = console.get("/console/login")
    csp = login.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert login.headers["X-Frame-Options"] == "DENY"
    assert 'name="token"' in login.text


def session_cookie(console, headers: dict, **request_headers: str) -> str:
    """The Set-Cookie header of the console session a login with ``headers``' token opens."""
    page = console.get("/console/login", headers=request_headers)
    token = headers["Authorization"].split(" ", 1)[1]
    form = {"token": token, "csrf_token": csrf_of(page.text)}
    response = console.post("/console/login", data=form, headers=request_headers)
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("drwave_console="))


def test_login_sets_an_httponly_samesite_strict_cookie(console, token_for):
    cookie = session_cookie(console, token_for("operator"))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain http here


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy_and_a_forwarded_proto_is_ignored_without_one(
    make_app, console, token_for
):
    https = {"X-Forwarded-Proto": "https"}
    behind_proxy = make_app(trusted_proxies=1).test_client()
    assert "Secure" in session_cookie(behind_proxy, token_for("operator"), **https)
    assert "Secure" not in session_cookie(behind_proxy, token_for("operator"))  # the proxy spoke plain http
    assert "Secure" not in session_cookie(console, token_for("operator"), **https)  # anyone can send the header


def test_login_without_the_forms_csrf_token_is_refused(console, token_for):
    console.get("/console/login")
    token = token_for("operator")["Authorization"].split(" ", 1)[1]
    assert console.post("/console/login", data={"token": token}).status_code == 403


def test_an_unknown_token_does_not_log_in(console):
    page = console.get("/console/login")
    response = console.post("/console/login", data={"token": "drw_nope", "csrf_token": csrf_of(page.text)})
    assert response.status_code == 401 and "Unknown or revoked token" in response.text


def test_a_revoked_token_cannot_log_in_and_revoking_it_ends_its_open_session(console, client, admin, token_for):
    operator = token_for("operator")
    log_in(console, operator)
    assert console.get("/console/executions").status_code == 200
    me = client.get("/v1/me", headers=operator).get_json()
    listed = client.get("/v1/tokens", headers=admin).get_json()["items"]
    token_id = next(t["id"] for t in listed if t["name"] == me["name"])
    assert client.delete(f"/v1/tokens/{token_id}", headers=admin).status_code == 200

    assert console.get("/console/executions").status_code == 302  # back to the login page
    page = console.get("/console/login")
    token = operator["Authorization"].split(" ", 1)[1]
    response = console.post("/console/login", data={"token": token, "csrf_token": csrf_of(page.text)})
    assert response.status_code == 401


def test_a_post_without_the_sessions_csrf_token_is_refused(console, client, admin, token_for):
    plan = create_plan(client, admin, [{"name": "w", "arns": [sim("a", ms=3000)]}])
    execution_id = start(client, admin, plan)
    log_in(console, token_for("operator"))
    response = console.post(f"/console/executions/{execution_id}/cancel", data={"csrf_token": "forged"})
    assert response.status_code == 403 and "CSRF_FAILED" in response.text
    wait_for(client, admin, execution_id, {"COMPLETED"})


def test_read_only_sees_no_buttons_and_its_forged_post_gets_403(console, client, admin, token_for):
    execution_id = paused_execution(
        client, admin, [{"name": "w1", "arns": [sim("a")]}, {"name": "w2", "arns": [sim("b")], "pauseBeforeWave": True}]
    )
    csrf = log_in(console, token_for("read-only"))
    html = console.get(f"/console/executions/{execution_id}").text
    assert "Waiting at the gate" in html
    assert not re.search(r"<button[^>]*>(Approve|Pause|Cancel|Start cleanup)</button>", html)
    response = console.post(f"/console/executions/{execution_id}/approve", data={"csrf_token": csrf})
    assert response.status_code == 403 and "FORBIDDEN" in response.text
    assert client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()["status"] == "PAUSED"
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)


def test_an_operator_approves_a_gate_and_the_next_wave_runs(console, client, admin, token_for):
    execution_id = paused_execution(
        client, admin, [{"name": "w1", "arns": [sim("a")]}, {"name": "w2", "arns": [sim("b")], "pauseBeforeWave": True}]
    )
    csrf = log_in(console, token_for("operator"))
    html = console.get(f"/console/executions/{execution_id}").text
    assert re.search(r"<button[^>]*>Approve</button>", html) and re.search(r"<button[^>]*>Cancel</button>", html)
    response = console.post(f"/console/executions/{execution_id}/approve", data={"csrf_token": csrf, "comment": "ok"})
    assert response.status_code == 302
    wait_for(client, admin, execution_id, {"COMPLETED"})
    page = console.get(f"/console/executions/{execution_id}").text
    assert '<p class="notice" role="status">' in page  # the service's one-line message, shown once
    assert not re.search(r"<button[^>]*>Start cleanup</button>", page)  # operators may not clean up


def test_names_are_escaped_everywhere(console, client, admin, token_for):
    name = unique(XSS)  # plan names are unique
    response = client.post(
        "/v1/recovery-plans", json={"name": name, "waves": [{"name": XSS, "protectionGroupIds": []}]}, headers=admin
    )
    assert response.status_code == 201, response.get_json()
    log_in(console, token_for("read-only"))
    for path in ("/console/plans", f"/console/plans/{response.get_json()['id']}"):
        html = console.get(path).text
        assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html, path


def test_logout_ends_the_session_for_good(console, token_for):
    csrf = log_in(console, token_for("read-only"))
    cookie = console.get_cookie("drwave_console", path="/console").value
    assert console.post("/console/logout", data={"csrf_token": csrf}).status_code == 302
    console.set_cookie("drwave_console", cookie, path="/console")  # a copy of the old cookie is worthless
    assert console.get("/console/executions").status_code == 302


def test_an_api_error_is_shown_as_a_page_with_its_code(console, token_for):
    log_in(console, token_for("read-only"))
    response = console.get("/console/executions/ex-does-not-exist")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "EXECUTION_NOT_FOUND" in response.text and response.headers["X-Frame-Options"] == "DENY"


def test_start_cleanup_of_a_finished_drill_opens_the_cleanup_execution(console, client, admin):
    plan = create_plan(client, admin, [{"name": "w", "arns": [sim("a")]}])
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"COMPLETED"})
    csrf = log_in(console, admin)
    assert re.search(r"<button[^>]*>Start cleanup</button>", console.get(f"/console/executions/{execution_id}").text)
    response = console.post(f"/console/executions/{execution_id}/cleanup", data={"csrf_token": csrf})
    cleanup_id = response.headers["Location"].rsplit("/", 1)[1]
    assert cleanup_id != execution_id
    cleanup = wait_for(client, admin, cleanup_id, {"COMPLETED"})
    assert (cleanup["phase"], cleanup["sourceExecutionId"]) == ("cleanup", execution_id)


def test_validate_and_preview_forms_show_their_results(console, client, admin, token_for):
    plan = create_plan(client, admin, [{"name": "w", "arns": [sim("a")]}])
    csrf = log_in(console, token_for("recovery-manager"))
    validated = console.post(f"/console/plans/{plan}/validate", data={"csrf_token": csrf})
    assert validated.status_code == 200 and "RTO estimate" in validated.text
    preview = console.post(
        "/console/groups/preview", data={"csrf_token": csrf, "region": "us-west-2", "tags": "Customer=NOBODY"}
    )
    assert preview.status_code == 200 and 'id="preview-result"' in preview.text
    bad = console.post("/console/groups/preview", data={"csrf_token": csrf, "region": "mars", "tags": "x"})
    assert bad.status_code == 400 and "is not K=V" in bad.text


def test_an_operator_skips_a_failed_resource_then_retries_another_from_the_console(console, client, admin, token_for):
    broken, flaky = sim("db-broken", fail=True), sim("db-flaky", fail_first=1)
    execution_id = paused_execution(
        client,
        admin,
        [{"name": "w1", "arns": [broken, flaky], "onFailure": "pause"}, {"name": "w2", "arns": [sim("b")]}],
    )
    csrf = log_in(console, token_for("operator"))
    html = console.get(f"/console/executions/{execution_id}").text
    assert re.search(r"<button[^>]*>Retry failed resources</button>", html)
    assert re.search(r"<button[^>]*>Skip</button>", html) and f'<option value="{broken}">' in html

    no_reason = console.post(f"/console/executions/{execution_id}/skip", data={"csrf_token": csrf, "arn": broken})
    assert no_reason.status_code == 400
    skipped = console.post(
        f"/console/executions/{execution_id}/skip", data={"csrf_token": csrf, "arn": broken, "reason": "retired host"}
    )
    assert skipped.status_code == 302
    retried = console.post(f"/console/executions/{execution_id}/retry", data={"csrf_token": csrf, "comment": "flaky"})
    assert retried.status_code == 302
    done = wait_for(client, admin, execution_id, {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"})
    assert done["status"] == "COMPLETED"
    page = console.get(f"/console/executions/{execution_id}").text
    assert not re.search(r"<button[^>]*>Retry failed resources</button>", page)


def test_read_only_sees_no_retry_or_skip_button(console, client, admin, token_for):
    plan = create_plan(client, admin, [{"name": "w1", "arns": [sim("a", fail=True)]}])
    execution_id = start(client, admin, plan)
    wait_for(client, admin, execution_id, {"COMPLETED_WITH_FAILURES"})
    log_in(console, token_for("read-only"))
    html = console.get(f"/console/executions/{execution_id}").text
    assert "Retry failed resources" not in html and "<select" not in html


def test_the_status_filter_lists_only_executions_of_that_status(console, client, admin, token_for):
    paused = paused_execution(client, admin, [{"name": "w1", "arns": [sim("a")], "pauseBeforeWave": True}])
    finished = start(client, admin, create_plan(client, admin, [{"name": "w1", "arns": [sim("b")]}]))
    wait_for(client, admin, finished, {"COMPLETED"})
    log_in(console, token_for("read-only"))
    for path in ("/console/executions?status=PAUSED", "/console/executions/rows?status=PAUSED"):
        page = console.get(path)
        assert page.status_code == 200, page.text
        assert paused in page.text and finished not in page.text
    page = console.get("/console/executions?status=PAUSED").text
    assert '<option value="PAUSED" selected>' in page  # the form shows the filter
    assert 'data-live="/console/executions/rows?status=PAUSED"' in page  # and the live rows keep it
    client.post(f"/v1/executions/{paused}/cancel", headers=admin)
