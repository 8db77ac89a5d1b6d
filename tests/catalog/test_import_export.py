"""Exporting and importing the catalog and directory as XLSX and as a ZIP of CSVs: round trips,
every rule broken reported by sheet, row and column, and a rejected file changing nothing."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from catalog_support import catalog_rows, demo  # noqa: F401
from service.domain.catalog import diff_versions, get_version, version_content
from service.domain.catalog_io import ImportRejected, export_catalog, export_tables, import_catalog


def _tables(core) -> dict[str, list[list]]:
    with core.uow() as uow:
        return export_tables(uow.session, get_version(uow.session, 1))


def _xlsx(tables: dict[str, list[list]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in tables.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv_zip(tables: dict[str, list[list]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, rows in tables.items():
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)
            archive.writestr(f"{name}.csv", buffer.getvalue().encode("utf-8-sig"))
    return out.getvalue()


def _import(core, filename: str, data: bytes):
    with core.uow() as uow:
        version = import_catalog(uow.session, filename, data, created_by="test")
        uow.commit()
        return version.number


def _rejected(core, filename: str, data: bytes) -> list:
    before = catalog_rows(core)
    with core.uow() as uow:
        with pytest.raises(ImportRejected) as err:
            import_catalog(uow.session, filename, data, created_by="test")
    assert catalog_rows(core) == before, "a rejected file must change nothing"
    return err.value.problems


def _same_content(core, a: int, b: int) -> None:
    with core.uow() as uow:
        s = uow.session
        assert version_content(s, get_version(s, a)) == version_content(s, get_version(s, b))
        assert diff_versions(s, a, b).is_empty
        va, vb = get_version(s, a), get_version(s, b)
        assert (va.title, va.effective_date) == (vb.title, vb.effective_date)


# --- round trips -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, filename", [("xlsx", "catalog.xlsx"), ("csv", "catalog.zip")])
def test_export_then_import_gives_an_identical_draft_version(core, demo, fmt, filename):
    with core.uow() as uow:
        data = export_catalog(uow.session, get_version(uow.session, 1), fmt)
    number = _import(core, filename, data)
    with core.uow() as uow:
        version = get_version(uow.session, number)
        assert (version.status, version.source, version.created_by) == ("draft", "import", "test")
    _same_content(core, 1, number)


def test_the_export_is_readable_by_people(core, demo):
    with core.uow() as uow:
        workbook = load_workbook(io.BytesIO(export_catalog(uow.session, get_version(uow.session, 1), "xlsx")))
    assert workbook.sheetnames == ["清单信息", "事项清单", "联络员名录", "单位名录"]
    items = workbook["事项清单"]
    assert [c.value for c in items[1]][:6] == ["事项编码", "领域", "事项名称", "清单类型", "主体责任单位", "配合责任单位"]
    first = [c.value for c in items[2]]
    assert first[:6] == ["SD-001", "生态环境", "畜禽养殖污染防治", "配合", "县生态环境分局",
                         "县农业农村局、县自然资源局、县住建局、县水利局、县公安局"]
    assert first[9:] == [2, 5, 8]
    township_led = [c.value for c in items[17]]
    assert township_led[0] == "SD-016" and township_led[4] == "属地乡镇（街道）"
    assert [c.value for c in workbook["清单信息"]["B"]][1:3] == ["沂河县乡镇（街道）属地管理事项主体责任清单（2026年版）",
                                                               "2026-01-01"]


def test_people_may_type_unit_codes_or_names_with_any_separator(core, demo):
    tables = _tables(core)
    tables["事项清单"][1][4] = "sthj"
    tables["事项清单"][1][5] = "县农业农村局，zrzy; 沂河县住房和城乡建设局 slj、县公安局"
    tables["事项清单"][15][4] = "TOWNSHIP"
    tables["联络员名录"][1][1] = "sthj"
    number = _import(core, "edited.xlsx", _xlsx(tables))
    _same_content(core, 1, number)


# --- every rule, located -----------------------------------------------------------------------------

def _set(sheet: str, row: int, column: str, value):
    def change(tables):
        tables[sheet][row - 1][ord(column) - ord("A")] = value
    return change


CASES = [
    ("unknown unit", _set("事项清单", 6, "E", "县不存在局"), "事项清单", 6, "E", "主体责任单位",
     "单位「县不存在局」不存在"),
    ("missing lead unit", _set("事项清单", 3, "E", ""), "事项清单", 3, "E", "主体责任单位", "主体责任单位不能为空"),
    ("unit both lead and coordinating", _set("事项清单", 2, "F", "县农业农村局、县生态环境分局"),
     "事项清单", 2, "F", "配合责任单位", "「县生态环境分局（sthj）」不能同时是主体责任单位和配合责任单位"),
    ("bad acknowledge limit", _set("事项清单", 4, "J", "两小时"), "事项清单", 4, "J", "签收时限（小时）",
     "必须是 1 到 168 之间的整数，填写的是「两小时」"),
    ("fractional working days", _set("事项清单", 4, "K", 2.5), "事项清单", 4, "K", "办结时限（工作日）",
     "必须是 1 到 180 之间的整数"),
    ("warning longer than the limit", _set("事项清单", 4, "L", 30), "事项清单", 4, "L", "预警提前（小时）",
     "黄灯将无从亮起"),
    ("duplicate code", lambda tables: tables["事项清单"].append(list(tables["事项清单"][2])), "事项清单", 53, "A",
     "事项编码", "事项编码「SD-002」重复（与第 3 行相同）"),
    ("missing name", _set("事项清单", 7, "C", ""), "事项清单", 7, "C", "事项名称", "「事项名称」不能为空"),
    ("missing legal basis", _set("事项清单", 8, "I", "  "), "事项清单", 8, "I", "法律依据", "「法律依据」不能为空"),
    ("unknown list type", _set("事项清单", 5, "D", "主责"), "事项清单", 5, "D", "清单类型", "必须是「配合」或「主体」"),
    ("township named directly", _set("事项清单", 17, "E", "沂城街道"), "事项清单", 17, "E", "主体责任单位",
     "是乡镇（街道）一级单位"),
    ("township lead on a county-led item", _set("事项清单", 2, "E", "属地乡镇（街道）"), "事项清单", 2, "E",
     "主体责任单位", "不能填写 TOWNSHIP"),
    ("contact for an unknown item", _set("联络员名录", 2, "A", "SD-999"), "联络员名录", 2, "A", "事项编码",
     "事项「SD-999」不在本版清单中"),
    ("contact unit not responsible", _set("联络员名录", 2, "B", "县教体局"), "联络员名录", 2, "B", "单位",
     "不是事项「SD-001 畜禽养殖污染防治」的主体或配合责任单位"),
    ("contact unknown unit", _set("联络员名录", 3, "B", "县不存在局"), "联络员名录", 3, "B", "单位",
     "单位「县不存在局」不存在"),
    ("contact without phone", _set("联络员名录", 3, "E", ""), "联络员名录", 3, "E", "联系电话", "「联系电话」不能为空"),
    ("contact with a bad phone", _set("联络员名录", 3, "E", "打电话"), "联络员名录", 3, "E", "联系电话", "格式不正确"),
    ("contact of an unknown user", _set("联络员名录", 4, "G", "nobody"), "联络员名录", 4, "G", "登录名",
     "登录名「nobody」不存在"),
    ("county contact without item", _set("联络员名录", 4, "A", ""), "联络员名录", 4, "A", "事项编码",
     "联络员必须填写负责的事项编码"),
    ("bad effective date", _set("清单信息", 3, "B", "明年"), "清单信息", 3, "B", "生效日期", "不是日期"),
    ("missing title", _set("清单信息", 2, "B", ""), "清单信息", 2, "B", "标题", "清单标题不能为空"),
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_broken_rule_is_reported_by_sheet_row_and_column_and_changes_nothing(core, demo, case, fmt):
    _, change, sheet, row, column, label, message = case
    tables = _tables(core)
    change(tables)
    data = _xlsx(tables) if fmt == "xlsx" else _csv_zip(tables)
    problems = _rejected(core, f"catalog.{'xlsx' if fmt == 'xlsx' else 'zip'}", data)
    assert [(p.sheet, p.row, p.column, p.label) for p in problems] == [(sheet, row, column, label)]
    assert message in problems[0].message
    assert str(problems[0]).startswith(f"「{sheet}」第 {row} 行 {column} 列（{label}）：")


def test_all_problems_of_a_file_are_reported_at_once(core, demo):
    tables = _tables(core)
    for change in (_set("事项清单", 6, "E", "县不存在局"), _set("事项清单", 4, "J", "x"),
                   _set("联络员名录", 3, "E", "")):
        change(tables)
    problems = _rejected(core, "catalog.xlsx", _xlsx(tables))
    assert [(p.sheet, p.row, p.column) for p in problems] == [("事项清单", 4, "J"), ("事项清单", 6, "E"),
                                                             ("联络员名录", 3, "E")]


def test_columns_are_found_by_header_and_a_missing_column_or_sheet_is_named(core, demo):
    tables = _tables(core)
    for row in tables["事项清单"]:
        row.reverse()  # any column order
    number = _import(core, "reordered.xlsx", _xlsx(tables))
    _same_content(core, 1, number)

    tables = _tables(core)
    for row in tables["事项清单"]:
        del row[2]  # 事项名称
    problems = _rejected(core, "catalog.xlsx", _xlsx(tables))
    assert [(p.sheet, str(p)) for p in problems] == [("事项清单", "「事项清单」第 1 行：缺少「事项名称」列")]

    tables = _tables(core)
    del tables["联络员名录"]
    assert [str(p) for p in _rejected(core, "catalog.xlsx", _xlsx(tables))] == ["「联络员名录」：缺少工作表「联络员名录」"]


@pytest.mark.parametrize("filename, data, message", [
    ("catalog.pdf", b"%PDF", "不支持的文件类型"),
    ("catalog.xlsx", b"not a workbook", "无法读取 XLSX 文件"),
    ("catalog.zip", b"not a zip", "ZIP 压缩包"),
])
def test_unreadable_files_are_rejected_with_a_reason(core, demo, filename, data, message):
    assert message in str(_rejected(core, filename, data)[0])


def test_a_formula_like_text_stays_text(core, demo):
    tables = _tables(core)
    tables["事项清单"][1][8] = "=HYPERLINK(\"http://example.com\")"
    with core.uow() as uow:
        version = import_catalog(uow.session, "catalog.zip", _csv_zip(tables))
        uow.commit()
        number = version.number
    with core.uow() as uow:
        workbook = load_workbook(io.BytesIO(export_catalog(uow.session, get_version(uow.session, number), "xlsx")))
    cell = workbook["事项清单"]["I2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_an_import_without_effective_date_is_a_draft_awaiting_one(core, demo):
    tables = _tables(core)
    tables["清单信息"][2][1] = ""
    number = _import(core, "catalog.xlsx", _xlsx(tables))
    with core.uow() as uow:
        assert get_version(uow.session, number).effective_date is None


# --- the command line ------------------------------------------------------------------------------

@pytest.fixture
def cli(settings):
    from service.cli import main

    runner = CliRunner()
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": "test-secret", "SHUDI_DEMO": ""}
    return lambda *args: runner.invoke(main, list(args), env=env, catch_exceptions=False)


def test_cli_export_and_import_round_trip_then_publish(core, demo, cli, tmp_path):
    target = tmp_path / "out.zip"
    result = cli("catalog", "export", "--format", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "已导出清单第 1 版（51 项）" in result.output
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["事项清单.csv", "单位名录.csv", "清单信息.csv", "联络员名录.csv"]
    result = cli("catalog", "import", str(target))
    assert result.exit_code == 0, result.output
    assert "已导入为草稿：清单第 2 版，51 项，联络员 190 条" in result.output
    _same_content(core, 1, 2)
    assert cli("catalog", "publish", "2").exit_code == 1  # 2026-01-01 lies in the past
    result = cli("catalog", "publish", "2", "--effective-date", "2026-03-02")
    assert result.exit_code == 0, result.output
    assert "第 2 版  已发布  生效 2026-03-02  51 项  表格导入" in cli("catalog", "versions").output


def test_cli_import_of_a_broken_file_lists_every_problem_and_changes_nothing(core, demo, cli, tmp_path):
    tables = _tables(core)
    _set("事项清单", 6, "E", "县不存在局")(tables)
    path = tmp_path / "broken.xlsx"
    path.write_bytes(_xlsx(tables))
    before = catalog_rows(core)
    result = cli("catalog", "import", str(path))
    assert result.exit_code == 1
    assert "「事项清单」第 6 行 E 列（主体责任单位）：「主体责任单位」中的单位「县不存在局」不存在" in result.stderr
    assert catalog_rows(core) == before


def test_cli_export_defaults_to_the_version_in_force(core, demo, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("catalog", "export")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "catalog-v1.xlsx").exists()
    assert cli("catalog", "export", "--version", "7").exit_code == 1


def test_the_effective_date_of_an_import_is_read_from_the_meta_sheet(core, demo):
    tables = _tables(core)
    tables["清单信息"][2][1] = "2026年7月1日"
    number = _import(core, "catalog.xlsx", _xlsx(tables))
    with core.uow() as uow:
        assert get_version(uow.session, number).effective_date == date(2026, 7, 1)


class _LegacyZipInfo(zipfile.ZipInfo):
    """A member name stored the way Chinese Windows ZIP tools store it: GBK bytes, no UTF-8 flag."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits


def test_a_zip_of_gbk_csvs_from_chinese_excel_is_understood(core, demo):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, rows in _tables(core).items():
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)
            member = _LegacyZipInfo(f"{name}.csv".encode("gbk").decode("cp437"))
            archive.writestr(member, buffer.getvalue().encode("gbk"))
    number = _import(core, "catalog.zip", out.getvalue())
    _same_content(core, 1, number)


def test_a_catalog_without_items_is_refused(core, demo):
    tables = _tables(core)
    del tables["事项清单"][1:]
    tables["联络员名录"] = tables["联络员名录"][:1]
    assert [str(p) for p in _rejected(core, "catalog.xlsx", _xlsx(tables))] == [
        "「事项清单」：没有任何事项：清单至少要有一个事项"]
