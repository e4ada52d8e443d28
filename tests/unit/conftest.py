"""Unit-suite fixtures."""

from __future__ import annotations

import os
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


@pytest.fixture
def hermetic_aws_environment(monkeypatch, tmp_path) -> None:
    """No AWS setting of the machine reaches the test: no endpoint, profile, key or metadata lookup."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
