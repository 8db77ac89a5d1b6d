"""Choices of the catalog-item picker (``ui:widget: catalog-item``) on task forms: the items of the
catalog version in force today (service.domain.catalog), as ``(code, "code 名称（领域）")``."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..domain.catalog import version_in_force
from ..models.catalog import CatalogItem


def catalog_item_choices(session, now: datetime) -> list[tuple[str, str]]:
    """Empty when no catalog version is in force (the picker then accepts any code, and the
    process's own checks decide)."""
    version = version_in_force(session, now)
    if version is None:
        return []
    rows = session.execute(select(CatalogItem.code, CatalogItem.name, CatalogItem.area)
                           .where(CatalogItem.version_id == version.id).order_by(CatalogItem.code)).all()
    return [(code, f"{code} {name}（{area}）") for code, name, area in rows]
