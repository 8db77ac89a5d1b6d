"""The versioned responsibility catalog: making and publishing versions, finding the version in
force, looking up and searching items, comparing versions.

Every procedure routes by this module: ``item_in_force`` answers "who is responsible for this
problem, within which limits, by the rules in force on that day". Versions are made only by
``create_version`` (the demo load, an import, an approved change request) and become binding
only through ``publish_version``; a published version never changes again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping, Sequence

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from ..db import utcnow
from ..errors import Conflict, Invalid, NotFound
from ..models import Unit, User
from ..models.catalog import (COORDINATING, MAIN, TOWNSHIP, VERSION_SOURCES, CatalogItem, CatalogItemUnit,
                              CatalogVersion, DirectoryContact)
from .calendar import SHANGHAI
from .catalog_rules import (CONTACT_FIELDS, ITEM_FIELDS, TOWNSHIP_KINDS, CheckedCatalog, ContactData, ItemData,
                            UnitInfo, check_contacts, check_items, check_version_meta, split_units)

SOURCE_NAMES = {"initial": "初始载入", "import": "表格导入", "change_request": "清单调整申请"}
STATUS_NAMES = {"draft": "草稿", "published": "已发布"}
SORTS = {"code": (CatalogItem.code,), "area": (CatalogItem.area, CatalogItem.code),
         "name": (CatalogItem.name, CatalogItem.code)}


def local_date(on: date | datetime) -> date:
    """The Beijing calendar day of ``on`` (an aware datetime, or already a date)."""
    if isinstance(on, datetime):
        if on.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime or a date")
        return on.astimezone(SHANGHAI).date()
    return on


# --- reading versions --------------------------------------------------------------------------

def list_versions(session: Session, *, published_only: bool = False) -> list[CatalogVersion]:
    stmt = select(CatalogVersion).order_by(CatalogVersion.number.desc())
    if published_only:
        stmt = stmt.where(CatalogVersion.status == "published")
    return list(session.scalars(stmt))


def get_version(session: Session, number: int) -> CatalogVersion:
    version = session.scalars(select(CatalogVersion).where(CatalogVersion.number == number)).first()
    if version is None:
        raise NotFound(f"清单第 {number} 版不存在")
    return version


def version_in_force(session: Session, on: date | datetime) -> CatalogVersion | None:
    """The published version in force on ``on``: the one with the latest effective date not after
    that day (a later publication wins a tie)."""
    day = local_date(on)
    return session.scalars(
        select(CatalogVersion)
        .where(CatalogVersion.status == "published", CatalogVersion.effective_date <= day)
        .order_by(CatalogVersion.effective_date.desc(), CatalogVersion.number.desc()).limit(1)).first()


def require_version_in_force(session: Session, on: date | datetime) -> CatalogVersion:
    version = version_in_force(session, on)
    if version is None:
        raise NotFound(f"{local_date(on).isoformat()} 没有生效的属地管理事项清单")
    return version


def item_counts(session: Session) -> dict[int, int]:
    """Items per version id, in one query (for version lists)."""
    return dict(session.execute(select(CatalogItem.version_id, func.count()).group_by(CatalogItem.version_id)).all())


# --- units -------------------------------------------------------------------------------------

def unit_register(session: Session) -> dict[str, UnitInfo]:
    """Every unit by code, with its kind and township, in one query."""
    parent = aliased(Unit)
    rows = session.execute(select(Unit.code, Unit.kind, Unit.name, Unit.short_name, parent.code, parent.kind)
                           .outerjoin(parent, Unit.parent_id == parent.id)).all()
    register = {}
    for code, kind, name, short_name, parent_code, parent_kind in rows:
        township = code if kind == "township" else (parent_code if parent_kind == "township" else None)
        register[code] = UnitInfo(code=code, kind=kind, township=township, name=short_name or name)
    return register


def township_of(units: Mapping[str, UnitInfo], unit_code: str) -> str:
    """The township a unit (the township itself, one of its offices or villages) belongs to."""
    info = units.get(unit_code)
    if info is None or info.township is None:
        raise Invalid("不是乡镇（街道）单位", {"township": [f"单位「{unit_code}」不属于任何乡镇（街道）"]})
    return info.township


def resolve_township(codes: Sequence[str], township: str | None) -> list[str]:
    """Unit codes with TOWNSHIP replaced by the township concerned (left as is when unknown)."""
    return [township if code == TOWNSHIP and township else code for code in codes]


# --- making versions ---------------------------------------------------------------------------

@dataclass
class CatalogChanges:
    """What a change request does to its base version. Contacts given here replace the base's
    contacts of the same item and unit; the contacts of removed items, and of units no longer
    responsible for an item, are dropped."""
    add: Sequence[ItemData | Mapping] = ()
    update: Sequence[ItemData | Mapping] = ()
    remove: Sequence[str] = ()
    contacts: Sequence[ContactData | Mapping] = ()


def check_catalog(session: Session, items: Sequence[ItemData | Mapping], contacts: Sequence[ContactData | Mapping],
                  *, item_where=None, contact_where=None) -> CheckedCatalog:
    """Check a whole version's items and contacts against the rules and the unit/user registers."""
    units = unit_register(session)
    item_kw = {"where": item_where} if item_where else {}
    contact_kw = {"where": contact_where} if contact_where else {}
    checked_items, item_problems = check_items([_raw(i) for i in items], units, **item_kw)
    raw_contacts = [_raw(c) for c in contacts]
    names = {str(c.get("username")).strip() for c in raw_contacts if c.get("username")}
    usernames = set(session.scalars(select(User.username).where(User.username.in_(names)))) if names else set()
    # Contacts are checked against every item that parses, so one bad item does not also flood
    # the directory with "no such item" messages.
    by_code = {i.code: i for i in checked_items}
    checked_contacts, contact_problems = check_contacts(raw_contacts, by_code, units, usernames, **contact_kw)
    contact_problems = [p for p in contact_problems
                        if not (p.field == "item_code" and _item_code(raw_contacts[p.index]) in _codes(items))]
    return CheckedCatalog(checked_items, checked_contacts, item_problems, contact_problems)


def _raw(value) -> Mapping:
    return value.as_dict() if isinstance(value, (ItemData, ContactData)) else value


def _item_code(raw: Mapping) -> str:
    return str(raw.get("item_code") or "").strip()


def _codes(items) -> set[str]:
    return {str(_raw(i).get("code") or "").strip() for i in items}


def create_version(session: Session, base_version: int | None = None, *,
                   items: Sequence[ItemData | Mapping] | None = None, changes: CatalogChanges | None = None,
                   contacts: Sequence[ContactData | Mapping] | None = None,
                   title: str | None = None, effective_date: date | None = None,
                   source: str, source_instance_id: int | None = None,
                   created_by: str | None = None, note: str | None = None) -> CatalogVersion:
    """Make a new DRAFT version.

    Give either the whole ``items`` list (an import), or ``changes`` to ``base_version`` (a change
    request), or neither to copy the base. ``contacts`` replaces the whole directory; without it
    the base's directory is carried over (minus removed items' contacts, plus ``changes.contacts``).
    Raises ``Invalid`` naming each broken rule by item code (or position) and field.
    """
    if items is not None and changes is not None:
        raise ValueError("give either items or changes, not both")
    base = get_version(session, base_version) if base_version is not None else None
    _check_source(session, source, source_instance_id)
    if items is None:
        if base is None:
            raise Invalid("缺少基础版本", {"base_version": ["没有给出事项时，必须指定基础版本"]})
        items = _apply_changes(base, changes or CatalogChanges())
    if contacts is None:
        contacts = _carried_contacts(base, items, changes)
    title = title if title is not None else (base.title if base else None)
    meta = check_version_meta(title, effective_date)
    if not items:
        meta["items"] = "清单至少要有一个事项"
    if meta:
        raise Invalid("清单版本信息有误", {key: [message] for key, message in meta.items()})
    checked = check_catalog(session, items, contacts)
    if not checked.ok:
        raise Invalid("清单内容有误，请按提示修改", _problem_map(checked, items))
    version = CatalogVersion(number=_next_number(session), title=title.strip(), effective_date=effective_date,
                             status="draft", source=source, source_instance_id=source_instance_id,
                             base_number=base.number if base else None, created_by=created_by, note=note)
    version.items = [_item_row(i) for i in checked.items]
    version.contacts = _contact_rows(session, checked.contacts)
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("另一个清单版本正在同时创建，请重试") from None
    return version


def _check_source(session: Session, source: str, source_instance_id: int | None) -> None:
    if source not in VERSION_SOURCES:
        raise Invalid("来源有误", {"source": [f"来源必须是 {'、'.join(VERSION_SOURCES)} 之一"]})
    if source == "change_request" and source_instance_id is None:
        raise Invalid("缺少审批流程", {"source_instance_id": ["清单调整必须注明批准它的流程实例"]})
    if source == "initial" and session.scalar(select(func.count()).select_from(CatalogVersion)):
        raise Conflict("清单已有版本，初始载入只能用于第一个版本")


def _apply_changes(base: CatalogVersion, changes: CatalogChanges) -> list[Mapping]:
    current = {item.code: ItemData.of(item).as_dict() for item in base.items}
    errors: dict[str, list[str]] = {}
    for raw in changes.add:
        code = str(_raw(raw).get("code") or "").strip()
        if code in current:
            errors.setdefault(f"{code}.code", []).append(f"事项「{code}」已在第 {base.number} 版清单中，不能重复增加")
        current[code] = dict(_raw(raw))
    for raw in changes.update:
        code = str(_raw(raw).get("code") or "").strip()
        if code not in current:
            errors.setdefault(f"{code}.code", []).append(f"事项「{code}」不在第 {base.number} 版清单中，无法修改")
        current[code] = dict(_raw(raw))
    for code in changes.remove:
        if current.pop(code, None) is None:
            errors.setdefault(f"{code}.code", []).append(f"事项「{code}」不在第 {base.number} 版清单中，无法减去")
    if errors:
        raise Invalid("清单调整内容有误", errors)
    return [current[code] for code in sorted(current)]


def _carried_contacts(base: CatalogVersion | None, items, changes: CatalogChanges | None) -> list[Mapping]:
    given = [dict(_raw(c)) for c in (changes.contacts if changes else ())]
    if base is None:
        return given
    responsible = {str(raw.get("code") or "").strip(): set(split_units(raw.get("main_units")))
                   | set(split_units(raw.get("coordinating_units"))) for raw in map(_raw, items)}
    replaced = {(_item_code(c), str(c.get("unit") or "").strip()) for c in given}

    def still_holds(contact: DirectoryContact) -> bool:
        if contact.item_code is None:
            return True
        units = responsible.get(contact.item_code)
        return (units is not None and (contact.unit.kind in TOWNSHIP_KINDS or contact.unit.code in units)
                and (contact.item_code, contact.unit.code) not in replaced)

    return [ContactData.of(c).as_dict() for c in base.contacts if still_holds(c)] + given


def _problem_map(checked: CheckedCatalog, items) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    raws = [_raw(i) for i in items]
    for p in checked.item_problems:
        code = str(raws[p.index].get("code") or "").strip() or f"第{p.index + 1}项"
        errors.setdefault(f"{code}.{p.field}", []).append(f"{ITEM_FIELDS[p.field]}：{p.message}")
    for p in checked.contact_problems:
        errors.setdefault(f"contacts[{p.index}].{p.field}", []).append(f"{CONTACT_FIELDS[p.field]}：{p.message}")
    return errors


def _next_number(session: Session) -> int:
    return (session.scalar(select(func.max(CatalogVersion.number))) or 0) + 1


def _item_row(data: ItemData) -> CatalogItem:
    units = [CatalogItemUnit(role=MAIN, position=n, unit_code=code) for n, code in enumerate(data.main_units)]
    units += [CatalogItemUnit(role=COORDINATING, position=n, unit_code=code)
              for n, code in enumerate(data.coordinating_units)]
    values = data.as_dict()
    del values["main_units"], values["coordinating_units"]
    return CatalogItem(unit_rows=units, **values)


def _contact_rows(session: Session, contacts: list[ContactData]) -> list[DirectoryContact]:
    unit_ids = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_({c.unit for c in contacts}))).all())
    names = {c.username for c in contacts if c.username}
    user_ids = dict(session.execute(select(User.username, User.id).where(User.username.in_(names))).all()) \
        if names else {}
    return [DirectoryContact(position=n, item_code=c.item_code, unit_id=unit_ids[c.unit], person=c.person,
                             title=c.title, phone=c.phone, jurisdiction=c.jurisdiction,
                             user_id=user_ids.get(c.username))
            for n, c in enumerate(contacts)]


def publish_version(session: Session, number: int, *, today: date, by: str | None = None,
                    effective_date: date | None = None, at: datetime | None = None) -> CatalogVersion:
    """Make a draft binding from its effective date on. Refuses a published version, a missing
    date, and any date that would rewrite the past: before ``today`` (except for the very first
    version) or before the effective date of a version already published."""
    version = get_version(session, number)
    if version.is_published:
        raise Conflict(f"清单第 {number} 版已经发布，已发布的版本不能修改或重新发布")
    effective = effective_date or version.effective_date
    if effective is None:
        raise Invalid("缺少生效日期", {"effective_date": ["发布前必须确定生效日期"]})
    latest = session.scalar(select(func.max(CatalogVersion.effective_date))
                            .where(CatalogVersion.status == "published"))
    if latest is not None and effective < today:
        raise Invalid("生效日期不能早于今天", {"effective_date": [
            f"生效日期 {effective.isoformat()} 早于今天（{today.isoformat()}）：已发生事件应按当时有效的清单认定，不能追溯调整"]})
    if latest is not None and effective < latest:
        raise Invalid("生效日期早于已发布版本", {"effective_date": [
            f"生效日期 {effective.isoformat()} 早于已发布版本的生效日期 {latest.isoformat()}"]})
    version.effective_date = effective
    version.status = "published"
    version.published_by = by
    version.published_at = at or utcnow()
    session.flush()
    return version


def discard_draft(session: Session, number: int) -> None:
    """Delete a draft that will never be published (a mistaken import, a rejected request)."""
    version = get_version(session, number)
    if version.is_published:
        raise Conflict(f"清单第 {number} 版已经发布，不能删除")
    session.delete(version)
    session.flush()


# --- items ---------------------------------------------------------------------------------------

def get_item(session: Session, version: CatalogVersion, code: str) -> CatalogItem:
    item = session.scalars(select(CatalogItem).where(CatalogItem.version_id == version.id,
                                                     CatalogItem.code == code)).first()
    if item is None:
        raise NotFound(f"事项「{code}」不在清单第 {version.number} 版中")
    return item


def item_in_force(session: Session, code: str, on: date | datetime) -> CatalogItem:
    """The item ``code`` as the version in force on ``on`` defines it (``item.version.number``
    tells which). Raises NotFound when no version is in force or the item is not on it."""
    return get_item(session, require_version_in_force(session, on), code)


def responsible_units(item: CatalogItem, township: str | None = None) -> tuple[list[str], list[str]]:
    """(main units, coordinating units) of ``item``, TOWNSHIP resolved to ``township`` if given."""
    return resolve_township(item.main_units, township), resolve_township(item.coordinating_units, township)


def item_snapshot(item: CatalogItem, township: str | None = None) -> dict:
    """A JSON-safe copy of the item for process data: what the procedure relied on, frozen."""
    main, coordinating = responsible_units(item, township)
    version = item.version
    return {"code": item.code, "name": item.name, "area": item.area, "list_type": item.list_type,
            "version": version.number,
            "effective_date": version.effective_date.isoformat() if version.effective_date else None,
            "main_units": main, "coordinating_units": coordinating, "limits": item.limits,
            "county_duty": item.county_duty, "township_duty": item.township_duty,
            "legal_basis": item.legal_basis}


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_items(session: Session, version: CatalogVersion, *, q: str | None = None, area: str | None = None,
                 main_unit: str | None = None, coordinating_unit: str | None = None, unit: str | None = None,
                 list_type: str | None = None, sort: str = "code", page: int = 1, per_page: int = 20) -> Page:
    """Items of ``version`` matching every word of ``q`` (substring of code, name, area, duties or
    legal basis) and every filter; ``unit`` matches either role. Sorted, one page."""
    stmt = select(CatalogItem).where(CatalogItem.version_id == version.id)
    for word in (q or "").split():
        pattern = like_pattern(word)
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            CatalogItem.code, CatalogItem.name, CatalogItem.area, CatalogItem.county_duty,
            CatalogItem.township_duty, CatalogItem.legal_basis))))
    if area:
        stmt = stmt.where(CatalogItem.area == area)
    if list_type:
        stmt = stmt.where(CatalogItem.list_type == list_type)
    for role, code in ((MAIN, main_unit), (COORDINATING, coordinating_unit), (None, unit)):
        if code:
            condition = and_(CatalogItemUnit.item_id == CatalogItem.id, CatalogItemUnit.unit_code == code)
            if role:
                condition = and_(condition, CatalogItemUnit.role == role)
            stmt = stmt.where(exists().where(condition))
    if sort not in SORTS:
        raise Invalid("排序方式有误", {"sort": [f"排序只能是 {'、'.join(SORTS)} 之一"]})
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(*SORTS[sort]).limit(per_page).offset((page - 1) * per_page)
                           .options(selectinload(CatalogItem.unit_rows))).all()
    return Page(list(rows), total, page, per_page)


def areas(session: Session, version: CatalogVersion) -> list[str]:
    return list(session.scalars(select(CatalogItem.area).where(CatalogItem.version_id == version.id)
                                .group_by(CatalogItem.area).order_by(CatalogItem.area)))


# --- comparing versions ------------------------------------------------------------------------

@dataclass
class VersionDiff:
    old: int
    new: int
    added: list[ItemData] = field(default_factory=list)
    removed: list[ItemData] = field(default_factory=list)
    # code → {field: (old value, new value)}
    changed: dict[str, dict[str, tuple]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    contacts_added: list[ContactData] = field(default_factory=list)
    contacts_removed: list[ContactData] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.contacts_added or self.contacts_removed)

    def as_dict(self) -> dict:
        return {"old": self.old, "new": self.new,
                "added": [i.as_dict() for i in self.added], "removed": [i.as_dict() for i in self.removed],
                "changed": [{"code": code, "name": self.names[code],
                             "fields": {f: {"label": ITEM_FIELDS[f], "old": _plain(o), "new": _plain(n)}
                                        for f, (o, n) in fields.items()}}
                            for code, fields in self.changed.items()],
                "contacts_added": [c.as_dict() for c in self.contacts_added],
                "contacts_removed": [c.as_dict() for c in self.contacts_removed]}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def version_content(session: Session, version: CatalogVersion) -> tuple[list[ItemData], list[ContactData]]:
    """Everything a version says, as plain values (for diffs, exports and round-trip checks)."""
    items = session.scalars(select(CatalogItem).where(CatalogItem.version_id == version.id)
                            .order_by(CatalogItem.code).options(selectinload(CatalogItem.unit_rows))).all()
    contacts = session.scalars(select(DirectoryContact).where(DirectoryContact.version_id == version.id)
                               .order_by(DirectoryContact.position)).all()
    return [ItemData.of(i) for i in items], [ContactData.of(c) for c in contacts]


def diff_versions(session: Session, old_number: int, new_number: int) -> VersionDiff:
    old_items, old_contacts = version_content(session, get_version(session, old_number))
    new_items, new_contacts = version_content(session, get_version(session, new_number))
    old_by_code = {i.code: i for i in old_items}
    new_by_code = {i.code: i for i in new_items}
    diff = VersionDiff(old_number, new_number)
    diff.added = [i for code, i in new_by_code.items() if code not in old_by_code]
    diff.removed = [i for code, i in old_by_code.items() if code not in new_by_code]
    for code, new in new_by_code.items():
        old = old_by_code.get(code)
        if old is None or old == new:
            continue
        diff.changed[code] = {f: (getattr(old, f), getattr(new, f)) for f in ITEM_FIELDS
                              if getattr(old, f) != getattr(new, f)}
        diff.names[code] = new.name
    old_set, new_set = set(old_contacts), set(new_contacts)
    diff.contacts_added = [c for c in new_contacts if c not in old_set]
    diff.contacts_removed = [c for c in old_contacts if c not in new_set]
    return diff
