"""Deploying process definitions: accepted, versioned, or rejected with element-level errors."""
from __future__ import annotations

import io

import pytest

from conftest import FIXTURES

SIMPLE = (FIXTURES / "bpmn" / "simple_call.bpmn").read_text(encoding="utf-8")
FORMS = {p.name: p.read_text(encoding="utf-8") for p in (FIXTURES / "forms").glob("*.json")}


def upload(api, bpmn_text, forms=None, as_user="designer", name="simple_call.bpmn"):
    files = [("files", (name, io.BytesIO(bpmn_text.encode("utf-8")), "application/xml"))]
    for form_name, text in (FORMS if forms is None else forms).items():
        files.append(("files", (form_name, io.BytesIO(text.encode("utf-8")), "application/json")))
    return api.post("/api/process-definitions", as_user, files=files)


def versions(api):
    return [(d["key"], d["version"]) for d in api.get("/api/process-definitions", "admin").json()["items"]]


def problems(response):
    assert response.status_code == 422, response.text
    return response.json()["errors"]


def test_deploy_creates_version_one_and_redeploying_the_same_content_changes_nothing(api, users):
    first = upload(api, SIMPLE)
    assert first.status_code == 201, first.text
    assert (first.json()["key"], first.json()["version"]) == ("simple_call", 1)
    again = upload(api, SIMPLE)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert versions(api) == [("simple_call", 1)]


def test_changed_content_makes_a_new_version_and_running_instances_stay_on_theirs(api, users):
    upload(api, SIMPLE)
    old = api.start("t01_office", "simple_call", {"title": "旧版本"}).json()
    changed = upload(api, SIMPLE.replace('name="登记呼叫"', 'name="登记呼叫（新）"'))
    assert changed.status_code == 201 and changed.json()["version"] == 2
    new = api.start("t01_office", "simple_call", {"title": "新版本"}).json()
    titles = {t["instance_id"]: t["title"] for t in api.tasks("t01_office")}
    assert titles == {old["id"]: "登记呼叫", new["id"]: "登记呼叫（新）"}
    assert old["definition_version"] == 1 and new["definition_version"] == 2


def test_a_changed_form_alone_makes_a_new_version(api, users):
    upload(api, SIMPLE)
    forms = dict(FORMS)
    forms["confirm.json"] = forms["confirm.json"].replace('"评价"', '"满意度评价"')
    assert upload(api, SIMPLE, forms).json()["version"] == 2


def test_malformed_xml_is_reported_with_its_line(api, users):
    broken = SIMPLE.replace("<bpmn:endEvent id=\"end_local\" name=\"自行办结\">", "<bpmn:endEvent id=\"end_local\" <<")
    errors = problems(upload(api, broken))
    assert errors[0]["file"] == "simple_call.bpmn"
    assert errors[0]["line"] == next(i for i, line in enumerate(broken.splitlines(), 1) if "<<" in line)
    assert "XML" in errors[0]["message"]
    assert versions(api) == []


@pytest.mark.parametrize("doctype, entity", [
    ('<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "xxe"),                   # reads a server file
    ('<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>', "b"),  # expansion
])
def test_a_document_type_declaration_is_refused_and_its_entities_never_read(api, users, doctype, entity):
    end = '<bpmn:endEvent id="end_local" name="自行办结">'
    bpmn = SIMPLE.replace("?>", "?>" + doctype, 1).replace(end, f"{end}<bpmn:documentation>&{entity};"
                                                                f"</bpmn:documentation>", 1)
    for path in ("/api/process-definitions/validate", "/api/process-definitions"):
        response = api.post(path, "designer", files=[("files", ("simple_call.bpmn", io.BytesIO(bpmn.encode()),
                                                               "application/xml"))])
        assert response.status_code in (200, 422), response.text
        body = response.json()
        found = body.get("problems") or body.get("errors")
        assert [p["message"] for p in found] == ["BPMN 文件不能包含文档类型声明（DOCTYPE）及其实体"]
        assert "root:" not in response.text
    assert versions(api) == []


def test_missing_form_names_the_user_task(api, users):
    bpmn = SIMPLE.replace('value="receive.json"', 'value="no_such_form.json"')
    errors = problems(upload(api, bpmn))
    assert [(e["element_id"], "no_such_form.json" in e["message"]) for e in errors] == [("receive", True)]
    assert errors[0]["line"] is not None
    assert versions(api) == []


def test_invalid_json_schema_is_rejected(api, users):
    forms = dict(FORMS)
    forms["result.json"] = '{"type": "object", "properties": {"result": {"type": "strng"}}}'
    errors = problems(upload(api, SIMPLE, forms))
    assert {e["element_id"] for e in errors} >= {"local", "handle", "supervise"}
    assert "JSON Schema" in errors[0]["message"]


@pytest.mark.parametrize("expression, fragment", [
    ("PT2H", "必须加引号"),
    ('"two hours"', "ISO 8601"),
    ('"P"+', "无法编译"),
])
def test_invalid_timer_expression_names_the_timer(api, users, expression, fragment):
    errors = problems(upload(api, SIMPLE.replace('"PT2H"', expression)))
    assert [e["element_id"] for e in errors] == ["handle_overdue"]
    assert fragment in errors[0]["message"]


def test_timer_expression_using_a_helper_is_evaluated_at_deploy(api, users):
    ok = upload(api, SIMPLE.replace('"PT2H"', "\"PT\" + str(2) + \"H\""))
    assert ok.status_code == 201, ok.text


def test_unknown_called_element(api, users):
    bpmn = SIMPLE.replace('<bpmn:userTask id="local" name="自行处理">', '<bpmn:callActivity id="local" name="自行处理" calledElement="no_such_process">') \
                 .replace('''      <bpmn:outgoing>f_local_end</bpmn:outgoing>
    </bpmn:userTask>''', '''      <bpmn:outgoing>f_local_end</bpmn:outgoing>
    </bpmn:callActivity>''')
    errors = problems(upload(api, bpmn))
    assert any(e["element_id"] == "local" and "no_such_process" in e["message"] for e in errors)


def test_unknown_lane_is_rejected(api, users):
    errors = problems(upload(api, SIMPLE.replace('name="县督查考核部门"', 'name="县外星人办公室"')))
    assert any("县外星人办公室" in e["message"] for e in errors)


def test_script_that_escapes_the_sandbox_is_rejected_at_deploy(api, users):
    bpmn = SIMPLE.replace("escalated = record_event('escalation', '办理超时，已报督查考核部门')",
                          "x = ().__class__.__base__.__subclasses__()")
    errors = problems(upload(api, bpmn))
    assert [e["element_id"] for e in errors] == ["log_overdue"]


def test_condition_that_does_not_compile_names_the_gateway(api, users):
    errors = problems(upload(api, SIMPLE.replace("call_county == True", "call_county ==")))
    assert [e["element_id"] for e in errors] == ["need_county"]


def test_non_executable_model_is_refused(api, users):
    errors = problems(upload(api, SIMPLE.replace('isExecutable="true"', 'isExecutable="false"')))
    assert "非可执行" in errors[0]["message"]


def test_xsd_violation_is_reported(api, users):
    errors = problems(upload(api, SIMPLE.replace('cancelActivity="false"', 'cancelActivity="maybe"')))
    assert errors[0]["line"] is not None and "BPMN 2.0" in errors[0]["message"]


def test_only_designers_and_admins_deploy(api, users):
    response = upload(api, SIMPLE, as_user="t01_office")
    assert response.status_code == 403
    assert versions(api) == []


def test_upload_without_bpmn_is_a_field_error(api, users):
    response = api.post("/api/process-definitions", "designer",
                        files=[("files", ("x.txt", io.BytesIO(b"hello"), "text/plain"))])
    assert response.status_code == 422
    assert "files" in response.json()["errors"]


def test_the_start_forms_ui_schema_is_frozen_with_the_version(core, users):
    bpmn = SIMPLE.replace('<spiffworkflow:property name="formJsonSchemaFilename" value="start.json"/>',
                          '<spiffworkflow:property name="formJsonSchemaFilename" value="start.json"/>'
                          '<spiffworkflow:property name="formUiSchemaFilename" value="register.uischema.json"/>')
    process = core.engine.parse_bundle({"simple_call.bpmn": bpmn}, FORMS).processes[0]
    assert (process.start_form, process.start_ui_form) == ("start.json", "register.uischema.json")
    assert "register.uischema.json" in process.forms
    missing = SIMPLE.replace('value="start.json"/>', 'value="start.json"/><spiffworkflow:property '
                             'name="formUiSchemaFilename" value="nope.uischema.json"/>')
    from service.engine.deployment import DeploymentRejected

    with pytest.raises(DeploymentRejected) as rejected:
        core.engine.parse_bundle({"simple_call.bpmn": missing}, FORMS)
    assert [p.element_id for p in rejected.value.problems] == ["start"]


def test_two_diagrams_may_use_the_same_element_ids(core, users):
    """Properties are read from the element in the process's own file, not the first with that id."""
    timer_only = (FIXTURES / "bpmn_extra" / "timer_only.bpmn").read_text(encoding="utf-8")
    assert 'id="start"' in timer_only and 'id="start"' in SIMPLE
    bundle = core.engine.parse_bundle({"a_simple_call.bpmn": SIMPLE, "z_timer_only.bpmn": timer_only}, FORMS)
    starts = {p.key: p.start_form for p in bundle.processes}
    assert starts == {"simple_call": "start.json", "timer_only": "fire_at.json"}


def test_non_executable_models_from_other_tools_are_refused_in_chinese(core):
    """MIWG reference models are not executable; some have data stores SpiffWorkflow cannot run."""
    from service.engine.deployment import DeploymentRejected

    corpus = FIXTURES.parents[2] / "shared" / "corpus" / "bpmn-miwg"  # ../shared beside the repository
    models = sorted(corpus.rglob("*.bpmn"))
    assert models, f"BPMN MIWG corpus not found at {corpus}"
    refused = 0
    for path in models:
        text = path.read_text(encoding="utf-8", errors="replace")
        if 'isExecutable="true"' in text:
            continue
        with pytest.raises(DeploymentRejected) as rejected:
            core.engine.parse_bundle({path.name: text}, {})
        assert any("非可执行" in p.message or "XML" in p.message or "BPMN 2.0" in p.message
                   for p in rejected.value.problems), (path.name, rejected.value.problems)
        refused += 1
    assert refused >= 10
