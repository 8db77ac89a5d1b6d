"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
a real HTTP server on 127.0.0.1, a manual clock, demo-like units and users."""
from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import text
from werkzeug.serving import make_server

from service.config import Settings, normalise_database_url
from service.core import Core
from service.db import Base
from service.engine import clock as clock_module
from service.engine.clock import ManualClock
from service.migrations import upgrade

FIXTURES = Path(__file__).parent / "fixtures"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "password123"


def _test_database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _drop_everything(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    from service.services import auth

    auth.PASSWORD_METHOD = "pbkdf2:sha256:1000"


@pytest.fixture(autouse=True)
def task_projection_matches_the_workflow(monkeypatch):
    """Throughout the suite, after every save the task projection holds exactly the workflow's
    open human tasks: the store diffs against what the engine saw open before the step instead
    of reading the projection back, and this catches any drift between the two."""
    from sqlalchemy import select

    from service.engine.store import InstanceStore
    from service.models import HumanTask

    original = InstanceStore.save

    def checked_save(self, instance, workflow, step, actor):
        new_tasks = original(self, instance, workflow, step, actor)
        stored = set(self.session.connection().execute(
            select(HumanTask.id).where(HumanTask.instance_id == instance.id)).scalars())
        assert stored == {t.id for t in self.engine.open_tasks(workflow)}, "task projection drifted"
        return new_tasks

    monkeypatch.setattr(InstanceStore, "save", checked_save)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = _test_database_url(tmp_path_factory)
    _drop_everything(url)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory):
    return Settings(database_url=database_url, secret_key="test-secret", testing=True,
                    forms_dir=FIXTURES / "forms", processes_dir=FIXTURES / "bpmn",
                    var_dir=tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="session")
def session_core(settings):
    core = Core(settings)
    yield core
    core.close()


def wipe(core: Core) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with core.db.engine.begin() as conn:
        if core.db.is_postgres:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    core.engine.reset_caches()
    core.calendar.reload()


@pytest.fixture
def clock():
    """Monday 2026-03-02 09:00 Beijing time; tests move it, nobody sleeps."""
    manual = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    previous = clock_module.get_clock()
    clock_module.set_clock(manual)
    yield manual
    clock_module.set_clock(previous)


@pytest.fixture
def core(session_core, clock):
    wipe(session_core)
    yield session_core


@pytest.fixture
def users(core):
    """A small county: two townships' offices, two departments, the supervision office."""
    from service.models import Unit
    from service.services.auth import create_user

    with core.uow() as uow:
        s = uow.session
        t01 = Unit(code="t01", name="沂河街道", kind="township")
        t02 = Unit(code="t02", name="青驼镇", kind="township")
        s.add_all([t01, t02,
                   Unit(code="t01-dzb", name="沂河街道党政办公室", kind="township_office", parent=t01),
                   Unit(code="t02-dzb", name="青驼镇党政办公室", kind="township_office", parent=t02),
                   Unit(code="zjj", name="县住房和城乡建设局", short_name="县住建局", kind="county_department"),
                   Unit(code="sthj", name="市生态环境局沂河分局", short_name="县生态环境分局", kind="county_department"),
                   Unit(code="county_dcs", name="县委县政府督查室", kind="county_office")])
        s.flush()
        made = {}
        for username, unit, roles in [
            ("admin", None, ["admin"]),
            ("designer", None, ["designer"]),
            ("t01_office", "t01-dzb", ["township_office"]),
            ("t02_office", "t02-dzb", ["township_office"]),
            ("zjj_contact", "zjj", ["department"]),
            ("sthj_contact", "sthj", ["department"]),
            ("supervisor", "county_dcs", ["supervision"]),
        ]:
            made[username] = create_user(s, username=username, password=PASSWORD, display_name=username,
                                         unit_code=unit, roles=roles).id
        uow.commit()
    return made


@pytest.fixture
def deployed(core, users):
    from service.services.deployments import deploy, read_folder

    bpmn, forms = read_folder(FIXTURES / "bpmn", FIXTURES / "forms")
    with core.uow() as uow:
        results = deploy(core, uow.session, bpmn, forms, deployed_by="test")
        uow.commit()
    return {r.key: r for r in results}


@pytest.fixture
def add_user(core, users):
    """One more user of the small county: ``add_user("t01_office2", "t01-dzb", ["township_office"])``."""
    from service.services.auth import create_user

    def add(username: str, unit_code: str | None, roles: list[str], display_name: str | None = None) -> int:
        with core.uow() as uow:
            user_id = create_user(uow.session, username=username, password=PASSWORD, display_name=display_name,
                                  unit_code=unit_code, roles=roles).id
            uow.commit()
        return user_id

    return add


@pytest.fixture
def showcase(deployed, core):
    """Also deploys fixtures/showcase: 现场核查 (form_showcase), a township procedure whose forms use
    every widget, whose BPMN has no drawing, and whose reminder timer fails when reminder_every is 0."""
    from service.services.deployments import deploy, read_folder

    bpmn, forms = read_folder(FIXTURES / "showcase" / "bpmn", FIXTURES / "showcase" / "forms")
    with core.uow() as uow:
        deploy(core, uow.session, bpmn, forms, deployed_by="test")
        uow.commit()
    return "form_showcase"


class ApiClient:
    """A real HTTP client against the server on 127.0.0.1, one bearer token per user."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        self._tokens: dict[str, str] = {}

    def login(self, username: str, password: str = PASSWORD) -> str:
        response = self.http.post(f"{self.base_url}/api/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self._tokens[username] = response.json()["token"]
        return self._tokens[username]

    def request(self, method: str, path: str, as_user: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if as_user:
            if as_user not in self._tokens:
                self.login(as_user)
            headers["Authorization"] = f"Bearer {self._tokens[as_user]}"
        return self.http.request(method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs)

    def get(self, path, as_user=None, **kw):
        return self.request("GET", path, as_user, **kw)

    def post(self, path, as_user=None, **kw):
        return self.request("POST", path, as_user, **kw)

    # The scenario vocabulary of the tests.
    def start(self, as_user, process_key, data=None, business_key=None):
        return self.post("/api/process-instances", as_user,
                         json={"process_key": process_key, "data": data or {}, "business_key": business_key})

    def tasks(self, as_user, **params):
        response = self.get("/api/tasks", as_user, params={"mine": "true", **params})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def complete(self, as_user, task_id, data):
        return self.post(f"/api/tasks/{task_id}/complete", as_user, json={"data": data})


@pytest.fixture(scope="session")
def server(session_core):
    from service.app import create_app

    app = create_app(core=session_core)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture
def api(server, core):
    client = ApiClient(server)
    yield client
    client.http.close()
