"""Only process designers and administrators may validate, deploy, edit forms or migrate."""
from __future__ import annotations

import pytest

from .designer_helpers import base_xml, with_review_step

DIAGRAM = "/api/designer/diagrams/simple_call.bpmn"


def upload(xml: str):
    return [("files", ("simple_call.bpmn", xml.encode("utf-8"), "application/xml"))]


@pytest.mark.parametrize("method, path, kwargs", [
    ("POST", "/api/process-definitions/validate", {"files": upload(base_xml())}),
    ("POST", "/api/process-definitions", {"files": upload(with_review_step())}),
    ("POST", f"{DIAGRAM}/validate", {"json": {"content": base_xml()}}),
    ("POST", f"{DIAGRAM}/deploy", {"json": {"content": with_review_step(), "note": "x"}}),
    ("PUT", f"{DIAGRAM}/draft", {"json": {"content": base_xml()}}),
    ("GET", DIAGRAM, {}),
    ("GET", "/api/designer/processes", {}),
    ("GET", "/api/designer/processes/simple_call/versions", {}),
    ("GET", "/api/designer/versions/1/bpmn", {}),
    ("GET", "/api/designer/forms", {}),
    ("POST", "/api/designer/forms/result.json/publish", {"json": {"schema": "{}", "note": "x"}}),
    ("PUT", "/api/designer/forms/result.json/draft", {"json": {"schema": "{}"}}),
    ("GET", "/api/designer/migrations/plan?from=1&to=1", {}),
    ("POST", "/api/designer/migrations", {"json": {"target": 1, "instances": [1]}}),
    ("POST", "/api/designer/migrations/1/revert", {}),
])
def test_staff_are_refused_with_403_and_nothing_changes(api, deployed, method, path, kwargs):
    response = api.request(method, path, "t01_office", **kwargs)
    assert response.status_code == 403, (path, response.status_code, response.text)
    assert response.json()["code"] == "forbidden"
    assert "流程设计人员或管理员" in response.json()["message"]
    versions = api.get("/api/process-definitions", "admin").json()["items"]
    assert [v["version"] for v in versions] == [1]


@pytest.mark.parametrize("user", ["designer", "admin"])
def test_designers_and_administrators_may(api, deployed, user):
    assert api.post("/api/process-definitions/validate", user, files=upload(base_xml())).json()["valid"] is True
    assert api.post(f"{DIAGRAM}/validate", user, json={"content": base_xml()}).status_code == 200
    assert api.get("/api/designer/processes", user).status_code == 200


@pytest.mark.parametrize("path", ["/designer/", "/designer/processes/simple_call", "/designer/diagrams/simple_call.bpmn",
                                  "/designer/forms", "/designer/forms/result.json", "/designer/processes/simple_call/migrate",
                                  "/designer/processes/simple_call/diff"])
def test_staff_get_a_403_page(web, deployed, path):
    response = web("t01_office").get(path)
    assert response.status_code == 403
    assert "没有权限" in response.text


def test_staff_cannot_post_to_the_editor_either(web, deployed):
    client = web("t01_office")
    client.get("/")
    for path in ("/designer/diagrams/simple_call.bpmn/validate", "/designer/diagrams/simple_call.bpmn/deploy",
                 "/designer/migrations/run"):
        response = client.http.post(client.base_url + path, json={"xml": base_xml(), "note": "x"},
                                    headers={"X-CSRFToken": client.token()})
        assert response.status_code == 403, path
        assert response.json()["code"] == "forbidden"


def test_the_designer_link_is_shown_to_designers_only(web, deployed):
    assert "流程设计" in web("designer").get("/").text
    assert 'href="/designer/"' not in web("t01_office").get("/").text
