"""Unit-suite fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.loaders
import botocore.session
import pytest


@pytest.fixture(autouse=True, scope="session")
def one_botocore_data_loader() -> Iterator[None]:
    """Every botocore session of the unit suite reads AWS's bundled service models through one loader.

    Each new session otherwise parses the same JSON models again (about half a second a test that
    builds clients); the loader only caches the files botocore ships, so no test sees another's state.
    SessionFactory shares its base loader with its role sessions for the same reason.
    """
    loader = botocore.loaders.create_loader()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda _search_path=None: loader)
        yield
