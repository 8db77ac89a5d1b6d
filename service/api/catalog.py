"""The responsibility catalog and contact directory: public reading, admin import and publishing.

Everything published is public (the county publishes it on its website), so the GETs need no
token; drafts are shown only to logged-in users. Nothing here exposes user accounts.
"""
from __future__ import annotations

from flask import g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..app import public
from ..domain.calendar import SHANGHAI
from ..domain.catalog import (SORTS, STATUS_NAMES, SOURCE_NAMES, diff_versions, get_item, get_version,
                              item_counts, list_versions, publish_version, require_version_in_force, search_items,
                              unit_register)
from ..domain.catalog_io import ImportRejected, import_catalog
from ..domain.catalog_rules import LIST_TYPES
from ..domain.directory import item_contacts, search_contacts
from ..engine import clock
from ..errors import Forbidden, Invalid, NotFound
from ..models import User
from ..models.catalog import TOWNSHIP
from .common import PageArgs, core, current_user

blp = Blueprint("catalog", __name__, url_prefix="/api/catalog", description="属地管理事项清单与联络员名录")

TOWNSHIP_NAME = "属地乡镇（街道）"


def today():
    return clock.now().astimezone(SHANGHAI).date()


def _viewer(session) -> User | None:
    """The logged-in user if any: public views answer everyone, but drafts only to staff."""
    user = session.get(User, g.user_id) if getattr(g, "user_id", None) is not None else None
    return user if user is not None and user.active else None


def _admin(session) -> User:
    user = current_user(session)
    if not user.is_admin:
        raise Forbidden("只有系统管理员可以导入或发布清单")
    return user


def _visible_version(session, number: int | None):
    """Version ``number`` (drafts only for logged-in users), or the one in force today."""
    if number is None:
        return require_version_in_force(session, today())
    version = get_version(session, number)
    if not version.is_published and _viewer(session) is None:
        raise NotFound(f"清单第 {number} 版不存在")
    return version


# --- dumps -----------------------------------------------------------------------------------------

def dump_version(v, item_count: int | None = None) -> dict:
    return {"number": v.number, "title": v.title, "status": v.status, "status_name": STATUS_NAMES[v.status],
            "effective_date": v.effective_date.isoformat() if v.effective_date else None,
            "source": v.source, "source_name": SOURCE_NAMES[v.source], "source_instance_id": v.source_instance_id,
            "base_number": v.base_number, "note": v.note, "item_count": item_count,
            "created_at": v.created_at.isoformat() if v.created_at else None,
            "published_at": v.published_at.isoformat() if v.published_at else None}


def _units(codes, units) -> list[dict]:
    return [{"code": c, "name": TOWNSHIP_NAME if c == TOWNSHIP else (units[c].name if c in units else c)}
            for c in codes]


def dump_item(item, units, version_number: int, full: bool = False) -> dict:
    data = {"code": item.code, "version": version_number, "area": item.area, "name": item.name,
            "list_type": item.list_type, "main_units": _units(item.main_units, units),
            "coordinating_units": _units(item.coordinating_units, units), "limits": item.limits}
    if full:
        data.update(county_duty=item.county_duty, township_duty=item.township_duty, legal_basis=item.legal_basis)
    return data


def dump_contact(c) -> dict:
    """A published directory entry: no user account, only what the county publishes."""
    return {"item_code": c.item_code, "unit": {"code": c.unit.code, "name": c.unit.display_name},
            "person": c.person, "title": c.title, "phone": c.phone, "jurisdiction": c.jurisdiction}


def _page_body(version, page, dump) -> dict:
    return {"version": dump_version(version), "total": page.total, "page": page.page, "per_page": page.per_page,
            "items": [dump(row) for row in page.items]}


# --- arguments -------------------------------------------------------------------------------------

class VersionArg(Schema):
    version = fields.Integer(validate=validate.Range(min=1), metadata={"description": "版本号（默认：今天生效的版本）"})


class ItemSearchArgs(PageArgs, VersionArg):
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "关键词（事项名称、职责、法律依据）"})
    area = fields.String(validate=validate.Length(max=50), metadata={"description": "领域"})
    main_unit = fields.String(validate=validate.Length(max=64), metadata={"description": "主体责任单位代码（可为 TOWNSHIP）"})
    coordinating_unit = fields.String(validate=validate.Length(max=64), metadata={"description": "配合责任单位代码"})
    unit = fields.String(validate=validate.Length(max=64), metadata={"description": "责任单位代码（主体或配合）"})
    list_type = fields.String(validate=validate.OneOf(LIST_TYPES, error="清单类型只能是：{choices}"),
                              metadata={"description": "清单类型"})
    sort = fields.String(load_default="code", validate=validate.OneOf(list(SORTS), error="排序只能是：{choices}"),
                         metadata={"description": "排序"})


class DirectoryArgs(PageArgs, VersionArg):
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "关键词（姓名、职务、电话、单位）"})
    unit = fields.String(validate=validate.Length(max=64), metadata={"description": "单位代码（乡镇含其内设机构）"})
    item = fields.String(validate=validate.Length(max=32), metadata={"description": "事项编码"})


class PublishArgs(Schema):
    effective_date = fields.Date(error_messages={"invalid": "生效日期格式应为 YYYY-MM-DD"},
                                 metadata={"description": "生效日期（默认：草稿中填写的日期）"})


# --- versions --------------------------------------------------------------------------------------

@public
@blp.route("/versions")
class Versions(MethodView):
    @blp.doc(security=[])
    def get(self):
        """Catalog versions, newest first (drafts only for logged-in users)."""
        with core().uow() as uow:
            session = uow.session
            counts = item_counts(session)
            versions = list_versions(session, published_only=_viewer(session) is None)
            return {"items": [dump_version(v, counts.get(v.id, 0)) for v in versions]}


@public
@blp.route("/versions/<int:number>")
class VersionDetail(MethodView):
    @blp.doc(security=[])
    def get(self, number):
        """One version with its areas of work."""
        with core().uow() as uow:
            session = uow.session
            version = _visible_version(session, number)
            return dump_version(version, item_counts(session).get(version.id, 0))


@public
@blp.route("/versions/<int:old>/diff/<int:new>")
class VersionComparison(MethodView):
    @blp.doc(security=[])
    def get(self, old, new):
        """What changed from version ``old`` to ``new``: items added, removed and changed (field by
        field), and directory entries added and removed."""
        with core().uow() as uow:
            session = uow.session
            _visible_version(session, old)
            _visible_version(session, new)
            return diff_versions(session, old, new).as_dict()


@blp.route("/versions/<int:number>/publish")
class Publish(MethodView):
    @blp.arguments(PublishArgs)
    def post(self, args, number):
        """Publish a draft (administrators). It binds from its effective date, which may not lie in
        the past nor before an already published version's."""
        with core().uow() as uow:
            session = uow.session
            user = _admin(session)
            version = publish_version(session, number, today=today(), by=user.username,
                                      effective_date=args.get("effective_date"), at=clock.now())
            body = dump_version(version, item_counts(session).get(version.id, 0))
            uow.commit()
            return body


# --- items -----------------------------------------------------------------------------------------

@public
@blp.route("/items")
class Items(MethodView):
    @blp.arguments(ItemSearchArgs, location="query")
    @blp.doc(security=[])
    def get(self, args):
        """Search the items of a version (default: in force today) by keyword and filters."""
        with core().uow() as uow:
            session = uow.session
            version = _visible_version(session, args.get("version"))
            page = search_items(session, version, q=args.get("q"), area=args.get("area"),
                                main_unit=args.get("main_unit"), coordinating_unit=args.get("coordinating_unit"),
                                unit=args.get("unit"), list_type=args.get("list_type"), sort=args["sort"],
                                page=args["page"], per_page=args["per_page"])
            units = unit_register(session)
            return _page_body(version, page, lambda i: dump_item(i, units, version.number))


@public
@blp.route("/items/<code>")
class ItemDetail(MethodView):
    @blp.arguments(VersionArg, location="query")
    @blp.doc(security=[])
    def get(self, args, code):
        """One item with both sides' duties, legal basis, limits and its directory contacts."""
        with core().uow() as uow:
            session = uow.session
            version = _visible_version(session, args.get("version"))
            item = get_item(session, version, code)
            body = dump_item(item, unit_register(session), version.number, full=True)
            body["contacts"] = [dump_contact(c) for c in item_contacts(session, version, code)]
            return body


# --- directory -------------------------------------------------------------------------------------

@public
@blp.route("/directory")
class Directory(MethodView):
    @blp.arguments(DirectoryArgs, location="query")
    @blp.doc(security=[])
    def get(self, args):
        """The contact directory of a version (default: in force today), searchable."""
        with core().uow() as uow:
            session = uow.session
            version = _visible_version(session, args.get("version"))
            page = search_contacts(session, version, q=args.get("q"), unit=args.get("unit"), item=args.get("item"),
                                   page=args["page"], per_page=args["per_page"])
            return _page_body(version, page, dump_contact)


# --- import ----------------------------------------------------------------------------------------

@blp.route("/imports")
class Imports(MethodView):
    @blp.response(201)
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary", "description": ".xlsx 工作簿或 CSV 的 .zip 压缩包"},
        "note": {"type": "string"}}}}}})
    def post(self):
        """Import a whole catalog and directory (administrators) as a new DRAFT version. The file is
        checked completely first; any problem rejects it with every sheet, row and column named."""
        with core().uow() as uow:
            session = uow.session
            user = _admin(session)
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise Invalid("没有上传文件", {"file": ["请上传 .xlsx 工作簿或 CSV 的 .zip 压缩包"]})
            try:
                version = import_catalog(session, upload.filename, upload.read(), created_by=user.username,
                                         note=request.form.get("note"))
            except ImportRejected as err:
                response = jsonify({"code": err.code, "message": err.message, "errors": err.errors,
                                    "problems": [p.as_dict() for p in err.problems]})
                response.status_code = err.status
                return response
            body = dump_version(version, len(version.items))
            uow.commit()
            return body


class ExportArgs(Schema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")),
                           metadata={"description": "xlsx 工作簿，或 csv（两个 CSV 文件的 .zip）"})
    version = fields.Integer(validate=validate.Range(min=1), metadata={"description": "版本号；默认今天生效的版本"})


@blp.route("/exports")
class Exports(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.doc(responses={"200": {"description": "清单与联络员名录文件"}})
    def get(self, args):
        """Export the whole catalog and contact directory of a version (administrators: the file
        carries the contacts' login names), in the same format ``POST /imports`` reads back."""
        from flask import Response

        from ..domain.catalog import require_version_in_force
        from ..domain.catalog_io import export_catalog, export_filename

        with core().uow() as uow:
            session = uow.session
            _admin(session)
            version = (get_version(session, args["version"]) if args.get("version")
                       else require_version_in_force(session, clock.now()))
            data = export_catalog(session, version, args["format"])
            name = export_filename(version, args["format"])
        mimetype = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if args["format"] == "xlsx"
                    else "application/zip")
        return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
