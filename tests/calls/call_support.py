"""Fixtures and the scenario vocabulary of the call procedure's tests (imported by each module: a
second conftest.py would shadow the root one's ``from conftest import …``).

``county``: the demo county (catalog/*.yaml: units, catalog version 1, directory, users) with
processes/township_call*.bpmn and forms/call_*.json deployed. ``desk``: a ``CallDesk`` that
plays every person of the procedure through the HTTP API and moves the clock.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from service.demo import DEMO_PASSWORD, load_demo
from service.domain.calendar import SHANGHAI
from service.models import CallRecord
from service.services.deployments import deploy
from service.worker import TimerWorker

__all__ = ["county", "desk", "CallDesk", "ROOT", "BJ", "SHANGHAI", "call_files", "GRID", "TOWNSHIP", "SUPERVISOR",
           "STAFFING", "report_data", "triage_data", "register_data"]

ROOT = Path(__file__).resolve().parents[2]
GRID = "t01_grid"                 # 滨河社区网格员 (沂城街道)
TOWNSHIP = "t01_dzb_liuym"        # 沂城街道党政办公室
SUPERVISOR = "supervisor"         # 县委县政府督查室
STAFFING = "bb_reviewer"          # 县委编办


def BJ(*args) -> datetime:
    """A Beijing wall-clock instant: BJ(2026, 3, 2, 9, 0)."""
    return datetime(*args, tzinfo=SHANGHAI)


def call_files() -> tuple[dict[str, str], dict[str, str]]:
    """The call procedure's diagrams and forms as shipped in processes/ and forms/."""
    bpmn = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "processes").glob("township_call*.bpmn"))}
    forms = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "forms").glob("call_*.json"))}
    return bpmn, forms


@pytest.fixture
def county(core):
    load_demo(core)
    bpmn, forms = call_files()
    with core.uow() as uow:
        deploy(core, uow.session, bpmn, forms, deployed_by="test")
        uow.commit()
    return core


def report_data(**changes) -> dict:
    report = {"place": "滨河社区东侧沟渠", "description": "养殖场粪污直排沟渠，气味刺鼻",
              "found_at": "2026-03-02T08:30:00+08:00", "onsite_action": "已当场劝告制止，养殖户暂停排放", "photos": []}
    report.update(changes)
    return {"report": report}


def triage_data(item_code: str = "SD-001", decision: str = "呼叫县级部门", **report_changes) -> dict:
    return {**report_data(**report_changes), "item_code": item_code, "decision": decision,
            "opinion": "属清单事项，需县级部门执法"}


def register_data() -> dict:
    return {"problem": "养殖场粪污未经处理直排沟渠", "request": "请派员到场执法检查，依法查处"}


class CallDesk:
    """Everyone taking part in calls, through the HTTP API; the clock and the timer worker."""

    def __init__(self, api, core, clock):
        self.api, self.core, self.clock = api, core, clock

    def as_(self, username: str) -> str:
        if username not in self.api._tokens:
            self.api.login(username, DEMO_PASSWORD)
        return username

    # --- the procedure --------------------------------------------------------------------------

    def start(self, username: str = GRID) -> int:
        response = self.api.start(self.as_(username), "township_call")
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def task(self, username: str, element_id: str, instance_id: int) -> dict:
        """The open task ``element_id`` of the instance that ``username`` may act on (exactly one)."""
        found = [t for t in self.api.tasks(self.as_(username), instance_id=instance_id)
                 if t["element_id"] == element_id]
        assert len(found) == 1, (username, element_id, self.open_tasks(instance_id))
        return found[0]

    def open_tasks(self, instance_id: int) -> list[tuple[str, str | None]]:
        """(element id, candidate unit) of every open task of the instance, in creation order."""
        response = self.api.get(f"/api/process-instances/{instance_id}", self.as_("admin"))
        assert response.status_code == 200, response.text
        return [(t["element_id"], t["candidate_unit"]) for t in response.json()["tasks"]]

    def do(self, username: str, element_id: str, instance_id: int, data: dict, status: int = 200) -> dict:
        task = self.task(username, element_id, instance_id)
        response = self.api.complete(self.as_(username), task["id"], data)
        assert response.status_code == status, response.text
        return response.json()

    def try_complete(self, username: str, task_id: str, data: dict):
        return self.api.complete(self.as_(username), task_id, data)

    # --- common stretches -------------------------------------------------------------------------

    def reported(self, item_code: str = "SD-001") -> int:
        """A grid worker's report, triaged as a call for ``item_code`` and registered."""
        instance_id = self.start(GRID)
        self.do(GRID, "report", instance_id, report_data())
        self.do(TOWNSHIP, "triage", instance_id, triage_data(item_code))
        self.do(TOWNSHIP, "register", instance_id, register_data())
        return instance_id

    def receive(self, username: str, instance_id: int, **receipt):
        return self.do(username, "receive", instance_id, {"receipt": {"decision": "签收", **receipt}})

    def handle(self, username: str, instance_id: int, **progress):
        return self.do(username, "handle", instance_id,
                       {"progress": {"measures": "已到场检查，责令停止排放", "next": "办理完毕", **progress}})

    def close_out(self, username: str, instance_id: int, **closing):
        return self.do(username, "close_out", instance_id,
                       {"closing": {"measures": "立案查处，责令整改", "result": "粪污已清理，设施已整改", **closing}})

    def confirm(self, instance_id: int, rating: str = "满意", reason: str | None = None):
        confirmation = {"rating": rating, **({"reason": reason} if reason else {})}
        return self.do(TOWNSHIP, "confirm", instance_id, {"confirmation": confirmation})

    # --- time -------------------------------------------------------------------------------------

    def at(self, moment: datetime) -> int:
        """Move the clock to ``moment`` and fire every timer due by then."""
        self.clock.set(moment)
        return TimerWorker(self.core, name="test-worker").run_once()

    # --- what the ledger says ---------------------------------------------------------------------

    def row(self, instance_id: int) -> CallRecord:
        with self.core.uow() as uow:
            call = uow.session.scalars(select(CallRecord).where(CallRecord.instance_id == instance_id)).one()
            call.events, call.ratings  # noqa: B018 - load before the session closes
            uow.session.expunge_all()  # keep the loaded values readable afterwards
            return call

    def ledger(self, instance_id: int, username: str = "admin") -> dict:
        response = self.api.get("/api/calls", self.as_(username), params={"instance_id": instance_id})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert len(items) == 1, items
        detail = self.api.get(f"/api/calls/{items[0]['id']}", self.as_(username))
        assert detail.status_code == 200, detail.text
        return detail.json()

    def instance_events(self, instance_id: int, kind: str | None = None) -> list[dict]:
        response = self.api.get(f"/api/process-instances/{instance_id}/events", self.as_("admin"))
        assert response.status_code == 200, response.text
        return [e for e in response.json()["items"] if kind is None or e["kind"] == kind]


@pytest.fixture
def desk(county, api, clock):
    return CallDesk(api, county, clock)
