"""Target accounts: other AWS accounts drwave reaches through a role."""

from __future__ import annotations

from ..auth import current_principal
from ..container import services
from ..schemas import (
    AccountPath,
    MessageOut,
    TargetAccountCreate,
    TargetAccountList,
    TargetAccountOut,
    TargetAccountUpdate,
    TargetAccountValidation,
    VersionQuery,
)
from .common import CLIENT_ERRORS, respond, secured_blueprint

bp = secured_blueprint("target_accounts", __name__, "/v1/target-accounts", "target accounts")
ERRORS = CLIENT_ERRORS


def _accounts():
    return services().target_accounts


@bp.post("", responses={201: TargetAccountOut, **ERRORS})
def create_target_account(body: TargetAccountCreate):
    """Register an account: its 12-digit id, the role drwave assumes there (with its external id), regions."""
    return respond(TargetAccountOut, _accounts().create(current_principal(), body), 201)


@bp.get("", responses={200: TargetAccountList})
def list_target_accounts():
    return respond(TargetAccountList, {"items": _accounts().list()})


@bp.get("/<id>", responses={200: TargetAccountOut, **ERRORS})
def get_target_account(path: AccountPath):
    return respond(TargetAccountOut, _accounts().get(path.id))


@bp.put("/<id>", responses={200: TargetAccountOut, **ERRORS})
def update_target_account(path: AccountPath, body: TargetAccountUpdate):
    """Replace an account's role, external id, name and regions; send the `version` you read."""
    return respond(TargetAccountOut, _accounts().update(current_principal(), path.id, body))


@bp.delete("/<id>", responses={200: MessageOut, **ERRORS})
def delete_target_account(path: AccountPath, query: VersionQuery):
    """Forget an account no protection group or plan uses; send the `version` you read."""
    return respond(MessageOut, {"message": _accounts().delete(current_principal(), path.id, query.version)})


@bp.post("/<id>/validate", responses={200: TargetAccountValidation, **ERRORS})
def validate_target_account(path: AccountPath):
    """Assume the role and report what it sees: DR-tagged resources per region. Changes nothing."""
    return respond(TargetAccountValidation, _accounts().validate(path.id))
