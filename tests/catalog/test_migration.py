"""Migration 0002 creates the catalog tables exactly as the models declare them and removes them
again, on SQLite and (with TEST_DATABASE_URL) on a scratch PostgreSQL database."""
from __future__ import annotations

import pytest

from migration_support import differences, execute, scratch_postgres, tables
from service.migrations import downgrade, upgrade

CATALOG_TABLES = {"catalog_version", "catalog_item", "catalog_item_unit", "directory_contact"}


def _round_trip(url: str) -> None:
    upgrade(url, "0001")
    assert not CATALOG_TABLES & tables(url)
    upgrade(url, "0002")
    assert CATALOG_TABLES <= tables(url)
    assert differences(url, CATALOG_TABLES) == []
    execute(url, "DROP INDEX ix_catalog_item_code")  # the comparison does notice a drifted schema
    assert [d[0] for d in differences(url, CATALOG_TABLES)] == ["add_index"]
    execute(url, "CREATE INDEX ix_catalog_item_code ON catalog_item (code)")
    downgrade(url, "0001")
    present = tables(url)
    assert not CATALOG_TABLES & present
    assert {"unit", "user_account", "process_instance"} <= present
    upgrade(url, "head")
    assert CATALOG_TABLES <= tables(url)


def test_migration_0002_upgrades_and_downgrades_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")


@pytest.mark.postgres
def test_migration_0002_upgrades_and_downgrades_on_postgresql():
    with scratch_postgres("shudi_migration") as url:
        _round_trip(url)
