"""deploy/compose.yml is parsed and checked (there is no Docker engine to run it here)."""

from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).parents[2] / "deploy" / "compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_runs_every_drwave_service_and_its_dependencies():
    assert {"postgres", "redis", "api", "scheduler", "workers", "flower", "migrate"} <= set(SERVICES)


def test_redis_keeps_an_append_only_file_and_never_evicts_tasks():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_the_api_runs_under_gunicorn_with_the_app_factory():
    command = SERVICES["api"]["command"]
    assert command[0] == "gunicorn" and command[-1] == "services.api.app:create_app()"


def test_gunicorn_takes_its_worker_count_from_the_api_settings(monkeypatch):
    import importlib

    command = SERVICES["api"]["command"]
    assert command[command.index("--config") + 1] == "python:services.api.gunicorn_conf"
    assert "--workers" not in command and "-w" not in command
    monkeypatch.setenv("DRWAVE_API_WORKERS", SERVICES["api"]["environment"]["DRWAVE_API_WORKERS"])
    import services.api.gunicorn_conf as conf

    assert importlib.reload(conf).workers == 4


def test_scheduler_and_workers_run_their_composition_roots():
    assert SERVICES["scheduler"]["command"] == ["python", "-m", "services.scheduler"]
    assert SERVICES["workers"]["command"] == ["python", "-m", "services.workers"]


def test_flower_requires_basic_auth():
    assert any(part.startswith("--basic_auth=") for part in SERVICES["flower"]["command"])


def test_every_drwave_service_is_pointed_at_the_compose_postgres_and_redis():
    for name in ("api", "scheduler", "workers", "flower", "migrate"):
        env = SERVICES[name]["environment"]
        assert "@postgres:5432/drwave" in env["DRWAVE_DATABASE_URL"], name
        assert env["DRWAVE_REDIS_URL"] == "redis://redis:6379/0", name


def test_services_wait_for_migrations_before_starting():
    for name in ("api", "scheduler", "workers"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_every_service_restarts_when_it_exits_and_the_one_shot_migrate_only_when_it_fails():
    for name, service in SERVICES.items():
        expected = "on-failure" if name == "migrate" else "unless-stopped"
        assert service.get("restart") == expected, name


def test_gunicorn_logs_in_the_format_of_drwave_log_format(monkeypatch):
    import importlib

    import services.api.gunicorn_conf as conf

    monkeypatch.setenv("DRWAVE_LOG_FORMAT", "json")
    handler = importlib.reload(conf).logconfig_dict["handlers"]["drwave"]
    assert handler == {"()": "shared.logs.handler", "log_format": "json"}
    assert conf.logconfig_dict["loggers"]["gunicorn.access"] == {"level": "INFO", "handlers": [], "propagate": True}
    monkeypatch.delenv("DRWAVE_LOG_FORMAT")
    importlib.reload(conf)


def test_the_commands_name_modules_that_exist():
    root = Path(__file__).parents[2]
    assert (root / "services" / "scheduler" / "__main__.py").exists()
    assert (root / "services" / "workers" / "__main__.py").exists()
    assert (root / "deploy" / "Dockerfile").exists()
    assert (root / "services" / "api" / "gunicorn_conf.py").exists()


def test_the_api_serves_with_threaded_workers_configured_from_settings():
    command = SERVICES["api"]["command"]
    assert command[command.index("--config") + 1] == "python:services.api.gunicorn_conf"
    assert SERVICES["api"]["environment"]["DRWAVE_API_THREADS"].isdigit()
