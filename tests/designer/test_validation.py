"""Validating without deploying: the deploy checks return element-level problems and store nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from service.models import ProcessDefinition

from .designer_helpers import FIXTURE, base_xml, broken, with_review_step


def definition_count(core) -> int:
    with core.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessDefinition))


def problems_by_element(problems) -> dict:
    found = {}
    for p in problems:
        found.setdefault(p["element_id"], []).append(p["message"])
    return found


def test_the_validate_endpoint_takes_a_deploys_upload_and_stores_nothing(api, deployed, core):
    files = [("files", ("simple_call.bpmn", broken().encode("utf-8"), "application/xml"))]
    response = api.post("/api/process-definitions/validate", "designer", files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] is False
    by_element = problems_by_element(body["problems"])
    assert "ISO 8601 值必须加引号" in by_element["handle_overdue"][0]
    assert "no_such_form.json" in by_element["receive"][0]
    assert "条件表达式" in by_element["need_county"][0]
    assert all(p["file"] == "simple_call.bpmn" and p["line"] for p in body["problems"])
    assert definition_count(core) == 1

    good = api.post("/api/process-definitions/validate", "designer",
                    files=[("files", ("simple_call.bpmn", with_review_step().encode("utf-8"), "application/xml"))])
    assert good.json() == {"valid": True, "problems": [], "processes": [{"key": "simple_call", "name": "测试呼叫流程"}]}
    assert definition_count(core) == 1


def test_validate_answers_upload_mistakes_like_deploy(api, deployed):
    response = api.post("/api/process-definitions/validate", "designer",
                        files=[("files", ("notes.txt", b"hello", "text/plain"))])
    assert response.status_code == 422
    assert "既不是 .bpmn 也不是 .json" in response.json()["errors"]["files"][0]


def test_the_editors_validation_uses_the_form_library(designer_api, deployed, core):
    response = designer_api.validate_diagram("simple_call.bpmn", broken())
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert set(problems_by_element(body["problems"])) == {"handle_overdue", "receive", "need_county"}

    ok = designer_api.validate_diagram("simple_call.bpmn", base_xml()).json()
    assert ok == {"valid": True, "problems": [], "processes": [{"key": "simple_call", "name": "测试呼叫流程"}],
                  "drafts": []}
    assert definition_count(core) == 1


def test_validation_names_the_form_drafts_a_deploy_would_take_along(designer_api, deployed):
    draft = designer_api.put("/api/designer/forms/confirm.json/draft", "designer", json={
        "schema": '{"title": "确认评价", "type": "object", "properties": {"rating": {"type": "string"}}}'})
    assert draft.status_code == 200, draft.text
    body = designer_api.validate_diagram("simple_call.bpmn", base_xml()).json()
    assert body["valid"] is True
    assert body["drafts"] == ["confirm.json"]


def test_a_broken_xml_is_one_located_problem(designer_api, deployed):
    text = FIXTURE.read_text(encoding="utf-8").replace("<bpmn:endEvent id=\"end_done\" name=\"办结\">",
                                                       "<bpmn:endEvent id=\"end_done\" name=\"办结\"><bpmn:foo>")
    response = designer_api.validate_diagram("simple_call.bpmn", text)
    assert response.status_code == 422
    assert "XML" in response.json()["errors"]["content"][0]
