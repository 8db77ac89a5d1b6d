"""POST /api/auth/token — username and password for a bearer token."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..services.auth import authenticate, issue_token
from .common import core, current_user

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="登录与令牌")


class Credentials(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenOut(Schema):
    token = fields.String()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())
    unit = fields.String(allow_none=True)


def user_info(user) -> dict:
    return {"username": user.username, "display_name": user.display_name, "roles": sorted(user.roles),
            "unit": user.unit.code if user.unit else None,
            "unit_name": user.unit.display_name if user.unit else None}


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(Credentials)
    @blp.response(200, TokenOut)
    @blp.doc(security=[])
    def post(self, args):
        c = core()
        with c.uow() as uow:
            user = authenticate(uow.session, args["username"], args["password"])
            return {"token": issue_token(c.settings.secret_key, user), **user_info(user)}


@blp.route("/me")
class Me(MethodView):
    def get(self):
        with core().uow() as uow:
            return user_info(current_user(uow.session))
