"""The public pages: what the county publishes on its website, readable without login.

The catalog in force (searchable), each item with both sides' duties, legal basis, limits and
contacts, and the contact directory. Read-only; only published versions; never user accounts
or call records. Each page costs a fixed handful of queries whatever the catalog's size.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from ..app import public
from ..domain.calendar import SHANGHAI
from ..domain.catalog import (areas, get_item, get_version, list_versions, search_items, unit_register,
                              version_in_force)
from ..domain.catalog_rules import LIST_TYPES
from ..domain.directory import directory_entries, item_contacts
from ..engine import clock
from ..errors import NotFound
from ..models.catalog import TOWNSHIP, CatalogItem, CatalogItemUnit

bp = Blueprint("public", __name__, url_prefix="/public")

PER_PAGE = 100
TOWNSHIP_NAME = "属地乡镇（街道）"
ROLES = {"": "主体或配合", "main": "主体责任", "coordinating": "配合责任"}
# "县住建局：负责……；县公安局：负责……" — a new paragraph starts where a unit names its duty.
_DUTY_HEAD = re.compile(r"^[^：；。，]{2,24}：")


def _core():
    return current_app.extensions["shudi"]


def _today():
    return clock.now().astimezone(SHANGHAI).date()


def _published_version(session, number: str | None, in_force=None):
    """The published version asked for, or the one in force today (``in_force`` if the caller
    has it already); 404 otherwise (drafts are never public)."""
    if number:
        try:
            version = get_version(session, int(number))
        except (ValueError, NotFound):
            abort(404)
        if not version.is_published:
            abort(404)
        return version
    return in_force or version_in_force(session, _today())


def duty_paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    for part in (p.strip() for p in (text or "").split("；")):
        if not part:
            continue
        if paragraphs and not _DUTY_HEAD.match(part):
            paragraphs[-1] += "；" + part
        else:
            paragraphs.append(part)
    return paragraphs


def _unit_names(session) -> dict[str, str]:
    names = {code: info.name for code, info in unit_register(session).items()}
    names[TOWNSHIP] = TOWNSHIP_NAME
    return names


def _no_catalog():
    return render_template("public/empty.html", today=_today()), 404


@bp.get("/")
@public
def index():
    return redirect(url_for("public.catalog"))


@bp.get("/catalog")
@public
def catalog():
    args = request.args
    page = max(1, _int(args.get("page"), 1))
    with _core().uow() as uow:
        session = uow.session
        in_force = version_in_force(session, _today())
        version = _published_version(session, args.get("version"), in_force)
        if version is None:
            return _no_catalog()
        role, unit = args.get("role", ""), args.get("unit") or None
        list_type = args.get("list_type") if args.get("list_type") in LIST_TYPES else None
        found = search_items(session, version, q=args.get("q"), area=args.get("area") or None, list_type=list_type,
                             main_unit=unit if role == "main" else None,
                             coordinating_unit=unit if role == "coordinating" else None,
                             unit=unit if role not in ("main", "coordinating") else None,
                             page=page, per_page=PER_PAGE)
        names = _unit_names(session)
        listed_units = session.scalars(select(CatalogItemUnit.unit_code).join(CatalogItemUnit.item)
                                       .where(CatalogItem.version_id == version.id).distinct()).all()
        unit_choices = sorted(((code, names.get(code, code)) for code in listed_units),
                              key=lambda pair: (pair[0] != TOWNSHIP, pair[1]))
        return render_template(
            "public/catalog.html", version=version, page=found, names=names, areas=areas(session, version),
            unit_choices=unit_choices, list_types=LIST_TYPES, roles=ROLES, args=args, today=_today(),
            page_args={k: v for k, v in args.items() if k != "page" and v},
            versions=list_versions(session, published_only=True), in_force=in_force)


@bp.get("/catalog/<code>")
@public
def item(code):
    with _core().uow() as uow:
        session = uow.session
        version = _published_version(session, request.args.get("version"))
        if version is None:
            return _no_catalog()
        try:
            found = get_item(session, version, code)
        except NotFound:
            abort(404)
        contacts = item_contacts(session, version, code)
        return render_template("public/item.html", version=version, item=found, names=_unit_names(session),
                               contacts=contacts, county_duty=duty_paragraphs(found.county_duty),
                               township_duty=duty_paragraphs(found.township_duty),
                               legal_basis=[p for p in re.split(r"[；;]", found.legal_basis) if p.strip()],
                               township=TOWNSHIP, today=_today())


@bp.get("/directory")
@public
def directory():
    args = request.args
    with _core().uow() as uow:
        session = uow.session
        version = _published_version(session, args.get("version"))
        if version is None:
            return _no_catalog()
        entries = directory_entries(session, version, q=args.get("q"), unit=args.get("unit") or None)
        all_entries = directory_entries(session, version) if (args.get("q") or args.get("unit")) else entries
        unit_choices = sorted({(e.unit_code, e.unit_name) for e in all_entries}, key=lambda pair: pair[0])
        return render_template("public/directory.html", version=version, args=args, unit_choices=unit_choices,
                               county=[e for e in entries if not e.standing],
                               townships=[e for e in entries if e.standing], today=_today())


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
