"""The responsibility catalog (属地管理事项清单) and its contact directory (联络员名录库), versioned.

A version is a whole snapshot: its items and its directory contacts. Once a version is published
nothing in it changes again — an incident is judged by the version in force when it happened, so
a correction always makes a new version. ``_refuse_changes_to_published`` enforces that for every
session, whichever code path tries.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import (Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, inspect)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow
from ..errors import Conflict
from .auth import Unit, User

VERSION_STATUSES = ("draft", "published")
# How a version came to be: the first load, a spreadsheet import, or an approved change request.
VERSION_SOURCES = ("initial", "import", "change_request")
# Stands for "the township where the problem is" in an item's unit lists.
TOWNSHIP = "TOWNSHIP"
MAIN, COORDINATING = "main", "coordinating"


class CatalogVersion(Base):
    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # A draft may not know yet when it will apply; publishing requires it.
    effective_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    source: Mapped[str] = mapped_column(String(32))
    source_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    base_number: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at = mapped_column(UTCDateTime)

    items: Mapped[list["CatalogItem"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="CatalogItem.code")
    contacts: Mapped[list["DirectoryContact"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="DirectoryContact.position")

    @property
    def is_published(self) -> bool:
        return self.status == "published"


class CatalogItem(Base):
    __tablename__ = "catalog_item"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    area: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(200))
    list_type: Mapped[str] = mapped_column(String(8))
    county_duty: Mapped[str] = mapped_column(Text)
    township_duty: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    acknowledge_hours: Mapped[int] = mapped_column(Integer)
    handle_working_days: Mapped[int] = mapped_column(Integer)
    warn_before_hours: Mapped[int] = mapped_column(Integer)

    version: Mapped[CatalogVersion] = relationship(back_populates="items")
    unit_rows: Mapped[list["CatalogItemUnit"]] = relationship(
        back_populates="item", cascade="all, delete-orphan", lazy="selectin",
        order_by="CatalogItemUnit.position")

    @property
    def main_units(self) -> list[str]:
        return [r.unit_code for r in self.unit_rows if r.role == MAIN]

    @property
    def coordinating_units(self) -> list[str]:
        return [r.unit_code for r in self.unit_rows if r.role == COORDINATING]

    @property
    def limits(self) -> dict:
        return {"acknowledge_hours": self.acknowledge_hours, "handle_working_days": self.handle_working_days,
                "warn_before_hours": self.warn_before_hours}


class CatalogItemUnit(Base):
    """One responsible unit of an item: a unit code, or TOWNSHIP for the township concerned."""

    __tablename__ = "catalog_item_unit"
    # One role per unit and item: a unit is never both lead and coordinating.
    __table_args__ = (UniqueConstraint("item_id", "unit_code"),
                      Index("ix_catalog_item_unit_unit_role", "unit_code", "role"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_item.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(String(64))

    item: Mapped[CatalogItem] = relationship(back_populates="unit_rows")


class DirectoryContact(Base):
    """A named contact (联络员) of a unit for one item, or a township's standing contact (no item)."""

    __tablename__ = "directory_contact"
    __table_args__ = (Index("ix_directory_contact_version_item", "version_id", "item_code"),
                      Index("ix_directory_contact_version_unit", "version_id", "unit_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    person: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    version: Mapped[CatalogVersion] = relationship(back_populates="contacts")
    unit: Mapped[Unit] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User | None] = relationship(lazy="joined")


# --- published versions are immutable --------------------------------------------------------

def _persisted_status(version: CatalogVersion | None) -> str | None:
    """The status the database holds for ``version`` (before this flush's changes)."""
    if version is None:
        return None
    state = inspect(version)
    if state.transient or state.pending:
        return None
    history = state.attrs.status.history
    if history.deleted:
        return history.deleted[0]
    return version.status


def _version_of(session: Session, obj) -> CatalogVersion | None:
    # An orphan removed from its parent's collection has lost the relationship but keeps the key.
    if isinstance(obj, CatalogVersion):
        return obj
    if isinstance(obj, CatalogItemUnit):
        obj = obj.item or (session.get(CatalogItem, obj.item_id) if obj.item_id else None)
        if obj is None:
            return None
    return obj.version or (session.get(CatalogVersion, obj.version_id) if obj.version_id else None)


_CONTENT = (CatalogItem, CatalogItemUnit, DirectoryContact)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published(session: Session, _context, _instances) -> None:
    touched = [o for o in session.new if isinstance(o, _CONTENT)]
    touched += [o for o in session.dirty if isinstance(o, (CatalogVersion, *_CONTENT)) and session.is_modified(o)]
    touched += [o for o in session.deleted if isinstance(o, (CatalogVersion, *_CONTENT))]
    with session.no_autoflush:
        for obj in touched:
            version = _version_of(session, obj)
            if _persisted_status(version) == "published":
                raise Conflict(f"清单第 {version.number} 版已发布，内容不能再修改；如需调整请创建新版本")
