"""Admin API of tokens: list, create (the secret is in the answer, once), revoke."""

from __future__ import annotations

from ..auth import current_principal
from ..container import services
from ..security_schemas import TokenCreate, TokenCreated, TokenList, TokenPath, TokenRevoked
from .common import CLIENT_ERRORS, respond, secured_blueprint

bp = secured_blueprint("tokens", __name__, "/v1/tokens", "tokens")
ERRORS = CLIENT_ERRORS


@bp.get("", responses={200: TokenList, **ERRORS})
def list_tokens():
    """Every token: id, name, role, created, last used, expiry, revocation. Never the secret."""
    return respond(TokenList, {"items": services().tokens.list()})


@bp.post("", responses={201: TokenCreated, **ERRORS})
def create_token(body: TokenCreate):
    """Create a token; `expiresIn` such as `30d` (units s, m, h, d). The secret is returned only here."""
    return respond(TokenCreated, services().tokens.create(current_principal(), body), 201)


@bp.delete("/<int:id>", responses={200: TokenRevoked, **ERRORS})
def revoke_token(path: TokenPath):
    """Revoke a token: it answers 401 `TOKEN_REVOKED` from now on."""
    return respond(TokenRevoked, services().tokens.revoke(current_principal(), path.id))
