"""The API's security settings are checked when the settings are built, not at the first request."""

import pytest
from pydantic import ValidationError

from services.api.settings import ApiSettings


def test_the_default_rate_limit_is_600_a_minute():
    assert ApiSettings().rate_limit == "600/minute"


@pytest.mark.parametrize("limit", ["lots", "600/fortnight", ""])
def test_a_rate_limit_that_does_not_parse_is_refused(limit):
    with pytest.raises(ValidationError, match="rate limit"):
        ApiSettings(rate_limit=limit)


def test_oidc_needs_an_audience():
    with pytest.raises(ValidationError, match="DRWAVE_OIDC_AUDIENCE"):
        ApiSettings(oidc_issuer="https://login.example.com")


def test_the_role_map_is_json_of_group_to_role(monkeypatch):
    monkeypatch.setenv("DRWAVE_OIDC_ROLE_MAP", '{"sre": "operator", "leads": "recovery-manager"}')
    assert {g: r.value for g, r in ApiSettings().oidc_role_map.items()} == {
        "sre": "operator",
        "leads": "recovery-manager",
    }
    monkeypatch.setenv("DRWAVE_OIDC_ROLE_MAP", '{"sre": "root"}')
    with pytest.raises(ValidationError):
        ApiSettings()


def test_extra_regions_are_comma_separated(monkeypatch):
    monkeypatch.setenv("DRWAVE_EXTRA_REGIONS", "local-east-1, moon-west-2")
    assert ApiSettings().extra_regions == ["local-east-1", "moon-west-2"]
