"""Moving running instances between versions: the dry run page, the (batched) migration, reverts.

The page works without scripts (the form migrates every selected instance at once); with them,
``designer-migrate.js`` posts small batches and shows the progress instance by instance.
"""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import Conflict, Invalid
from ..services import designer as design
from ..services import migration
from .common import core, safe_next
from .designer import bp, designer_user, json_body, json_endpoint


@bp.get("/processes/<key>/migrate")
def migrate_page(key):
    c = core()
    with c.uow() as uow:
        user = designer_user(uow.session)
        versions = design.process_versions(uow.session, key)
        with_running = [v for v in versions if v.running]
        source_id = request.args.get("from", type=int) or (with_running[-1].definition.id if with_running else None)
        target_id = request.args.get("to", type=int) or versions[0].definition.id
        plans = source = target = None
        if source_id and source_id != target_id:
            source, target, plans = migration.dry_run(c, uow.session, user, source_id, target_id)
            if source.key != key:
                raise Invalid(_("所选版本不属于该流程"))
        migrations = [(m, migration.revertible(uow.session, m)) for m in migration.migrations_of(uow.session, key)]
        return render_template("designer/migrate.html", key=key, versions=versions, source_id=source_id,
                               target_id=target_id, source=source, target=target, plans=plans,
                               migrations=migrations, batch_size=5)


def _batch_from_form() -> list[migration.BatchItem]:
    items = []
    for raw in request.form.getlist("instance"):
        instance_id, _sep, version = raw.partition(":")
        if not instance_id.isdigit() or (version and not version.isdigit()):
            raise Invalid(_("实例列表格式错误"), {"instances": [raw]})
        items.append(migration.BatchItem(int(instance_id), int(version) if version else None))
    if not items:
        raise Invalid(_("没有选择流程实例"), {"instances": [_("请至少选择一个要迁移的流程实例")]})
    return items


@bp.post("/migrations/run")
@json_endpoint
def migrate_run():
    """JSON ``{target, instances: [{id, version}]}`` from the page's script, or the plain form."""
    c = core()
    with c.uow() as uow:
        user = designer_user(uow.session)
        design.require_designer(user, "迁移流程实例")
        user_id = user.id
    if request.is_json:
        body = json_body()
        target, items = body.get("target"), migration.parse_batch(body.get("instances"))
    else:
        target, items = request.form.get("target", type=int), _batch_from_form()
    if not isinstance(target, int):
        raise Invalid(_("请选择目标版本"), {"target": [_("目标版本缺失")]})
    results = migration.migrate_batch(c, user_id, target, items)
    if request.is_json:
        return jsonify({"results": [r.as_dict() for r in results]})
    done = sum(r.ok for r in results)
    flash(_("已迁移 %(done)s 个实例，%(failed)s 个未迁移。", done=done, failed=len(results) - done),
          "success" if done == len(results) else "error")
    for result in results:
        if not result.ok:
            flash(f"#{result.instance_id}：{result.message}", "error")
    return redirect(safe_next(request.form.get("back"), url_for("designer.index")))


@bp.post("/migrations/<int:migration_id>/revert")
def migration_revert(migration_id):
    c = core()
    with c.uow() as uow:
        user = designer_user(uow.session)
        record = migration.get_migration(uow.session, migration_id)
        key, instance_id, version = record.from_definition.key, record.instance_id, record.from_definition.version
        try:
            migration.revert_migration(c, uow.session, user, migration_id)
            uow.commit()
            flash(_("已撤销迁移：流程实例 #%(id)s 回到第 %(v)s 版", id=instance_id, v=version), "success")
        except Conflict as err:
            flash(err.message, "error")
    return redirect(url_for("designer.migrate_page", key=key))
