"""Which account a request belongs to, the way moto decides it.

moto maps an access key to an account through its IAM backends: keys handed out by
``sts.assume_role`` belong to the role's account, every other key to the default account. We reuse
that so that moto and our own emulators (DRS, Aurora) always agree.
"""

from __future__ import annotations

import re

_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")


def access_key_of(authorization: str | None) -> str | None:
    """The access key id in a SigV4 ``Authorization`` header."""
    if not authorization:
        return None
    match = _ACCESS_KEY.search(authorization)
    return match.group(1) if match else None


def account_for_access_key(access_key: str | None, default_account: str) -> str:
    """The account moto associates with ``access_key``, or ``default_account`` for unknown keys."""
    if not access_key:
        return default_account
    from moto.iam.models import iam_backends

    # list(): other threads may add accounts while we look (moto does the same, issue #5881).
    for account_id, account in list(iam_backends.items()):
        for partition in list(account.keys()):
            if access_key in account[partition].access_keys:
                return account_id
    return default_account
