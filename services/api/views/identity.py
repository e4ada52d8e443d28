from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from ..auth import current_principal
from ..schemas import MeOut
from .common import BEARER, respond

bp = APIBlueprint("identity", __name__, url_prefix="/v1", abp_tags=[Tag(name="identity")], abp_security=BEARER)


@bp.get("/me", responses={200: MeOut})
def me():
    """Who the token belongs to, its role and permissions."""
    principal = current_principal()
    return respond(MeOut, {"name": principal.name, "role": principal.role.value, "permissions": principal.permissions})
