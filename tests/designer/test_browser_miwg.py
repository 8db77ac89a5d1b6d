"""Diagrams from other tools: every BPMN MIWG reference model imports into the modeler, renders,
and exports again with the same flow elements (ids and types); a conformance test in Chromium.
Non-executable models are refused when deployed through the designer."""
from __future__ import annotations

import pytest

from web.web_helpers import login

from .designer_helpers import flow_elements, is_executable, miwg_models

MODELS = miwg_models()


@pytest.mark.browser
@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_a_reference_model_imports_renders_and_exports_without_losing_flow_elements(page, deployed, model):
    before = flow_elements(model.read_bytes())
    assert before, f"{model.name} has no flow elements to compare"
    login(page, "designer")
    page.goto("/designer/diagrams/miwg.bpmn")
    page.wait_for_selector('#designer[data-state="imported"]')
    page.set_input_files("#import-file", str(model))
    page.wait_for_selector('#designer[data-source="file"]:is([data-state="imported"], [data-state="failed"])')
    assert page.get_attribute("#designer", "data-state") == "imported", page.inner_text("#designer-status")

    drawn = page.evaluate("() => window.shudiModeler.get('elementRegistry').getAll().map(e => e.id)")
    shapes_in_file = {element_id for _kind, element_id in before}
    assert shapes_in_file & set(drawn), "nothing of the model was drawn"

    with page.expect_download() as download:
        page.click("[data-action=download]")
    exported = download.value.path().read_bytes()
    assert flow_elements(exported) == before
    assert page.problems == []


def test_the_corpus_has_both_kinds_of_model():
    executable = [m.name for m in MODELS if is_executable(m)]
    assert len(MODELS) >= 20
    assert executable and len(executable) < len(MODELS)


@pytest.mark.parametrize("model", [m for m in MODELS if not is_executable(m)], ids=lambda m: m.name)
def test_a_non_executable_model_is_refused_by_the_designers_deploy(designer_api, deployed, model):
    text = model.read_bytes().decode("latin-1" if b'encoding="ISO-8859-1"' in model.read_bytes()[:200] else "utf-8")
    response = designer_api.deploy_diagram("miwg.bpmn", text, note="导入 MIWG 模型")
    assert response.status_code == 422, response.text
    problems = response.json()["errors"]
    assert [p["message"] for p in problems] == ["流程图中没有可执行的流程（isExecutable=\"true\"）；非可执行模型不能部署"]
    versions = designer_api.get("/api/process-definitions", "admin").json()["items"]
    assert [v["key"] for v in versions] == ["simple_call"]


@pytest.mark.parametrize("model", [m for m in MODELS if is_executable(m)], ids=lambda m: m.name)
def test_an_executable_model_from_another_tool_is_refused_with_its_problems(designer_api, deployed, model):
    """Marked executable, but written for another engine: lanes without roles, tasks without forms,
    scripts in other languages — refused, each problem named, nothing stored."""
    response = designer_api.deploy_diagram("miwg.bpmn", model.read_bytes().decode("utf-8"), note="导入 MIWG 模型")
    assert response.status_code == 422, response.text
    problems = response.json()["errors"]
    assert problems and all(p["message"] for p in problems)
    versions = designer_api.get("/api/process-definitions", "admin").json()["items"]
    assert [v["key"] for v in versions] == ["simple_call"]
