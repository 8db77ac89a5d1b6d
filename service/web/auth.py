"""Login and logout with the session cookie (the API uses bearer tokens instead)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..app import public
from ..errors import Unauthorized
from ..services.auth import authenticate
from .common import bp, core, safe_next


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    target = safe_next(request.values.get("next"), url_for("web.home"))
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        with core().uow() as uow:
            try:
                user = authenticate(uow.session, username, request.form.get("password") or "")
            except Unauthorized:
                error = _("用户名或密码错误")
            else:
                language = session.get("lang")
                session.clear()  # a new session id for the new login (no session fixation)
                session.permanent = True
                session["user_id"] = user.id
                if language:
                    session["lang"] = language
                return redirect(target)
    return render_template("auth/login.html", error=error, username=username, next=target), 401 if error else 200


@bp.post("/logout")
@public
def logout():
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    flash(_("您已退出登录"), "info")
    return redirect(url_for("web.login"))
