"""The contact directory (联络员名录库): who to call, per item and unit, in a catalog version.

The directory is part of each catalog version, so the contact named for an incident is the one
that was published when it happened. TOWNSHIP (the township concerned) resolves to the contacts
of that township's offices: their contacts for the item, then their standing contacts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from ..models import Unit
from ..models.catalog import TOWNSHIP, CatalogItem, CatalogVersion, DirectoryContact
from .catalog import Page, get_version, like_pattern, require_version_in_force, township_of, unit_register


def _version(session: Session, version: int | None, on: date | datetime | None) -> CatalogVersion:
    if version is not None:
        return get_version(session, version)
    if on is None:
        raise TypeError("contacts_for needs a version number or a day (on=)")
    return require_version_in_force(session, on)


def contacts_for(session: Session, item_code: str, unit_code: str, *, version: int | None = None,
                 on: date | datetime | None = None, township: str | None = None) -> list[DirectoryContact]:
    """The contacts of ``unit_code`` for ``item_code`` in catalog ``version`` (or the version in
    force ``on`` a day). ``unit_code`` may be TOWNSHIP (then ``township`` — the township or any of
    its units — says which), a township, one of its offices, or a county unit."""
    catalog = _version(session, version, on)
    stmt = _in_version(catalog)
    if unit_code == TOWNSHIP or _is_township_level(session, unit_code):
        units = unit_register(session)
        if unit_code == TOWNSHIP:
            if not township:
                raise TypeError("contacts_for(TOWNSHIP) needs township=")
            codes = [code for code, info in units.items() if info.township == township_of(units, township)]
        elif units[unit_code].kind == "township":
            codes = [code for code, info in units.items() if info.township == unit_code]
        else:
            codes = [unit_code]
        stmt = stmt.where(Unit.code.in_(codes), or_(DirectoryContact.item_code == item_code,
                                                    DirectoryContact.item_code.is_(None)))
        # The item's own contacts first, then the standing ones.
        stmt = stmt.order_by(case((DirectoryContact.item_code.is_(None), 1), else_=0), DirectoryContact.position)
    else:
        stmt = stmt.where(Unit.code == unit_code, DirectoryContact.item_code == item_code) \
            .order_by(DirectoryContact.position)
    return list(session.scalars(stmt))


def _is_township_level(session: Session, unit_code: str) -> bool:
    kind = session.scalar(select(Unit.kind).where(Unit.code == unit_code))
    return kind in ("township", "township_office")


def item_contacts(session: Session, version: CatalogVersion, item_code: str) -> list[DirectoryContact]:
    """Everyone named for one item, in directory order."""
    return list(session.scalars(select(DirectoryContact).where(DirectoryContact.version_id == version.id,
                                                               DirectoryContact.item_code == item_code)
                                .order_by(DirectoryContact.position)))


def search_contacts(session: Session, version: CatalogVersion, *, q: str | None = None, unit: str | None = None,
                    item: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    """Directory rows of ``version`` matching every word of ``q`` (person, title, phone, area, unit
    name, item code), ``unit`` (a unit, or a township with its offices) and ``item``."""
    stmt = _filtered(session, version, q, unit, item)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(DirectoryContact.position).limit(per_page)
                           .offset((page - 1) * per_page)).all()
    return Page(list(rows), total, page, per_page)


def _in_version(version: CatalogVersion):
    return (select(DirectoryContact).join(DirectoryContact.unit).options(contains_eager(DirectoryContact.unit))
            .where(DirectoryContact.version_id == version.id))


def _filtered(session: Session, version: CatalogVersion, q, unit, item):
    stmt = _in_version(version)
    for word in (q or "").split():
        pattern = like_pattern(word)
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            DirectoryContact.person, DirectoryContact.title, DirectoryContact.phone, DirectoryContact.jurisdiction,
            DirectoryContact.item_code, Unit.name, Unit.short_name))))
    if unit:
        units = unit_register(session)
        codes = [code for code, info in units.items() if code == unit or info.township == unit]
        stmt = stmt.where(Unit.code.in_(codes))
    if item:
        stmt = stmt.where(DirectoryContact.item_code == item)
    return stmt


@dataclass
class DirectoryEntry:
    """One person at one unit with every item they answer for (how the directory is published)."""
    unit_code: str
    unit_name: str
    person: str
    title: str
    phone: str
    jurisdiction: str
    items: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    standing: bool = False  # a township's standing contact, for every item


def directory_entries(session: Session, version: CatalogVersion, *, q: str | None = None,
                      unit: str | None = None) -> list[DirectoryEntry]:
    """The directory grouped by person, in directory order: two queries whatever its size."""
    rows = session.scalars(_filtered(session, version, q, unit, None).order_by(DirectoryContact.position)).all()
    names = dict(session.execute(select(CatalogItem.code, CatalogItem.name)
                                 .where(CatalogItem.version_id == version.id)).all())
    entries: dict[tuple, DirectoryEntry] = {}
    for row in rows:
        key = (row.unit.code, row.person, row.phone)
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = DirectoryEntry(row.unit.code, row.unit.display_name, row.person, row.title,
                                                  row.phone, row.jurisdiction)
        if row.item_code is None:
            entry.standing = True
        else:
            entry.items.append((row.item_code, names.get(row.item_code, "")))
    return list(entries.values())
