"""The public pages the county publishes: reachable without login, Chinese, printable, a fixed
number of queries, only published versions, and no internal data."""
from __future__ import annotations

import re
from datetime import date

import pytest

from catalog_support import client, count_queries, demo, demo_usernames, item_dict, new_version  # noqa: F401
from service.domain.catalog import CatalogChanges

PAGES = ["/public/catalog", "/public/catalog?q=养殖", "/public/catalog/SD-001", "/public/catalog/SD-015",
         "/public/directory", "/public/directory?q=王"]


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.mark.parametrize("path", PAGES)
def test_public_pages_need_no_login_and_are_chinese_and_printable(client, demo, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "public/public.css" in html
    assert "<script" not in html


def test_no_user_account_appears_on_any_public_page(client, core, demo):
    usernames = demo_usernames(core)
    paths = ["/public/catalog", "/public/directory"] + [f"/public/catalog/SD-{n:03d}" for n in range(1, 52)]
    for path in paths:
        html = client.get(path).get_data(as_text=True)
        leaked = [u for u in usernames if u in html]
        assert not leaked, f"{path} shows {leaked}"


def test_the_print_stylesheet_hides_the_controls(client):
    css = client.get("/static/public/public.css").get_data(as_text=True)
    assert "@media print" in css
    assert re.search(r"@media print \{.*\.filters.*display: none", css, re.S)


def test_the_catalog_page_lists_the_version_in_force_with_search_and_filters(client, demo):
    page = _text(client.get("/public/catalog"))
    assert "第 1 版 · 2026-01-01 起生效" in page
    assert "共 51 项" in page and page.count('href="/public/catalog/SD-') == 51
    assert "畜禽养殖污染防治" in page and "县生态环境分局" in page
    assert "共 1 项" in _text(client.get("/public/catalog?q=渣土"))
    township = _text(client.get("/public/catalog?unit=TOWNSHIP&role=main"))
    assert "共 2 项" in township and "农村危房改造" in township
    water = _text(client.get("/public/catalog?area=水利"))
    assert "共 3 项" in water and "河道非法采砂" in water
    coordinating = _text(client.get("/public/catalog?unit=lyzx&role=coordinating"))
    assert "共 1 项" in coordinating and "森林火灾隐患排查" in coordinating
    assert "共 2 项" in _text(client.get("/public/catalog?list_type=主体"))
    assert "没有符合条件的事项" in _text(client.get("/public/catalog?q=不存在的事项"))


def test_the_item_page_shows_both_duties_legal_basis_limits_and_contacts(client, demo):
    page = _text(client.get("/public/catalog/SD-024"))
    assert "渣土运输遗撒、泄漏物料监管执法" in page
    assert "<p>县综合行政执法局：牵头负责加强渣土运输管理" in page  # county duty, one paragraph per unit
    assert "<p>县公安局：依法查处无证运输" in page
    assert "乡镇（街道）职责" in page and "法律依据" in page
    assert "2 小时内签收，3 个工作日内办结" in page
    for person, phone in (("陈志强", "0539-5550110"), ("刘海涛", "0539-5550108"), ("王磊", "0539-5550113")):
        assert person in page and phone in page
    assert client.get("/public/catalog/SD-999").status_code == 404


def test_the_directory_groups_contacts_by_person_with_their_items(client, demo):
    page = _text(client.get("/public/directory"))
    assert "县级部门联络员" in page and "乡镇（街道）联络员" in page
    row = re.search(r"<td>王建国</td>.*?</tr>", page).group(0)
    assert "SD-001 畜禽养殖污染防治" in row and "SD-003 秸秆禁烧" in row and "SD-029" in row
    assert "0539-5550101" in row
    filtered = _text(client.get("/public/directory?unit=t03"))
    assert "李娜" in filtered and "朱建华" in filtered and "王建国" not in filtered


def test_drafts_are_never_public_but_older_published_versions_are(client, core, demo):
    draft = new_version(core, effective_date=date(2026, 6, 1))
    assert client.get(f"/public/catalog?version={draft}").status_code == 404
    assert client.get(f"/public/catalog/SD-001?version={draft}").status_code == 404
    changed = {**item_dict(core, "SD-001"), "name": "畜禽养殖污染防治（修订）"}
    published = new_version(core, changes=CatalogChanges(update=[changed]), publish_on=date(2026, 3, 2))
    now = _text(client.get("/public/catalog/SD-001"))
    assert "畜禽养殖污染防治（修订）" in now and f"第 {published} 版" in now
    old = _text(client.get("/public/catalog/SD-001?version=1"))
    assert "（修订）" not in old
    assert f"历史版本，现行为第 {published} 版" in _text(client.get("/public/catalog?version=1"))


def test_text_from_the_catalog_is_escaped(client, core, demo):
    changed = {**item_dict(core, "SD-001"), "name": "<b>加粗</b>", "legal_basis": "<script>alert(1)</script>"}
    new_version(core, changes=CatalogChanges(update=[changed]), publish_on=date(2026, 3, 2))
    html = client.get("/public/catalog/SD-001").get_data(as_text=True)
    assert "&lt;b&gt;加粗&lt;/b&gt;" in html and "<script" not in html


def test_without_a_published_catalog_the_pages_say_so(client, core):
    response = client.get("/public/catalog")
    assert response.status_code == 404 and "暂无生效的事项清单" in response.get_data(as_text=True)


@pytest.mark.parametrize("path, most", [("/public/catalog", 8), ("/public/catalog/SD-001", 6),
                                        ("/public/directory", 6)])
def test_pages_run_a_fixed_handful_of_queries(client, core, demo, path, most):
    client.get(path)  # warm up
    with count_queries(core) as queries:
        assert client.get(path).status_code == 200
    assert queries[0] <= most, f"{path} ran {queries[0]} queries"
