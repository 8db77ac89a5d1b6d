"""The catalog and its directory as files: the YAML demo data, XLSX workbooks and ZIPs of CSVs.

Workbook layout (an XLSX file, or a ZIP holding one UTF-8 CSV per sheet, named after the sheet):

- 清单信息: two columns 项目 / 内容, rows 标题 and 生效日期 (版本号 is informational);
- 事项清单: one item per row, columns named by ``ITEM_FIELDS`` labels;
- 联络员名录: one contact per row, columns named by ``CONTACT_FIELDS`` labels; a row without
  事项编码 is a township's standing contact;
- 单位名录 (export only, ignored on import): the unit codes and names that cells may use.

Cells naming units take unit codes or names, several separated by 、 , ； or spaces;
「属地乡镇（街道）」 or TOWNSHIP stands for the township concerned. Columns are found by their
header, so their order does not matter and extra columns are ignored. An import is checked
completely before anything is written; every problem names its sheet, row and column.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Invalid
from ..models import Unit
from ..models.catalog import TOWNSHIP, CatalogVersion
from .catalog import check_catalog, create_version, version_content
from .catalog_rules import CONTACT_FIELDS, ITEM_FIELDS, Problem, split_units, text

SHEET_META, SHEET_ITEMS, SHEET_CONTACTS, SHEET_UNITS = "清单信息", "事项清单", "联络员名录", "单位名录"
META_LABELS = {"title": "标题", "effective_date": "生效日期", "version": "版本号"}
TOWNSHIP_LABEL = "属地乡镇（街道）"
TOWNSHIP_ALIASES = {TOWNSHIP, TOWNSHIP_LABEL, "属地乡镇(街道)", "属地乡镇", "属地"}
OPTIONAL_COLUMNS = {"username"}
FORMATS = ("xlsx", "csv")
CSV_ENCODING = "utf-8-sig"  # the BOM makes Excel read the Chinese correctly
# What Excel on a Chinese Windows writes when told "CSV" (and its ZIP tool for file names).
CSV_FALLBACK_ENCODING = "gb18030"


# --- YAML (the demo data in catalog/) ------------------------------------------------------------

def read_yaml(catalog_dir: Path) -> tuple[list[dict], dict, list[dict], list[dict]]:
    """(units, version meta, items, contacts) from units.yaml, items.yaml and directory.yaml."""
    units = yaml.safe_load((catalog_dir / "units.yaml").read_text(encoding="utf-8"))["units"]
    catalog = yaml.safe_load((catalog_dir / "items.yaml").read_text(encoding="utf-8"))
    directory = yaml.safe_load((catalog_dir / "directory.yaml").read_text(encoding="utf-8"))
    items = [{**{k: v for k, v in raw.items() if k != "limits"}, **(raw.get("limits") or {})}
             for raw in catalog["items"]]
    contacts = [{"item_code": c["item"], **{k: v for k, v in c.items() if k != "item"}}
                for c in directory.get("contacts") or []]
    contacts += [{"item_code": None, **c} for c in directory.get("township_contacts") or []]
    meta = {"number": catalog.get("version"), "title": catalog.get("title"),
            "effective_date": catalog.get("effective_date")}
    return units, meta, items, contacts


# --- reading workbooks ---------------------------------------------------------------------------

@dataclass
class Table:
    """One sheet: its header cells and its non-blank rows as (row number, cells)."""
    name: str
    header: list[str]
    rows: list[tuple[int, list]]


@dataclass(frozen=True)
class ImportProblem:
    sheet: str
    row: int | None
    column: str | None  # the column letter
    label: str | None  # the column header
    message: str

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{self.column or ''}{self.row or ''}"

    def __str__(self) -> str:
        where = f"「{self.sheet}」"
        if self.row:
            where += f"第 {self.row} 行"
        if self.column:
            where += f" {self.column} 列"
        if self.label:
            where += f"（{self.label}）"
        return f"{where}：{self.message}"

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "field": self.label,
                "message": self.message, "text": str(self)}


class ImportRejected(Invalid):
    """The file breaks rules; nothing was written. ``problems`` names every sheet, row and column."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(problem.ref, []).append(str(problem))
        super().__init__(f"导入文件有 {len(problems)} 处错误，清单未作任何修改", errors)


def _normalise_header(value) -> str:
    return text(value).replace("(", "（").replace(")", "）").replace(" ", "")


def _table(name: str, rows: Iterable[tuple[int, list]]) -> Table:
    rows = list(rows)
    if not rows:
        return Table(name, [], [])
    _, header = rows[0]
    body = [(number, cells) for number, cells in rows[1:] if any(text(c) for c in cells)]
    return Table(name, [_normalise_header(h) for h in header], body)


def read_xlsx(data: bytes) -> dict[str, Table]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ImportRejected([ImportProblem("文件", None, None, None, f"无法读取 XLSX 文件：{err}")]) from None
    try:
        return {sheet.title: _table(sheet.title, ((n, list(cells)) for n, cells in
                                                  enumerate(sheet.iter_rows(values_only=True), start=1)))
                for sheet in workbook.worksheets}
    finally:
        workbook.close()


def read_csv_zip(data: bytes) -> dict[str, Table]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportRejected([ImportProblem("文件", None, None, None,
                                            "CSV 格式应为 ZIP 压缩包（内含 清单信息.csv、事项清单.csv、联络员名录.csv）")]) from None
    tables = {}
    with archive:
        for info in archive.infolist():
            name = _member_name(info)
            if info.is_dir() or not info.filename.lower().endswith(".csv"):
                continue
            content = _decode(archive.read(info))
            if content is None:
                raise ImportRejected([ImportProblem(name, None, None, None,
                                                    "CSV 文件的编码无法识别，请另存为“CSV UTF-8”")])
            # Records, not lines: a quoted cell may span lines, and Excel shows one row per record.
            tables[name] = _table(name, enumerate(csv.reader(io.StringIO(content, newline="")), start=1))
    return tables


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # no UTF-8 flag: zipfile decoded the name as cp437
        try:
            name = name.encode("cp437").decode(CSV_FALLBACK_ENCODING)
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return Path(name).stem


def _decode(data: bytes) -> str | None:
    for encoding in (CSV_ENCODING, CSV_FALLBACK_ENCODING):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_tables(filename: str, data: bytes) -> dict[str, Table]:
    lower = (filename or "").lower()
    if lower.endswith(".xlsx"):
        return read_xlsx(data)
    if lower.endswith(".zip"):
        return read_csv_zip(data)
    raise ImportRejected([ImportProblem("文件", None, None, None,
                                        f"不支持的文件类型「{filename}」：请上传 .xlsx 工作簿或 .zip（CSV）压缩包")])


# --- importing -------------------------------------------------------------------------------------

class UnitNames:
    """Resolves what people type for a unit (code, full name or short name) to its code."""

    def __init__(self, session: Session):
        units = session.execute(select(Unit.code, Unit.name, Unit.short_name)).all()
        self.labels: dict[str, str] = {}
        lookup: dict[str, set[str]] = {}
        for code, name, short_name in units:
            self.labels[code] = short_name or name
            for key in {code, name, short_name} - {None}:
                lookup.setdefault(_normalise_header(key), set()).add(code)
        self._lookup = lookup

    def code(self, typed: str) -> str:
        key = _normalise_header(typed)
        if key in {_normalise_header(a) for a in TOWNSHIP_ALIASES}:
            return TOWNSHIP
        codes = self._lookup.get(key, set())
        return next(iter(codes)) if len(codes) == 1 else typed  # unknown or ambiguous: the checker says so

    def label(self, code: str) -> str:
        """What an export writes: the short name if it names exactly this unit, else the code."""
        if code == TOWNSHIP:
            return TOWNSHIP_LABEL
        label = self.labels.get(code)
        return label if label and self._lookup.get(_normalise_header(label)) == {code} else code


@dataclass
class _Columns:
    table: Table
    positions: dict[str, int]  # field key → column index
    labels: dict[str, str]

    def letter(self, key: str) -> str | None:
        return get_column_letter(self.positions[key] + 1) if key in self.positions else None

    def problem(self, row: int | None, key: str | None, message: str) -> ImportProblem:
        return ImportProblem(self.table.name, row, self.letter(key) if key else None,
                             self.labels.get(key) if key else None, message)


def _columns(table: Table, labels: dict[str, str], problems: list[ImportProblem]) -> _Columns:
    wanted = {_normalise_header(label): key for key, label in labels.items()}
    positions = {}
    for index, header in enumerate(table.header):
        key = wanted.get(header)
        if key and key not in positions:
            positions[key] = index
    columns = _Columns(table, positions, labels)
    for key, label in labels.items():
        if key not in positions and key not in OPTIONAL_COLUMNS:
            problems.append(ImportProblem(table.name, 1, None, None, f"缺少「{label}」列"))
    return columns


class CatalogImport:
    """One uploaded file on its way to a draft version: read, then ``check``, then ``create``."""

    def __init__(self, session: Session, filename: str, data: bytes):
        self.session = session
        self.tables = read_tables(filename, data)
        self.problems: list[ImportProblem] = []
        self.title = None
        self.effective_date = None
        self.items: list[dict] = []
        self.contacts: list[dict] = []

    @property
    def total_rows(self) -> int:
        return sum(len(self.tables[name].rows) for name in (SHEET_ITEMS, SHEET_CONTACTS) if name in self.tables)

    def check(self, progress: Callable[[int], None] | None = None) -> None:
        """Read every row and check the whole catalog; raise ImportRejected listing every problem."""
        missing = [name for name in (SHEET_META, SHEET_ITEMS, SHEET_CONTACTS) if name not in self.tables]
        if missing:
            raise ImportRejected([ImportProblem(name, None, None, None, f"缺少工作表「{name}」") for name in missing])
        self._read_meta(self.tables[SHEET_META])
        names = UnitNames(self.session)
        missing_columns: list[ImportProblem] = []
        item_columns = _columns(self.tables[SHEET_ITEMS], ITEM_FIELDS, missing_columns)
        contact_columns = _columns(self.tables[SHEET_CONTACTS], CONTACT_FIELDS, missing_columns)
        if missing_columns:
            raise ImportRejected(self.problems + missing_columns)
        self.items = self._rows(item_columns, names, ("main_units", "coordinating_units"), progress)
        if not self.items:
            self.problems.append(ImportProblem(SHEET_ITEMS, None, None, None, "没有任何事项：清单至少要有一个事项"))
        self.contacts = self._rows(contact_columns, names, ("unit",), progress)
        item_rows = [raw["_row"] for raw in self.items]
        contact_rows = [raw["_row"] for raw in self.contacts]
        checked = check_catalog(self.session, self.items, self.contacts,
                                item_where=lambda i: f"第 {item_rows[i]} 行",
                                contact_where=lambda i: f"第 {contact_rows[i]} 行")
        self.problems += self._located(checked.item_problems, item_columns, item_rows)
        self.problems += self._located(checked.contact_problems, contact_columns, contact_rows)
        if self.problems:
            raise ImportRejected(self.problems)

    def create(self, *, created_by: str | None = None, note: str | None = None) -> CatalogVersion:
        """The new DRAFT version (call ``check`` first)."""
        strip = [{k: v for k, v in raw.items() if k != "_row"} for raw in self.items]
        contacts = [{k: v for k, v in raw.items() if k != "_row"} for raw in self.contacts]
        return create_version(self.session, items=strip, contacts=contacts, title=self.title,
                              effective_date=self.effective_date, source="import", created_by=created_by, note=note)

    def _read_meta(self, table: Table) -> None:
        values = {}
        rows = [(1, table.header)] + table.rows  # key/value rows; the first may be 项目/内容 or data
        for number, cells in rows:
            label = _normalise_header(cells[0]) if cells else ""
            for key, wanted in META_LABELS.items():
                if label == wanted:
                    values[key] = (number, cells[1] if len(cells) > 1 else None)
        if "title" not in values or not text(values["title"][1]):
            self.problems.append(ImportProblem(table.name, values.get("title", (None,))[0], "B", "标题",
                                               "清单标题不能为空"))
        else:
            self.title = text(values["title"][1])
        if "effective_date" in values and text(values["effective_date"][1]):
            number, cell = values["effective_date"]
            self.effective_date = parse_date(cell)
            if self.effective_date is None:
                self.problems.append(ImportProblem(table.name, number, "B", "生效日期",
                                                   f"生效日期「{text(cell)}」不是日期（格式：2026-01-01）"))

    @staticmethod
    def _rows(columns: _Columns, names: UnitNames, unit_keys: tuple[str, ...], progress) -> list[dict]:
        raws = []
        for number, cells in columns.table.rows:
            raw = {"_row": number}
            for key, index in columns.positions.items():
                value = cells[index] if index < len(cells) else None
                if key in unit_keys:
                    codes = [names.code(part) for part in split_units(value)]
                    value = codes if key != "unit" else (codes[0] if len(codes) == 1 else text(value))
                raw[key] = value
            raws.append(raw)
            if progress:
                progress(1)
        return raws

    @staticmethod
    def _located(problems: list[Problem], columns: _Columns, rows: list[int]) -> list[ImportProblem]:
        return [columns.problem(rows[p.index], p.field, p.message) for p in problems]


def parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text(value))
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def import_catalog(session: Session, filename: str, data: bytes, *, created_by: str | None = None,
                   note: str | None = None, progress: Callable[[int], None] | None = None) -> CatalogVersion:
    """Check the whole file, then make it a DRAFT version; on any problem write nothing."""
    upload = CatalogImport(session, filename, data)
    upload.check(progress)
    return upload.create(created_by=created_by, note=note)


# --- exporting -------------------------------------------------------------------------------------

def export_tables(session: Session, version: CatalogVersion) -> dict[str, list[list]]:
    """The version as sheets of rows (header first), the layout ``CatalogImport`` reads back."""
    items, contacts = version_content(session, version)
    names = UnitNames(session)
    meta = [["项目", "内容"], [META_LABELS["title"], version.title],
            [META_LABELS["effective_date"], version.effective_date.isoformat() if version.effective_date else ""],
            [META_LABELS["version"], version.number]]
    item_rows = [list(ITEM_FIELDS.values())]
    for item in items:
        row = item.as_dict()
        row["main_units"] = "、".join(names.label(c) for c in item.main_units)
        row["coordinating_units"] = "、".join(names.label(c) for c in item.coordinating_units)
        item_rows.append([row[key] for key in ITEM_FIELDS])
    contact_rows = [list(CONTACT_FIELDS.values())]
    for contact in contacts:
        row = contact.as_dict()
        row["unit"] = names.label(contact.unit)
        contact_rows.append([row[key] or "" for key in CONTACT_FIELDS])
    units = [["单位代码", "单位名称", "简称", "类别"]] + [
        [u.code, u.name, u.short_name or "", u.kind]
        for u in session.scalars(select(Unit).order_by(Unit.id))]
    return {SHEET_META: meta, SHEET_ITEMS: item_rows, SHEET_CONTACTS: contact_rows, SHEET_UNITS: units}


_WIDTHS = {"事项名称": 28, "县级部门职责": 60, "乡镇（街道）职责": 50, "法律依据": 40, "主体责任单位": 18,
           "配合责任单位": 30, "单位": 22, "职务": 24, "联系电话": 16, "管辖区域": 14, "内容": 60, "单位名称": 40}


def export_xlsx(session: Session, version: CatalogVersion) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in export_tables(session, version).items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            sheet.column_dimensions[cell.column_letter].width = _WIDTHS.get(str(cell.value), 12)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text that starts with "=" must stay text, not a formula
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2" if name != SHEET_META else None
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_csv_zip(session: Session, version: CatalogVersion) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in export_tables(session, version).items():
            buffer = io.StringIO(newline="")
            csv.writer(buffer).writerows(rows)
            archive.writestr(f"{name}.csv", buffer.getvalue().encode(CSV_ENCODING))
    return out.getvalue()


def export_catalog(session: Session, version: CatalogVersion, fmt: str) -> bytes:
    if fmt == "xlsx":
        return export_xlsx(session, version)
    if fmt == "csv":
        return export_csv_zip(session, version)
    raise Invalid("导出格式有误", {"format": [f"格式只能是 {'、'.join(FORMATS)} 之一"]})


def export_filename(version: CatalogVersion, fmt: str) -> str:
    return f"catalog-v{version.number}.{'xlsx' if fmt == 'xlsx' else 'zip'}"


