"""Who is at the console: the session cookie -> the token -> the same Principal and permission table
the API uses. Also the CSRF check of every form POST and the security headers of every page."""

from __future__ import annotations

from flask import current_app, g, redirect, request, url_for

from services.api.auth import PERMISSIONS, Principal
from services.api.errors import ApiError
from shared.domain.roles import Permission, allows

from .sessions import COOKIE, ConsoleSession, SessionStore, same_secret

OPEN_ENDPOINTS = frozenset({"console.login", "console.static"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def store() -> SessionStore:
    return current_app.extensions["drwave_console"]


def principal_for(token: str) -> Principal | None:
    """The API's own authentication (unknown, expired and revoked tokens refused; OIDC when configured)."""
    try:
        return current_app.extensions["drwave_authenticator"].principal(token)
    except ApiError:
        return None


def authenticate():
    """before_request of the console: pages need a live session; every POST needs its CSRF token."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    session = store().load(request.cookies.get(COOKIE))
    principal = principal_for(session.token) if session else None
    if session is None or principal is None:
        if session is not None:
            store().delete(session.id)
        if request.method == "POST":
            raise ApiError(403, "FORBIDDEN", "no console session: log in again")
        return redirect(url_for("console.login"))
    if request.method == "POST" and not same_secret(request.form.get("csrf_token"), session.csrf):
        raise ApiError(403, "CSRF_FAILED", "the form's CSRF token is missing or wrong: reload the page")
    principal.require(Permission.READ)  # every page reads; actions check their own endpoint's permission
    g.principal = principal
    g.console_session = session
    return None


def current_session() -> ConsoleSession:
    return g.console_session


def _permission(need: str | Permission) -> Permission:
    return need if isinstance(need, Permission) else PERMISSIONS[need]


def may(need: str | Permission) -> bool:
    """Whether the principal may call the API endpoint named (the permission table of services.api.auth),
    or has the permission given."""
    return allows(g.principal.role, _permission(need))


def require(*needs: str | Permission) -> Principal:
    """Refuse with the API's 403 unless the principal may do every one of `needs`."""
    for need in needs:
        g.principal.require(_permission(need))
    return g.principal


def secure_headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response
