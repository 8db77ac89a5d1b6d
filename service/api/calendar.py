"""Working-day calendar overrides (administrators), e.g. next year's holiday schedule."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..services.calendar_admin import delete_override, list_overrides, load_year, set_override
from .common import core, current_user

blp = Blueprint("calendar", __name__, url_prefix="/api/calendar", description="工作日历（调休、节假日）")


class OverrideIn(Schema):
    is_working = fields.Boolean(required=True, metadata={"description": "该日是否上班"})
    note = fields.String(load_default="", validate=validate.Length(max=200))


class YearIn(Schema):
    holidays = fields.List(fields.Date(), required=True, metadata={"description": "放假日期"})
    workdays = fields.List(fields.Date(), load_default=list, metadata={"description": "调休上班日期"})
    note = fields.String(load_default="", validate=validate.Length(max=200))


class YearArgs(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


def _dump(row) -> dict:
    return {"day": row.day.isoformat(), "is_working": row.is_working, "note": row.note}


def _changed():
    core().calendar.reload()


@blp.route("/overrides")
class Overrides(MethodView):
    @blp.arguments(YearArgs, location="query")
    def get(self, args):
        c = core()
        with c.uow() as uow:
            current_user(uow.session)
            start, end = c.calendar().known_range()
            return {"known_range": [start.isoformat(), end.isoformat()],
                    "items": [_dump(r) for r in list_overrides(uow.session, args.get("year"))]}


@blp.route("/overrides/<string:day>")
class Override(MethodView):
    @blp.arguments(OverrideIn)
    def put(self, args, day):
        with core().uow() as uow:
            row = set_override(uow.session, current_user(uow.session), _parse_day(day), args["is_working"], args["note"])
            result = _dump(row)
            uow.commit()
        _changed()
        return result

    def delete(self, day):
        with core().uow() as uow:
            delete_override(uow.session, current_user(uow.session), _parse_day(day))
            uow.commit()
        _changed()
        return "", 204


@blp.route("/years/<int:year>")
class Year(MethodView):
    @blp.arguments(YearIn)
    def put(self, args, year):
        with core().uow() as uow:
            count = load_year(uow.session, current_user(uow.session), year, args["holidays"], args["workdays"],
                              args["note"])
            uow.commit()
        _changed()
        return {"year": year, "days": count}


def _parse_day(text: str):
    from datetime import date

    from ..errors import Invalid

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("日期格式错误", {"day": [f"「{text}」不是有效日期（YYYY-MM-DD）"]}) from None
