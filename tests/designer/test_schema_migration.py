"""Migration 0005 creates the designer's tables exactly as the models declare them and removes them
again, on SQLite and (with TEST_DATABASE_URL) on a scratch PostgreSQL database."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from service.config import normalise_database_url
from service.db import Base
from service.migrations import downgrade, upgrade

TABLES = {"designer_draft", "instance_migration"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    return [d for d in diffs if _table_of(d) in TABLES]


def _table_of(diff) -> str:
    kind, *rest = diff[0] if isinstance(diff, list) else diff  # modify_* diffs come as lists
    if kind.endswith("_table"):
        return rest[0].name
    if kind.endswith("_column") or kind.startswith("modify_"):
        return rest[1]
    return rest[0].table.name  # an index or a constraint


def _execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _round_trip(url: str) -> None:
    upgrade(url, "0004")
    assert not TABLES & _tables(url)
    upgrade(url, "0005")
    assert TABLES <= _tables(url)
    assert _differences(url) == []
    _execute(url, "DROP INDEX ix_instance_migration_migrated_at")  # the comparison does notice drift
    assert [d[0] for d in _differences(url)] == ["add_index"]
    _execute(url, "CREATE INDEX ix_instance_migration_migrated_at ON instance_migration (migrated_at)")
    downgrade(url, "0004")
    assert not TABLES & _tables(url)
    assert {"process_definition", "process_instance"} <= _tables(url)
    upgrade(url, "head")
    assert TABLES <= _tables(url)


def test_migration_0005_upgrades_and_downgrades_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")


@pytest.mark.postgres
def test_migration_0005_upgrades_and_downgrades_on_postgresql():
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgres"):
        pytest.skip("needs TEST_DATABASE_URL=postgresql://…")
    base_url = make_url(normalise_database_url(base))
    scratch = f"shudi_designer_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        _round_trip(base_url.set(database=scratch).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        admin.dispose()
