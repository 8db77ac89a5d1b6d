"""Settings read from the environment, with safe production defaults.

Demo mode (``SHUDI_DEMO=1``, set by the quick-start command) is the only mode with a default
secret key and demo users; production refuses to start without ``SECRET_KEY``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_SECRET = "shudi-demo-secret-not-for-production"


class ConfigError(RuntimeError):
    pass


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    database_url: str
    secret_key: str
    demo_mode: bool = False
    processes_dir: Path = ROOT / "processes"
    forms_dir: Path = ROOT / "forms"
    catalog_dir: Path = ROOT / "catalog"
    var_dir: Path = ROOT / "var"
    token_max_age_seconds: int = 12 * 3600
    # Timer worker: the longest it sleeps between looks at the database.
    worker_max_sleep: float = 1.0
    timer_max_attempts: int = 5
    timer_retry_base_seconds: float = 2.0
    upload_max_bytes: int = 10 * 1024 * 1024
    # Files of forms never submitted successfully are deleted after this long (the worker prunes hourly).
    upload_retention_hours: float = 24.0
    testing: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        demo = _flag(env.get("SHUDI_DEMO"))
        var_dir = Path(env.get("SHUDI_VAR_DIR", ROOT / "var"))
        url = env.get("DATABASE_URL")
        if not url:
            if not demo and not overrides.get("testing"):
                raise ConfigError("DATABASE_URL is not set (only demo mode defaults to a SQLite file)")
            url = f"sqlite:///{var_dir / 'shudi.sqlite3'}"
        secret = env.get("SECRET_KEY")
        if not secret:
            if not demo and not overrides.get("testing"):
                raise ConfigError("SECRET_KEY is not set (only demo mode has a default secret)")
            secret = DEMO_SECRET
        settings = cls(database_url=normalise_database_url(url), secret_key=secret, demo_mode=demo, var_dir=var_dir)
        if env.get("SHUDI_UPLOAD_RETENTION_HOURS"):
            try:
                settings.upload_retention_hours = float(env["SHUDI_UPLOAD_RETENTION_HOURS"])
            except ValueError:
                raise ConfigError("SHUDI_UPLOAD_RETENTION_HOURS must be a number of hours") from None
        for key, value in overrides.items():
            setattr(settings, key, value)
        return settings


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (psycopg2 is not installed)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
