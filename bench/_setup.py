"""Shared set-up for the benchmarks: a fresh database with the test county and the test diagram."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from service.config import Settings, normalise_database_url
from service.core import Core
from service.migrations import upgrade
from service.models import Unit
from service.services import auth
from service.services.auth import create_user
from service.services.deployments import deploy, read_folder

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PASSWORD = "password123"

# The four user tasks of simple_call on its "call the county" path, with who does them.
STEPS = [
    ("t01_office", {"call_county": True, "dept": "zjj", "description": "工地渣土遗撒"}),
    ("zjj_contact", {"receiver": "张三"}),
    ("zjj_contact", {"result": "已清扫并处罚"}),
    ("t01_office", {"rating": "满意"}),
]


def database_urls() -> dict[str, str]:
    sqlite = f"sqlite:///{tempfile.mkdtemp(prefix='shudi-bench-')}/bench.sqlite3"
    pg = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/shudi_bench")
    return {"SQLite": sqlite, "PostgreSQL": normalise_database_url(pg)}


def fresh_core(url: str) -> Core:
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
    if url.startswith("postgresql"):
        admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    upgrade(url)
    auth.PASSWORD_METHOD = "pbkdf2:sha256:1000"
    core = Core(Settings(database_url=url, secret_key="bench", testing=True,
                         forms_dir=FIXTURES / "forms", processes_dir=FIXTURES / "bpmn"))
    with core.uow() as uow:
        s = uow.session
        t01 = Unit(code="t01", name="沂河街道", kind="township")
        s.add_all([t01, Unit(code="t01-dzb", name="沂河街道党政办公室", kind="township_office", parent=t01),
                   Unit(code="zjj", name="县住房和城乡建设局", kind="county_department")])
        s.flush()
        for username, unit, roles in [("t01_office", "t01-dzb", ["township_office"]),
                                      ("zjj_contact", "zjj", ["department"]), ("admin", None, ["admin"])]:
            create_user(s, username=username, password=PASSWORD, unit_code=unit, roles=roles)
        bpmn, forms = read_folder(FIXTURES / "bpmn", FIXTURES / "forms")
        deploy(core, s, bpmn, forms, deployed_by="bench")
        uow.commit()
    return core
