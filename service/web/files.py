"""Downloading a file attached to a form: for its uploader and for whoever may see its instance."""
from __future__ import annotations

from flask import send_file
from flask_babel import gettext as _

from ..errors import Forbidden, NotFound
from ..models import ProcessInstance
from ..services.instances import can_view_instance
from .common import bp, core, page_user
from .forms import upload_store


@bp.get("/files/<upload_id>")
def download(upload_id):
    store = upload_store()
    with core().uow() as uow:
        user = page_user(uow.session)
        stored = store.get(upload_id)
        if stored is None:
            raise NotFound(_("文件不存在"))
        allowed = user.is_admin or stored.uploaded_by == user.id
        if not allowed and stored.instance_id is not None:
            instance = uow.session.get(ProcessInstance, stored.instance_id)
            allowed = instance is not None and can_view_instance(uow.session, user, instance)
        if not allowed:
            raise Forbidden(_("您无权下载该文件"))
    response = send_file(store.content_path(upload_id), mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
