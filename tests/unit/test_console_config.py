"""Where the CLI finds its API: profiles under XDG_CONFIG_HOME or HOME (mode 0600), env variables."""

import stat

import pytest

from services.console.cli.app import handles
from services.console.cli.config import DEFAULT_URL, config_path, resolve_target, save_profile


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "DRWAVE_URL", "DRWAVE_TOKEN", "_DRWAVE_COMPLETE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_config_lives_under_home_or_xdg_config_home(home, monkeypatch):
    assert config_path() == home / ".config" / "drwave" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg"))
    assert config_path() == home / "xdg" / "drwave" / "config.toml"


def test_a_saved_profile_is_readable_only_by_its_owner_even_if_the_file_was_open_before():
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("")
    path.chmod(0o644)
    save_profile("default", "http://a:1/", "drw_a")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_new_config_directory_is_private():
    path = save_profile("default", "http://a:1", "drw_a")
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert "drw_a" in path.read_text()


def test_without_anything_the_client_talks_to_the_local_api():
    target = resolve_target(None)
    assert (target.url, target.token) == (DEFAULT_URL, None)


def test_environment_variables_win_over_the_default_profile(monkeypatch):
    save_profile("default", "http://saved:1", "drw_saved")
    assert (resolve_target(None).url, resolve_target(None).token) == ("http://saved:1", "drw_saved")
    monkeypatch.setenv("DRWAVE_URL", "http://env:2")
    monkeypatch.setenv("DRWAVE_TOKEN", "drw_env")
    assert (resolve_target(None).url, resolve_target(None).token) == ("http://env:2", "drw_env")


def test_a_named_profile_wins_over_the_environment_and_an_unknown_one_is_refused(monkeypatch):
    save_profile("night", "http://night:3", "drw_night")
    monkeypatch.setenv("DRWAVE_URL", "http://env:2")
    assert resolve_target("night").url == "http://night:3"
    with pytest.raises(LookupError, match="no profile 'day'"):
        resolve_target("day")


def test_client_commands_are_told_apart_from_run_tokens_and_migrate(monkeypatch):
    assert handles(["exec", "list"]) and handles(["--profile", "x", "plans", "list"])
    assert handles(["--profile=x", "exec"])
    assert not handles(["run"]) and not handles(["tokens", "create"]) and not handles([])
    monkeypatch.setenv("_DRWAVE_COMPLETE", "bash_complete")
    assert handles([])
