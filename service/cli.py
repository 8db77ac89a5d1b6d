"""``shudi``: the one command that runs, migrates, deploys and administers the service."""
from __future__ import annotations

import logging
import os
import sys

import click

from .config import ConfigError, Settings
from .models import UserRole


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as err:
        raise click.ClickException(str(err)) from None


def _core():
    from .core import Core

    return Core(_settings())


@click.group(help="属地管理流程服务 shudi")
def main():
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.group(help="数据库")
def db():
    pass


@db.command("upgrade", help="应用全部数据库迁移")
def db_upgrade():
    from .migrations import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    click.echo("数据库已迁移到最新版本")


@main.command(help="部署流程定义（默认 processes/ 与 forms/）")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--forms", "forms_path", type=click.Path(exists=True, file_okay=False))
def deploy(path, forms_path):
    from pathlib import Path

    from .errors import Invalid
    from .services.deployments import deploy as do_deploy, read_folder

    core = _core()
    processes_dir = Path(path) if path else core.settings.processes_dir
    bpmn, forms = read_folder(processes_dir, Path(forms_path) if forms_path else core.settings.forms_dir)
    if not bpmn:
        click.echo(f"{processes_dir} 中没有 .bpmn 文件，未部署任何流程")
        return
    with core.uow() as uow:
        try:
            results = do_deploy(core, uow.session, bpmn, forms, deployed_by="cli")
        except Invalid as err:
            click.echo(f"部署失败：{err.message}", err=True)
            for problem in err.errors:
                where = ":".join(str(x) for x in (problem["file"], problem["line"]) if x)
                click.echo(f"  {where} [{problem['element_id'] or '-'}] {problem['message']}", err=True)
            sys.exit(1)
        uow.commit()
    for r in results:
        click.echo(f"{r.key} v{r.version} {r.name}{'（新版本）' if r.created else '（未变化）'}")


@main.group(help="用户")
def users():
    pass


@users.command("create", help="创建用户")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--name", "display_name")
@click.option("--unit", "unit_code")
@click.option("--role", "roles", multiple=True)
def users_create(username, password, display_name, unit_code, roles):
    from .errors import Invalid
    from .services.auth import create_user

    core = _core()
    with core.uow() as uow:
        try:
            create_user(uow.session, username=username, password=password, display_name=display_name,
                        unit_code=unit_code, roles=list(roles))
        except Invalid as err:
            for field, messages in err.errors.items():
                click.echo(f"{field}: {'；'.join(messages)}", err=True)
            sys.exit(1)
        uow.commit()
    click.echo(f"已创建用户 {username}")


@main.command(help="载入演示单位、用户与数据（仅演示模式）")
def demo():
    core = _core()
    if not core.settings.demo_mode:
        raise click.ClickException("演示数据只能在演示模式（SHUDI_DEMO=1）下载入")
    from .demo import load_demo

    for line in load_demo(core):
        click.echo(line)


@main.command(help="运行定时器工作进程")
def worker():
    from .worker import TimerWorker

    TimerWorker(_core()).run_forever()


@main.group(help="表单附件")
def uploads():
    pass


@uploads.command("prune", help="删除从未随表单成功提交的附件（定时器工作进程每小时自动执行）")
@click.option("--hours", type=float, help="保留时长（小时），默认取 SHUDI_UPLOAD_RETENTION_HOURS 或 24")
def uploads_prune(hours):
    from datetime import timedelta

    from .uploads import UploadStore

    settings = _settings()
    hours = settings.upload_retention_hours if hours is None else hours
    if hours < 0:
        raise click.BadParameter("保留时长不能为负数", param_hint="--hours")
    pruned = UploadStore(settings.var_dir, settings.upload_max_bytes).prune(timedelta(hours=hours))
    click.echo(f"已删除 {pruned} 个超过 {hours:g} 小时未随表单提交的附件")


@main.command(help="运行开发服务器（生产环境请用 gunicorn 'service.wsgi:app'）")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--with-worker/--no-worker", default=False, help="在同一进程中运行定时器工作线程")
def serve(host, port, with_worker):
    from .app import create_app
    from .worker import TimerWorker

    core = _core()
    app = create_app(core=core)
    if with_worker:
        TimerWorker(core).start_thread()
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@main.group(help="工作日历（节假日与调休的人工设置）")
def calendar():
    pass


@calendar.command("list", help="列出人工设置的日期")
@click.option("--year", type=int)
def calendar_list(year):
    from .services.calendar_admin import list_overrides

    core = _core()
    start, end = core.calendar().known_range()
    click.echo(f"内置节假日数据范围：{start} 至 {end}")
    with core.uow() as uow:
        for row in list_overrides(uow.session, year):
            click.echo(f"{row.day}  {'上班' if row.is_working else '休息'}  {row.note}")


@calendar.command("set", help="把某一天设为上班或休息")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--working/--holiday", required=True, help="上班日 / 休息日")
@click.option("--note", default="")
def calendar_set(day, working, note):
    from .services.calendar_admin import set_override

    core = _core()
    with core.uow() as uow:
        set_override(uow.session, _cli_admin(), day.date(), working, note)
        uow.commit()
    click.echo(f"{day.date()} 已设为{'上班日' if working else '休息日'}")


def _cli_admin():
    """The command line is run by the server's operator, who acts as an administrator."""
    from .models import User

    return User(username="cli", display_name="命令行", password_hash="", role_rows=[UserRole(role="admin")])


from . import cli_catalog  # noqa: E402,F401 - registers "shudi catalog" on main


if __name__ == "__main__":
    main()
