"""The /api/catalog endpoints over HTTP: public reading without a token, drafts only for staff,
import and publishing only for administrators."""
from __future__ import annotations

from datetime import date

import pytest

from catalog_support import DEMO_PASSWORD, catalog_rows, demo, demo_usernames, new_version  # noqa: F401
from service.domain.catalog import get_version
from service.domain.catalog_io import export_catalog


@pytest.fixture
def staff(api, demo):
    for username in ("admin", "sthj_wangjg", "bb_reviewer"):
        api.login(username, DEMO_PASSWORD)
    return api


PUBLIC_GETS = ["/api/catalog/versions", "/api/catalog/versions/1", "/api/catalog/versions/1/diff/1",
               "/api/catalog/items", "/api/catalog/items?q=养殖&area=生态环境", "/api/catalog/items/SD-015",
               "/api/catalog/directory", "/api/catalog/directory?item=SD-024"]


@pytest.mark.parametrize("path", PUBLIC_GETS)
def test_public_reads_need_no_token_and_show_no_user_accounts(api, core, demo, path):
    response = api.get(path)
    assert response.status_code == 200, response.text
    text = response.text
    assert not [u for u in demo_usernames(core) if f'"{u}"' in text]
    assert "username" not in text and "user_id" not in text


def test_item_search_with_filters_and_pages(api, demo):
    body = api.get("/api/catalog/items", params={"main_unit": "TOWNSHIP"}).json()
    assert body["version"]["number"] == 1 and body["total"] == 2
    assert [i["code"] for i in body["items"]] == ["SD-015", "SD-016"]
    assert body["items"][0]["main_units"] == [{"code": "TOWNSHIP", "name": "属地乡镇（街道）"}]
    page = api.get("/api/catalog/items", params={"per_page": 20, "page": 3}).json()
    assert (page["total"], len(page["items"]), page["items"][0]["code"]) == (51, 11, "SD-041")
    assert api.get("/api/catalog/items", params={"q": "渣土"}).json()["items"][0]["code"] == "SD-024"
    bad = api.get("/api/catalog/items", params={"list_type": "其他", "per_page": 0})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"list_type", "per_page"}


def test_item_detail_has_duties_legal_basis_limits_and_contacts(api, demo):
    body = api.get("/api/catalog/items/SD-024").json()
    assert body["main_units"] == [{"code": "zhzf", "name": "县综合执法局"}]
    assert body["county_duty"].startswith("县综合行政执法局：牵头负责加强渣土运输管理")
    assert body["limits"] == {"acknowledge_hours": 2, "handle_working_days": 3, "warn_before_hours": 8}
    assert [(c["unit"]["code"], c["person"], c["phone"]) for c in body["contacts"]] == [
        ("zhzf", "陈志强", "0539-5550110"), ("zjj", "刘海涛", "0539-5550108"), ("gaj", "王磊", "0539-5550113")]
    missing = api.get("/api/catalog/items/SD-999")
    assert missing.status_code == 404 and "SD-999" in missing.json()["message"]


def test_drafts_are_shown_to_staff_only(api, core, demo):
    number = new_version(core, effective_date=date(2026, 6, 1))
    assert [v["number"] for v in api.get("/api/catalog/versions").json()["items"]] == [1]
    assert api.get(f"/api/catalog/versions/{number}").status_code == 404
    assert api.get("/api/catalog/items", params={"version": number}).status_code == 404
    api.login("bb_reviewer", DEMO_PASSWORD)
    listed = api.get("/api/catalog/versions", "bb_reviewer").json()["items"]
    assert [(v["number"], v["status"]) for v in listed] == [(number, "draft"), (1, "published")]
    assert api.get(f"/api/catalog/versions/1/diff/{number}", "bb_reviewer").json()["added"] == []


def test_import_and_publish_refuse_anonymous_callers_and_non_admins(staff, core):
    with core.uow() as uow:
        data = export_catalog(uow.session, get_version(uow.session, 1), "xlsx")
    files = {"file": ("catalog.xlsx", data)}
    assert staff.post("/api/catalog/imports", files=files).status_code == 401
    assert staff.post("/api/catalog/imports", "sthj_wangjg", files=files).status_code == 403
    assert staff.post("/api/catalog/versions/1/publish", json={}).status_code == 401
    assert staff.post("/api/catalog/versions/1/publish", "bb_reviewer", json={}).status_code == 403
    assert catalog_rows(core)[0] == 1


def test_admin_imports_a_draft_then_publishes_it(staff, core):
    with core.uow() as uow:
        data = export_catalog(uow.session, get_version(uow.session, 1), "csv")
    response = staff.post("/api/catalog/imports", "admin", files={"file": ("catalog.zip", data)},
                          data={"note": "2026年调整"})
    assert response.status_code == 201, response.text
    draft = response.json()
    assert (draft["number"], draft["status"], draft["item_count"], draft["note"]) == (2, "draft", 51, "2026年调整")

    past = staff.post("/api/catalog/versions/2/publish", "admin", json={})
    assert past.status_code == 422 and "effective_date" in past.json()["errors"]
    published = staff.post("/api/catalog/versions/2/publish", "admin", json={"effective_date": "2026-03-02"})
    assert published.status_code == 200, published.text
    assert (published.json()["status"], published.json()["effective_date"]) == ("published", "2026-03-02")
    assert staff.get("/api/catalog/items").json()["version"]["number"] == 2
    again = staff.post("/api/catalog/versions/2/publish", "admin", json={})
    assert again.status_code == 409


def test_a_rejected_import_lists_its_problems_and_changes_nothing(staff, core):
    from openpyxl import load_workbook
    import io

    with core.uow() as uow:
        data = export_catalog(uow.session, get_version(uow.session, 1), "xlsx")
    workbook = load_workbook(io.BytesIO(data))
    workbook["事项清单"]["E6"] = "县不存在局"
    out = io.BytesIO()
    workbook.save(out)
    before = catalog_rows(core)
    response = staff.post("/api/catalog/imports", "admin", files={"file": ("catalog.xlsx", out.getvalue())})
    assert response.status_code == 422
    body = response.json()
    assert body["problems"] == [{"sheet": "事项清单", "row": 6, "column": "E", "field": "主体责任单位",
                                 "message": "「主体责任单位」中的单位「县不存在局」不存在（请填写单位名录中的单位代码或名称）",
                                 "text": "「事项清单」第 6 行 E 列（主体责任单位）：「主体责任单位」中的单位「县不存在局」不存在"
                                         "（请填写单位名录中的单位代码或名称）"}]
    assert list(body["errors"]) == ["事项清单!E6"]
    assert catalog_rows(core) == before
    missing = staff.post("/api/catalog/imports", "admin", data={})
    assert missing.status_code == 422 and "file" in missing.json()["errors"]


def test_openapi_documents_the_catalog_endpoints(api, demo):
    paths = api.get("/api/openapi.json").json()["paths"]
    for path in ("/api/catalog/versions", "/api/catalog/versions/{number}/publish", "/api/catalog/items",
                 "/api/catalog/items/{code}", "/api/catalog/directory", "/api/catalog/imports",
                 "/api/catalog/versions/{old}/diff/{new}"):
        assert path in paths
    assert "q" in [p["name"] for p in paths["/api/catalog/items"]["get"]["parameters"]]


def test_publish_works_without_a_body_and_names_a_bad_date(staff, core):
    number = new_version(core, effective_date=date(2026, 3, 9))
    bad = staff.post(f"/api/catalog/versions/{number}/publish", "admin", json={"effective_date": "下周一"})
    assert bad.status_code == 422 and bad.json()["errors"] == {"effective_date": ["生效日期格式应为 YYYY-MM-DD"]}
    assert staff.post("/api/catalog/versions/99/publish", "admin").status_code == 404
    response = staff.post(f"/api/catalog/versions/{number}/publish", "admin")
    assert response.status_code == 200, response.text
    assert response.json()["effective_date"] == "2026-03-09"


def test_admin_exports_through_the_api_and_the_file_imports_back_as_the_same_catalog(staff, core):
    assert staff.get("/api/catalog/exports").status_code == 401
    assert staff.get("/api/catalog/exports", "sthj_wangjg").status_code == 403
    for fmt, name in (("xlsx", "catalog-v1.xlsx"), ("csv", "catalog-v1.zip")):
        response = staff.get("/api/catalog/exports", "admin", params={"format": fmt})
        assert response.status_code == 200, response.text
        assert name in response.headers["Content-Disposition"]
        reimported = staff.post("/api/catalog/imports", "admin", files={"file": (name, response.content)})
        assert reimported.status_code == 201, reimported.text
        number = reimported.json()["number"]
        diff = staff.get(f"/api/catalog/versions/1/diff/{number}", "admin").json()
        assert (diff["added"], diff["removed"], diff["changed"]) == ([], [], [])
    bad = staff.get("/api/catalog/exports", "admin", params={"format": "pdf"})
    assert bad.status_code == 422 and "format" in bad.json()["errors"]
    assert staff.get("/api/catalog/exports", "admin", params={"version": 99}).status_code == 404
