"""``shudi catalog``: export, import, publish and list versions of the responsibility catalog."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import _core, main

FORMAT_HELP = """\b
文件格式（导出与导入相同）：
  xlsx：一个工作簿，工作表「清单信息」（标题、生效日期）、「事项清单」（每行一个事项）、
        「联络员名录」（每行一名联络员；不填事项编码的是乡镇（街道）常设联络员），
        另附「单位名录」供填写时查阅（导入时忽略）。
  csv： 一个 .zip 压缩包，内含同名的 UTF-8 CSV 文件：清单信息.csv、事项清单.csv、联络员名录.csv
        （及 单位名录.csv）。
列按表头识别，顺序不限；单位可填单位代码或名称，多个单位用「、」分隔；
「属地乡镇（街道）」或 TOWNSHIP 表示事件发生地所在乡镇。"""


@main.group(help="属地管理事项清单与联络员名录")
def catalog():
    pass


def _today():
    from .domain.calendar import SHANGHAI
    from .engine import clock

    return clock.now().astimezone(SHANGHAI).date()


@catalog.command("export", help="导出清单及联络员名录（默认导出今天生效的版本）。\n\n" + FORMAT_HELP)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--version", "number", type=int, help="版本号")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="输出文件（默认 catalog-v<版本号>.xlsx/.zip）")
def export(fmt, number, output):
    from .domain.catalog import get_version, require_version_in_force
    from .domain.catalog_io import export_catalog, export_filename
    from .errors import ServiceError

    core = _core()
    with core.uow() as uow:
        try:
            session = uow.session
            version = get_version(session, number) if number else require_version_in_force(session, _today())
        except ServiceError as err:
            raise click.ClickException(err.message) from None
        data = export_catalog(uow.session, version, fmt)
        path = Path(output or export_filename(version, fmt))
        path.write_bytes(data)
        click.echo(f"已导出清单第 {version.number} 版（{len(version.items)} 项）到 {path}")


@catalog.command("import", help="导入清单及联络员名录，生成新的草稿版本（须再发布才生效）。"
                                "文件先整体检查，有任何错误则不作任何修改。\n\n" + FORMAT_HELP)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--note", help="备注（如文件来源、批准文号）")
def import_(file, note):
    from .domain.catalog_io import CatalogImport, ImportRejected

    core = _core()
    path = Path(file)
    with core.uow() as uow:
        try:
            upload = CatalogImport(uow.session, path.name, path.read_bytes())
            with click.progressbar(length=upload.total_rows, label="检查") as bar:
                upload.check(progress=bar.update)
        except ImportRejected as err:
            click.echo(f"导入失败：{err.message}", err=True)
            for problem in err.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
        version = upload.create(created_by="cli", note=note)
        uow.commit()
    click.echo(f"已导入为草稿：清单第 {version.number} 版，{len(version.items)} 项，联络员 {len(version.contacts)} 条。"
               f"发布：shudi catalog publish {version.number}")


@catalog.command("publish", help="发布草稿版本，自生效日期起生效")
@click.argument("number", type=int)
@click.option("--effective-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="生效日期（默认：草稿中填写的日期）")
def publish(number, effective_date):
    from .domain.catalog import publish_version
    from .engine import clock
    from .errors import ServiceError

    core = _core()
    with core.uow() as uow:
        try:
            version = publish_version(uow.session, number, today=_today(), by="cli",
                                      effective_date=effective_date.date() if effective_date else None,
                                      at=clock.now())
        except ServiceError as err:
            _fail(err)
        uow.commit()
    click.echo(f"已发布清单第 {version.number} 版，{version.effective_date.isoformat()} 起生效")


@catalog.command("discard", help="删除未发布的草稿版本")
@click.argument("number", type=int)
def discard(number):
    from .domain.catalog import discard_draft
    from .errors import ServiceError

    core = _core()
    with core.uow() as uow:
        try:
            discard_draft(uow.session, number)
        except ServiceError as err:
            _fail(err)
        uow.commit()
    click.echo(f"已删除草稿：清单第 {number} 版")


@catalog.command("versions", help="列出清单版本")
def versions():
    from .domain.catalog import STATUS_NAMES, SOURCE_NAMES, item_counts, list_versions

    core = _core()
    with core.uow() as uow:
        counts = item_counts(uow.session)
        for v in list_versions(uow.session):
            effective = v.effective_date.isoformat() if v.effective_date else "未定"
            click.echo(f"第 {v.number} 版  {STATUS_NAMES[v.status]}  生效 {effective}  {counts.get(v.id, 0)} 项  "
                       f"{SOURCE_NAMES[v.source]}  {v.title}")


def _fail(err) -> None:
    click.echo(f"失败：{err.message}", err=True)
    for field, messages in (err.errors or {}).items():
        click.echo(f"  {field}：{'；'.join(messages)}", err=True)
    sys.exit(1)
