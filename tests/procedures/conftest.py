"""Fixtures of the procedure scenarios: the demo county (load_demo) with processes/ and forms/
deployed as they ship, and the scenario vocabulary shared by the catalog-change and admission tests."""
from __future__ import annotations

import pytest

from service.config import ROOT
from service.worker import TimerWorker

DEMO_PASSWORD = "demo1234"


@pytest.fixture
def county(core):
    """沂河县 of catalog/*.yaml (catalog version 1 in force since 2026-01-01) with every shipped
    procedure deployed; demo users log in with the demo password."""
    from service.demo import load_demo
    from service.services.deployments import deploy, read_folder

    load_demo(core)
    bpmn, forms = read_folder(ROOT / "processes", ROOT / "forms")
    with core.uow() as uow:
        deployed = deploy(core, uow.session, bpmn, forms, deployed_by="test")
        uow.commit()
    return {d.key: d for d in deployed}


@pytest.fixture
def demo_api(api):
    """The HTTP client, logging demo users in with the demo password."""
    original = api.login

    def login(username: str, password: str = DEMO_PASSWORD) -> str:
        return original(username, password)

    api.login = login
    return api


@pytest.fixture
def timers(core):
    """Fire every timer due at the manual clock's time: ``timers()`` returns how many instances stepped."""
    worker = TimerWorker(core, name="test-worker")
    return worker.run_once
