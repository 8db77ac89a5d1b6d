"""The Flask application factory."""
from __future__ import annotations

from flask import Flask, abort, g, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy.exc import DataError, StatementError

from .config import Settings
from .core import Core
from .errors import Invalid, Unauthorized
from .input_guard import DEPTH_MESSAGE, BoundedIntConverter, GuardedRequest, nul_problems, range_problems

# Endpoints anyone may call without logging in; everything else requires a user.
PUBLIC_ENDPOINTS = {"static", "health", "auth.Token", "api-docs.openapi_json", "api-docs.openapi_swagger_ui"}


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def public(view):
    """Mark a view function (or MethodView class) as reachable without login."""
    view.shudi_public = True
    return view


def _is_public(app: Flask) -> bool:
    endpoint = request.endpoint
    if endpoint is None:
        return True  # 404s and the like: let Flask answer them
    if endpoint in PUBLIC_ENDPOINTS:
        return True
    view = app.view_functions.get(endpoint)
    return bool(getattr(view, "shudi_public", False) or getattr(getattr(view, "view_class", None), "shudi_public", False))


def create_app(settings: Settings | None = None, core: Core | None = None) -> Flask:
    settings = settings or (core.settings if core else Settings.from_env())
    core = core or Core(settings)
    app = Flask(__name__)
    app.request_class = GuardedRequest
    # Before any route exists: an id beyond what an integer column holds matches no route (404).
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.upload_max_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not (settings.demo_mode or settings.testing),
        JSON_AS_ASCII=False,
        TESTING=settings.testing,
    )
    app.json.ensure_ascii = False
    app.extensions["shudi"] = core

    from .api import error_payload, register_api

    register_api(app)
    from .public import bp as public_bp

    app.register_blueprint(public_bp)

    @app.before_request
    def _authenticate():
        g.user_id = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            # Signature and age only; the view loads the user in its own unit of work and
            # refuses inactive or deleted accounts there (one database round trip, not two).
            from .services.auth import token_user_id

            try:
                g.user_id = token_user_id(settings.secret_key, header[7:].strip(), settings.token_max_age_seconds)
            except Unauthorized as err:
                if not _is_public(app):
                    return error_payload(401, "unauthorized", err.message)
        elif session.get("user_id") and (not request.path.startswith("/api/") or request.method in SAFE_METHODS):
            # The API is exempt from CSRF tokens, so a cookie may only read it; changes through
            # the API need a bearer token (pages post their own CSRF-protected forms).
            g.user_id = session["user_id"]
        if g.user_id is None and not _is_public(app):
            if request.path.startswith("/api/"):
                return error_payload(401, "unauthorized", "请先登录（Authorization: Bearer <token>）")
            if "web.login" in app.view_functions:
                return redirect(url_for("web.login", next=request.full_path))
            return error_payload(401, "unauthorized", "请先登录")
        return None

    @app.before_request
    def _refuse_unstorable_text():
        if any(isinstance(v, str) and "\x00" in v for v in (request.view_args or {}).values()):
            abort(404)  # no id contains NUL: there is no such thing
        body = request.get_json(silent=True) if request.is_json else None
        if request.json_too_deep:  # before any parser of the view's arguments meets it
            raise Invalid("数据嵌套层次过深", {"body": [DEPTH_MESSAGE]})
        problems = nul_problems(request.args, request.form, body)
        if problems:
            raise Invalid("请求中含有不允许的控制字符", problems)
        return None

    @app.errorhandler(StatementError)
    @app.errorhandler(OverflowError)
    def _value_refused_by_the_database(err):
        # A value the database (or its driver) cannot take; any other statement error is a bug.
        if isinstance(err, StatementError) and not (isinstance(err, DataError) or isinstance(err.orig, OverflowError)):
            raise err
        # The unit of work has rolled back: nothing changed. Name the fields holding huge integers.
        problems = range_problems(request.args, request.form, request.get_json(silent=True) if request.is_json else None)
        message = "提交的数值或文本超出允许的范围"
        if request.path.startswith("/api/"):
            return error_payload(422, "invalid", message, problems)
        return render_template("error.html", title="提交的内容有误", message=message, details=problems), 422

    @app.get("/healthz")
    def health():
        from sqlalchemy import text

        with core.uow() as uow:
            uow.session.execute(text("SELECT 1"))
        return jsonify({"status": "ok"})

    @app.errorhandler(404)
    def _not_found(err):
        if request.path.startswith("/api/"):
            return error_payload(404, "not_found", "资源不存在")
        return err

    from .web import init_web

    init_web(app)
    return app
