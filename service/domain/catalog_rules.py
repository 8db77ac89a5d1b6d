"""What a well-formed catalog is: the item and contact fields, and every rule a version must pass.

One checker serves every way a version is made (the YAML demo load, a spreadsheet import, a
change request), so an import can point at the sheet cell and a service call at the item field
while both enforce exactly the same rules. Messages are Chinese: the people fixing the data
read them.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Callable, Mapping, Sequence

from ..models.catalog import TOWNSHIP

LIST_TYPES = ("配合", "主体")

# Field key → Chinese label. The labels are also the spreadsheet column headers.
ITEM_FIELDS: dict[str, str] = {
    "code": "事项编码",
    "area": "领域",
    "name": "事项名称",
    "list_type": "清单类型",
    "main_units": "主体责任单位",
    "coordinating_units": "配合责任单位",
    "county_duty": "县级部门职责",
    "township_duty": "乡镇（街道）职责",
    "legal_basis": "法律依据",
    "acknowledge_hours": "签收时限（小时）",
    "handle_working_days": "办结时限（工作日）",
    "warn_before_hours": "预警提前（小时）",
}
CONTACT_FIELDS: dict[str, str] = {
    "item_code": "事项编码",
    "unit": "单位",
    "person": "责任人",
    "title": "职务",
    "phone": "联系电话",
    "jurisdiction": "管辖区域",
    "username": "登录名",
}
LIMIT_FIELDS = ("acknowledge_hours", "handle_working_days", "warn_before_hours")
# (lowest, highest) allowed value of each time limit.
LIMIT_RANGES = {"acknowledge_hours": (1, 168), "handle_working_days": (1, 180), "warn_before_hours": (0, 720)}
TEXT_LIMITS = {"code": 32, "area": 50, "name": 200, "person": 50, "title": 100, "phone": 32, "jurisdiction": 200}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PHONE_PATTERN = re.compile(r"^[0-9+()（）\- ]*[0-9][0-9+()（）\- ]*$")
COUNTY_KINDS = ("county_department", "county_office")
TOWNSHIP_KINDS = ("township", "township_office")
# Separators people type between unit codes in one cell.
UNIT_SEPARATORS = re.compile(r"[、,，;；/\s]+")


@dataclass(frozen=True)
class ItemData:
    """One catalog item as plain values (what a version stores, compares and exports)."""
    code: str
    area: str
    name: str
    list_type: str
    main_units: tuple[str, ...]
    coordinating_units: tuple[str, ...]
    county_duty: str
    township_duty: str
    legal_basis: str
    acknowledge_hours: int
    handle_working_days: int
    warn_before_hours: int

    @classmethod
    def of(cls, item) -> "ItemData":
        """From a stored ``CatalogItem``."""
        return cls(code=item.code, area=item.area, name=item.name, list_type=item.list_type,
                   main_units=tuple(item.main_units), coordinating_units=tuple(item.coordinating_units),
                   county_duty=item.county_duty, township_duty=item.township_duty, legal_basis=item.legal_basis,
                   acknowledge_hours=item.acknowledge_hours, handle_working_days=item.handle_working_days,
                   warn_before_hours=item.warn_before_hours)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["main_units"] = list(self.main_units)
        data["coordinating_units"] = list(self.coordinating_units)
        return data


@dataclass(frozen=True)
class ContactData:
    """One directory entry; ``item_code`` None means a township's standing contact."""
    item_code: str | None
    unit: str
    person: str
    title: str
    phone: str
    jurisdiction: str
    username: str | None = None

    @classmethod
    def of(cls, contact) -> "ContactData":
        """From a stored ``DirectoryContact``."""
        return cls(item_code=contact.item_code, unit=contact.unit.code, person=contact.person, title=contact.title,
                   phone=contact.phone, jurisdiction=contact.jurisdiction,
                   username=contact.user.username if contact.user else None)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class UnitInfo:
    code: str
    kind: str
    township: str | None  # the township the unit belongs to (itself for a township)
    name: str


@dataclass(frozen=True)
class Problem:
    """A rule broken by entry ``index`` of its list, in ``field`` (a key of ITEM_FIELDS/CONTACT_FIELDS)."""
    index: int
    field: str
    message: str


@dataclass
class CheckedCatalog:
    items: list[ItemData] = field(default_factory=list)
    contacts: list[ContactData] = field(default_factory=list)
    item_problems: list[Problem] = field(default_factory=list)
    contact_problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.item_problems and not self.contact_problems


def split_units(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part for part in UNIT_SEPARATORS.split(str(value).strip()) if part]


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _whole_number(value):
    """``value`` as an int if it is a whole number (Excel gives 5.0, CSV gives "5"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    raw = text(value)
    return int(raw) if re.fullmatch(r"[+-]?\d+", raw) else None


def _describe(index: int) -> str:
    return f"第 {index + 1} 项"


class _Checker:
    def __init__(self, index: int, field_labels: Mapping[str, str]):
        self.index = index
        self.labels = field_labels
        self.problems: list[Problem] = []

    def fail(self, field_key: str, message: str) -> None:
        self.problems.append(Problem(self.index, field_key, message))

    def required(self, raw: Mapping, key: str) -> str:
        value = text(raw.get(key))
        if not value:
            self.fail(key, f"「{self.labels[key]}」不能为空")
        elif key in TEXT_LIMITS and len(value) > TEXT_LIMITS[key]:
            self.fail(key, f"「{self.labels[key]}」不能超过 {TEXT_LIMITS[key]} 个字")
        return value


def check_items(raws: Sequence[Mapping], units: Mapping[str, UnitInfo],
                where: Callable[[int], str] = _describe) -> tuple[list[ItemData], list[Problem]]:
    """Check raw items (YAML, a sheet's rows or a service call) against the catalog's rules."""
    items, problems, first_index = [], [], {}
    for index, raw in enumerate(raws):
        check = _Checker(index, ITEM_FIELDS)
        values = {key: check.required(raw, key)
                  for key in ("code", "area", "name", "list_type", "county_duty", "township_duty", "legal_basis")}
        code = values["code"]
        if code and not CODE_PATTERN.match(code):
            check.fail("code", f"事项编码「{code}」只能由字母、数字和「-」「_」「.」组成")
        elif code in first_index:
            check.fail("code", f"事项编码「{code}」重复（与{where(first_index[code])}相同）")
        elif code:
            first_index[code] = index
        if values["list_type"] and values["list_type"] not in LIST_TYPES:
            check.fail("list_type", f"清单类型必须是「配合」或「主体」，填写的是「{values['list_type']}」")
        main = _check_unit_list(check, "main_units", raw.get("main_units"), units)
        coordinating = _check_unit_list(check, "coordinating_units", raw.get("coordinating_units"), units)
        if not main and not any(p.field == "main_units" for p in check.problems):
            check.fail("main_units", "主体责任单位不能为空：每个事项必须明确主体责任单位")
        for both in [u for u in coordinating if u in main]:
            check.fail("coordinating_units", f"单位「{_name(both, units)}」不能同时是主体责任单位和配合责任单位")
        _check_township_role(check, values["list_type"], main, coordinating)
        limits = _check_limits(check, raw)
        problems.extend(check.problems)
        if not check.problems:
            items.append(ItemData(main_units=tuple(main), coordinating_units=tuple(coordinating),
                                  **values, **limits))
    return items, problems


def _name(code: str, units: Mapping[str, UnitInfo]) -> str:
    info = units.get(code)
    return f"{info.name}（{code}）" if info else code


def _check_unit_list(check: _Checker, key: str, value, units: Mapping[str, UnitInfo]) -> list[str]:
    label, codes = ITEM_FIELDS[key], []
    for code in split_units(value):
        if code in codes:
            check.fail(key, f"「{label}」中单位「{_name(code, units)}」重复")
            continue
        codes.append(code)
        if code == TOWNSHIP:
            continue
        info = units.get(code)
        if info is None:
            check.fail(key, f"「{label}」中的单位「{code}」不存在（请填写单位名录中的单位代码或名称）")
        elif info.kind in TOWNSHIP_KINDS or info.kind == "village":
            check.fail(key, f"「{label}」中的「{_name(code, units)}」是乡镇（街道）一级单位；"
                            f"属地乡镇请统一填写 {TOWNSHIP}（事件发生地所在乡镇）")
        elif info.kind not in COUNTY_KINDS:
            check.fail(key, f"「{label}」中的「{_name(code, units)}」不是县级单位")
    return codes


def _check_township_role(check: _Checker, list_type: str, main: list[str], coordinating: list[str]) -> None:
    if TOWNSHIP in coordinating:
        check.fail("coordinating_units", f"属地乡镇的配合责任由清单类型「配合」表示，配合责任单位中不要填写 {TOWNSHIP}")
    already_wrong = any(p.field == "main_units" for p in check.problems)  # e.g. the township named directly
    if list_type == "主体" and main and TOWNSHIP not in main and not already_wrong:
        check.fail("main_units", f"清单类型为「主体」的事项由属地乡镇承担主体责任，主体责任单位应填写 {TOWNSHIP}")
    if list_type == "配合" and TOWNSHIP in main:
        check.fail("main_units", f"清单类型为「配合」的事项由县级部门承担主体责任，主体责任单位不能填写 {TOWNSHIP}")


def _check_limits(check: _Checker, raw: Mapping) -> dict:
    limits = {}
    for key in LIMIT_FIELDS:
        low, high = LIMIT_RANGES[key]
        value = _whole_number(raw.get(key))
        if value is None or not low <= value <= high:
            shown = text(raw.get(key))
            check.fail(key, f"「{ITEM_FIELDS[key]}」必须是 {low} 到 {high} 之间的整数，"
                            + (f"填写的是「{shown}」" if shown else "现在为空"))
        else:
            limits[key] = value
    if len(limits) == len(LIMIT_FIELDS) and limits["warn_before_hours"] >= limits["handle_working_days"] * 24:
        check.fail("warn_before_hours", f"预警提前 {limits['warn_before_hours']} 小时不短于办结时限"
                                        f" {limits['handle_working_days']} 个工作日，黄灯将无从亮起")
    return limits


def check_contacts(raws: Sequence[Mapping], items: Mapping[str, ItemData], units: Mapping[str, UnitInfo],
                   usernames: set[str], where: Callable[[int], str] = _describe
                   ) -> tuple[list[ContactData], list[Problem]]:
    """Check directory entries against the version's items and the unit and user registers."""
    contacts, problems, first_index = [], [], {}
    for index, raw in enumerate(raws):
        check = _Checker(index, CONTACT_FIELDS)
        item_code = text(raw.get("item_code")) or None
        unit_code = check.required(raw, "unit")
        values = {key: check.required(raw, key) for key in ("person", "title", "phone", "jurisdiction")}
        username = text(raw.get("username")) or None
        unit = units.get(unit_code) if unit_code else None
        if unit_code and unit is None:
            check.fail("unit", f"单位「{unit_code}」不存在（请填写单位名录中的单位代码或名称）")
        item = items.get(item_code) if item_code else None
        if item_code and item is None:
            check.fail("item_code", f"事项「{item_code}」不在本版清单中")
        if unit is not None:
            _check_contact_unit(check, item_code, item, unit, units)
        if values["phone"] and not PHONE_PATTERN.match(values["phone"]):
            check.fail("phone", f"联系电话「{values['phone']}」格式不正确（只能包含数字、空格、「-」「+」和括号）")
        if username and username not in usernames:
            check.fail("username", f"登录名「{username}」不存在（可留空，或先创建该用户）")
        key = (item_code, unit_code, values["person"])
        if all(key[1:]) and key in first_index:
            check.fail("person", f"联络员「{values['person']}」在该事项和单位下重复（与{where(first_index[key])}相同）")
        else:
            first_index.setdefault(key, index)
        problems.extend(check.problems)
        if not check.problems:
            contacts.append(ContactData(item_code=item_code, unit=unit_code, username=username, **values))
    return contacts, problems


def _check_contact_unit(check: _Checker, item_code, item: ItemData | None, unit: UnitInfo,
                        units: Mapping[str, UnitInfo]) -> None:
    # The township is a party to every item (lead for 主体, coordinating for 配合), so any
    # township office may name a contact; county units only for items that list them.
    at_township = unit.kind in TOWNSHIP_KINDS
    if item_code is None:
        if not at_township:
            check.fail("item_code", f"「{_name(unit.code, units)}」是县级单位，联络员必须填写负责的事项编码"
                                    "（不填事项编码的只能是乡镇（街道）常设联络员）")
    elif item is not None and not at_township and unit.code not in item.main_units + item.coordinating_units:
        check.fail("unit", f"「{_name(unit.code, units)}」不是事项「{item_code} {item.name}」的主体或配合责任单位")


def check_version_meta(title, effective_date) -> dict[str, str]:
    """Problems of a version's title and effective date, by field."""
    problems = {}
    if not text(title):
        problems["title"] = "清单标题不能为空"
    elif len(text(title)) > 200:
        problems["title"] = "清单标题不能超过 200 个字"
    if effective_date is not None and not isinstance(effective_date, date):
        problems["effective_date"] = f"生效日期「{effective_date}」不是日期（格式：2026-01-01）"
    return problems
