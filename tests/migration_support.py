"""Shared checks for migration tests: the tables a revision creates match the models exactly,
and the revision goes up and down, on SQLite and on a scratch PostgreSQL database."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from service.config import normalise_database_url
from service.db import Base


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def differences(url: str, table_names: set[str]) -> list:
    """Alembic's model-vs-database differences that concern ``table_names``."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    return [d for d in diffs if _table_of(d) in table_names]


def _table_of(diff) -> str:
    kind, *rest = diff[0] if isinstance(diff, list) else diff  # modify_* diffs come as lists
    if kind.endswith("_table"):
        return rest[0].name
    if kind.endswith("_column") or kind.startswith("modify_"):
        return rest[1]
    return rest[0].table.name  # an index or a constraint


def execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


@contextmanager
def scratch_postgres(prefix: str):
    """A throw-away database beside TEST_DATABASE_URL's, dropped afterwards."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgres"):
        pytest.skip("needs TEST_DATABASE_URL=postgresql://…")
    base_url = make_url(normalise_database_url(base))
    scratch = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        yield base_url.set(database=scratch).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        admin.dispose()
