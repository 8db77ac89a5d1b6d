"""Migration 0005 creates the designer's tables exactly as the models declare them and removes them
again, on SQLite and (with TEST_DATABASE_URL) on a scratch PostgreSQL database."""
from __future__ import annotations

import pytest

from migration_support import differences, execute, scratch_postgres, tables
from service.migrations import downgrade, upgrade

TABLES = {"designer_draft", "instance_migration"}


def _round_trip(url: str) -> None:
    upgrade(url, "0004")
    assert not TABLES & tables(url)
    upgrade(url, "0005")
    assert TABLES <= tables(url)
    assert differences(url, TABLES) == []
    execute(url, "DROP INDEX ix_instance_migration_migrated_at")  # the comparison does notice drift
    assert [d[0] for d in differences(url, TABLES)] == ["add_index"]
    execute(url, "CREATE INDEX ix_instance_migration_migrated_at ON instance_migration (migrated_at)")
    downgrade(url, "0004")
    assert not TABLES & tables(url)
    assert {"process_definition", "process_instance"} <= tables(url)
    upgrade(url, "head")
    assert TABLES <= tables(url)


def test_migration_0005_upgrades_and_downgrades_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")


@pytest.mark.postgres
def test_migration_0005_upgrades_and_downgrades_on_postgresql():
    with scratch_postgres("shudi_designer") as url:
        _round_trip(url)
