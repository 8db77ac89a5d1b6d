"""The server-rendered pages for staff and administrators (Chinese, English on request).

``init_web(app)`` is called by the app factory: languages, CSRF protection of every form outside
/api/ (the API authenticates with bearer tokens), security headers, error pages, and the pages.
"""
from __future__ import annotations

from datetime import timedelta
from functools import partial

from flask import g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge

from . import common
from .i18n import LANGUAGES, init_i18n

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def init_web(app) -> None:
    core = app.extensions["shudi"]
    init_i18n(app, core.settings.var_dir)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(seconds=core.settings.token_max_age_seconds))
    # A long form must not expire while someone types: the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    @app.before_request
    def _protect_forms():
        if request.method not in _SAFE_METHODS and not request.path.startswith("/api/"):
            csrf.protect()

    @app.errorhandler(CSRFError)
    def _csrf_failed(err):
        return render_template("error.html", title=_("页面已过期"),
                               message=_("页面已过期或来源不明，请返回上一页刷新后重新提交。")), 400

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(err):
        limit = core.settings.upload_max_bytes // (1024 * 1024)
        if request.path.startswith("/api/"):
            from ..api import error_payload

            return error_payload(413, "too_large", f"上传内容过大（不超过 {limit} MB）")
        return render_template("error.html", title=_("上传内容过大"),
                               message=_("上传的文件合计不能超过 %(mb)s MB，请压缩或分次上传。", mb=limit)), 413

    _register_template_helpers(app)
    from . import admin, admission, auth, files, instances, start, tasks  # noqa: F401 - the views register themselves

    from . import calls  # noqa: F401 - the call ledger's pages (事项台账)

    app.register_blueprint(common.bp)
    app.register_blueprint(common.admin_bp)
    from . import designer

    designer.register(app)


def _register_template_helpers(app) -> None:
    app.add_template_filter(common.local_time, "local_time")
    app.add_template_filter(common.time_left, "time_left")
    app.add_template_filter(common.element_kind, "element_kind")
    for name, labels in (("status_label", common.STATUS_LABELS), ("event_label", common.EVENT_LABELS),
                         ("state_label", common.STATE_LABELS), ("light_label", common.LIGHT_LABELS)):
        app.add_template_global(partial(common.label, labels), name)

    @app.context_processor
    def _globals():
        return {"viewer": getattr(g, "viewer", None), "open_task_count": getattr(g, "open_task_count", None),
                "languages": LANGUAGES, "current_locale": str(get_locale())}
