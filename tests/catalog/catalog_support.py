"""Fixtures and helpers of the catalog tests (imported by each module: a second conftest.py
would shadow the root one's ``from conftest import …``)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from service.demo import DEMO_PASSWORD, load_demo
from service.domain.catalog import create_version, get_version, publish_version, version_content
from service.domain.catalog_io import read_yaml
from service.models import CatalogItem, CatalogVersion, DirectoryContact

__all__ = ["demo", "client", "DEMO_PASSWORD", "count_queries", "catalog_rows", "new_version",
           "demo_usernames", "item_dict", "run_lookup"]
LOOKUP_BPMN = Path(__file__).parent / "fixtures" / "catalog_lookup.bpmn"
RECEIVE_FORM = Path(__file__).parent.parent / "fixtures" / "forms" / "receive.json"


@pytest.fixture
def demo(core):
    """The demo county of catalog/*.yaml: units, users, catalog version 1 (published) and directory."""
    return load_demo(core)


@pytest.fixture
def client(core):
    from service.app import create_app

    return create_app(core=core).test_client()


@contextmanager
def count_queries(core):
    """Counts the SQL statements run meanwhile: ``with count_queries(core) as n: ...; n[0]``."""
    counter = [0]

    def _count(*_args):
        counter[0] += 1

    event.listen(core.db.engine, "before_cursor_execute", _count)
    try:
        yield counter
    finally:
        event.remove(core.db.engine, "before_cursor_execute", _count)


def catalog_rows(core) -> tuple[int, int, int]:
    """(versions, items, contacts) in the database."""
    with core.uow() as uow:
        s = uow.session
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (CatalogVersion, CatalogItem,
                                                                             DirectoryContact))


def item_dict(core, code: str, version: int = 1) -> dict:
    """Item ``code`` of ``version`` as plain values, ready to be changed and submitted."""
    with core.uow() as uow:
        items, _ = version_content(uow.session, get_version(uow.session, version))
    return next(i for i in items if i.code == code).as_dict()


def new_version(core, *, publish_on: date | None = None, today: date = date(2026, 3, 2), **kwargs) -> int:
    """Create (and optionally publish) a version from version 1; returns its number."""
    kwargs.setdefault("source", "import")
    with core.uow() as uow:
        version = create_version(uow.session, 1, **kwargs)
        if publish_on:
            publish_version(uow.session, version.number, today=today, effective_date=publish_on)
        uow.commit()
        return version.number


def run_lookup(core):
    """Deploy and start fixtures/catalog_lookup.bpmn as admin: a script task and a user task's
    candidate unit and deadline call the catalog helpers. Returns the instance."""
    from service.models import ProcessInstance, User
    from service.services.deployments import deploy
    from service.services.instances import start_instance

    with core.uow() as uow:
        deploy(core, uow.session, {LOOKUP_BPMN.name: LOOKUP_BPMN.read_text(encoding="utf-8")},
               {RECEIVE_FORM.name: RECEIVE_FORM.read_text(encoding="utf-8")}, deployed_by="test")
        admin = uow.session.scalars(select(User).where(User.username == "admin")).one()
        instance, _ = start_instance(core, uow.session, admin, "catalog_lookup", {})
        uow.commit()
        return uow.session.get(ProcessInstance, instance.id)


def demo_usernames(core) -> set[str]:
    _, _, _, contacts = read_yaml(core.settings.catalog_dir)
    staff = {"admin", "designer", "supervisor", "bb_reviewer", "sfj_reviewer", "city_bb", "city_sfj", "leader"}
    return {c["username"] for c in contacts} | staff | {f"t{n:02d}_grid" for n in range(1, 14)}
