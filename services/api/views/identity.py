from __future__ import annotations

from ..auth import current_principal
from ..schemas import MeOut
from .common import respond, secured_blueprint

bp = secured_blueprint("identity", __name__, "/v1", "identity")


@bp.get("/me", responses={200: MeOut})
def me():
    """Who the token belongs to, its role and permissions."""
    principal = current_principal()
    return respond(MeOut, {"name": principal.name, "role": principal.role.value, "permissions": principal.permissions})
