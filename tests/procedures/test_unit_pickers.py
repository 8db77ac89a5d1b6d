"""Form fields that pick units take their choices from the county's unit table (``x-units``), not
from a list frozen into the form: the admission application lists this county's townships, the
arbitration's 改派 lists its departments, a unit added today is offered today, and the server
refuses a code that is no such unit — on the API as well as on the page."""
from __future__ import annotations

import json

import pytest

from service.config import ROOT
from service.domain import form_choices
from service.errors import Invalid
from service.models import Unit
from service.services.deployments import deploy, read_folder

from .test_admission import DEPARTMENT, application
from .test_admission_pages import Browser


def _task(api, user, element):
    return next(t for t in api.tasks(user) if t["element_id"] == element)


@pytest.fixture
def application_task(demo_api, county):
    response = demo_api.start(DEPARTMENT, "temporary_task_admission")
    assert response.status_code == 201, response.text
    return _task(demo_api, DEPARTMENT, "adm_apply")


def test_the_admission_form_offers_the_townships_of_the_unit_table(demo_api, core, application_task):
    schema = demo_api.get(f"/api/tasks/{application_task['id']}", DEPARTMENT).json()["form"]["schema"]
    items = schema["properties"]["townships"]["items"]
    with core.uow() as uow:
        townships = uow.session.query(Unit.code, Unit.short_name, Unit.name).filter(Unit.kind == "township") \
            .order_by(Unit.id).all()
    assert items["enum"] == [code for code, _, _ in townships] and len(townships) == 13
    assert items["enumNames"] == [short or name for _, short, name in townships]

    # A township set up today is offered at once: no form edit, no deployment.
    with core.uow() as uow:
        uow.session.add(Unit(code="t14", name="新设街道", kind="township"))
        uow.commit()
    schema = demo_api.get(f"/api/tasks/{application_task['id']}", DEPARTMENT).json()["form"]["schema"]
    assert schema["properties"]["townships"]["items"]["enum"][-1] == "t14"


def test_an_application_naming_no_township_of_the_county_is_refused_and_changes_nothing(demo_api, application_task):
    for townships in (["t99"], ["zjj"]):          # unknown; a department is no township
        response = demo_api.complete(DEPARTMENT, application_task["id"],
                                     {"townships": townships, "application": application()})
        assert response.status_code == 422, response.text
        assert response.json()["errors"]["townships.0"] == ["「承接的乡镇（街道）」应从列表中选择现有的乡镇（街道）"]
    assert _task(demo_api, DEPARTMENT, "adm_apply")["id"] == application_task["id"]


def test_the_application_page_shows_township_names_to_tick(server, application_task):
    page = Browser(server, DEPARTMENT).get(f"/tasks/{application_task['id']}")
    assert page.status_code == 200
    assert 'value="t01"' in page.text and "沂城街道" in page.text and "白沙乡" in page.text


def test_deploy_refuses_a_unit_picker_of_an_unknown_kind_naming_the_form(core, county):
    bpmn, forms = read_folder(ROOT / "processes", ROOT / "forms")
    schema = json.loads(forms["admission_apply.json"])
    schema["properties"]["townships"]["items"]["x-units"] = ["town"]
    forms["admission_apply.json"] = json.dumps(schema, ensure_ascii=False)
    with core.uow() as uow, pytest.raises(Invalid) as refused:
        deploy(core, uow.session, bpmn, forms, deployed_by="test")
    problems = [p for p in refused.value.errors if p["file"] == "admission_apply.json"]
    assert problems and "未知的单位类别 town" in problems[0]["message"]
    assert problems[0]["element_id"] == "adm_apply"


def test_a_unit_picker_only_marks_text_fields():
    assert form_choices.problems({"type": "object", "properties": {"n": {"type": "integer", "x-units": ["township"]}}})
    assert form_choices.problems({"type": "object", "properties": {"n": {"type": "string", "x-units": []}}})
    assert form_choices.problems({"type": "object", "properties": {"n": {"type": "string", "x-units": "township"}}}) == []
