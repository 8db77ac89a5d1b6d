"""What every API view needs: the core, the current user, pagination."""
from __future__ import annotations

from flask import current_app, g, request
from marshmallow import Schema, fields, validate

from ..errors import Unauthorized


def core():
    return current_app.extensions["shudi"]


def current_user(session):
    """The authenticated user, loaded in ``session`` (the view's unit of work)."""
    from ..services.auth import load_user

    user_id = getattr(g, "user_id", None)
    user = load_user(session, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise Unauthorized("请先登录（Authorization: Bearer <token>）")
    return user


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1), metadata={"description": "页码"})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200),
                              metadata={"description": "每页条数"})


def paginate(session, stmt, args, dump):
    from sqlalchemy import func, select

    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page, per_page = args["page"], args["per_page"]
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).unique().scalars().all()
    return {"items": [dump(r) for r in rows], "total": total, "page": page, "per_page": per_page}


def wants_json() -> bool:
    return request.path.startswith("/api/")
