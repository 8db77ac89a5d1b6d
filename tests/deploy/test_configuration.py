"""Configuration is safe by default, and the compose file names the right commands."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from service.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_production_refuses_to_start_without_a_database_url():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env({"SECRET_KEY": "s"})


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"DATABASE_URL": "postgresql://x@db/shudi"})


def test_demo_mode_defaults_to_a_sqlite_file_under_var(tmp_path):
    settings = Settings.from_env({"SHUDI_DEMO": "1", "SHUDI_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'shudi.sqlite3'}"
    assert settings.demo_mode is True


def test_plain_postgresql_urls_use_psycopg3():
    settings = Settings.from_env({"DATABASE_URL": "postgres://u@h/db", "SECRET_KEY": "s"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.demo_mode is False


def test_demo_loading_is_refused_outside_demo_mode(monkeypatch):
    from click.testing import CliRunner

    from service.cli import main

    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.delenv("SHUDI_DEMO", raising=False)
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code != 0
    assert "演示模式" in result.output


def test_compose_file_runs_postgres_web_and_worker_with_healthchecks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"db", "web", "worker", "migrate"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert "pgdata" in compose["volumes"] and any("pgdata:" in v for v in services["db"]["volumes"])
    assert services["web"]["command"][0] == "gunicorn" and "service.wsgi:app" in services["web"]["command"]
    assert services["worker"]["command"] == ["shudi", "worker"]
    assert "shudi db upgrade" in " ".join(services["migrate"]["command"])
    for name in ("db", "web", "worker"):
        assert "healthcheck" in services[name], name
    env = services["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://") and "@db:5432/" in env["DATABASE_URL"]
    assert "SECRET_KEY" in env and "SHUDI_DEMO" not in env
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # Attachments outlive containers, and the worker that prunes them sees the web server's files.
    assert "files" in compose["volumes"]
    assert "files:/app/var" in services["web"]["volumes"] and "files:/app/var" in services["worker"]["volumes"]
    # Published only on the host's loopback.
    assert all(p.startswith("127.0.0.1:") for p in services["web"]["ports"])


def test_every_compose_command_exists_in_the_cli():
    from click.testing import CliRunner

    from service.cli import main

    for args in (["worker", "--help"], ["db", "upgrade", "--help"], ["deploy", "--help"], ["serve", "--help"],
                 ["uploads", "prune", "--help"]):
        assert CliRunner().invoke(main, args).exit_code == 0, args


def test_migrations_upgrade_and_downgrade_cleanly(tmp_path):
    from sqlalchemy import create_engine, inspect

    from service.migrations import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"process_instance", "human_task", "instance_event", "process_definition", "user_account"} <= tables
    downgrade(url, "base")
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}
