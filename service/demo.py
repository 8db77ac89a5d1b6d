"""Demo data: the fictional 沂河县 (units, catalog version 1, contact directory) and its users.

Only ``shudi demo`` calls this, and it refuses outside demo mode; every demo password is
``demo1234``. Loading twice changes nothing: units are matched by code, users by username, and
the catalog is loaded only into an empty catalog.
"""
from __future__ import annotations

from sqlalchemy import func, select

from .domain.calendar import SHANGHAI
from .domain.catalog import create_version, publish_version
from .domain.catalog_io import read_yaml
from .engine import clock
from .models import CatalogVersion, Unit, User
from werkzeug.security import generate_password_hash

from .services import auth
from .services.auth import create_user

DEMO_PASSWORD = "demo1234"

# username, display name, roles, unit code
STAFF = (
    ("admin", "系统管理员", ["admin"], None),
    ("designer", "流程设计人员", ["designer"], None),
    ("supervisor", "县委县政府督查室", ["supervision"], "county_dcs"),
    ("bb_reviewer", "县委编办审核人", ["staffing_office"], "county_bb"),
    ("sfj_reviewer", "县司法局审核人", ["justice_bureau"], "county_sfj"),
    ("city_bb", "市委编办审核人", ["city_staffing_office"], "city_bb"),
    ("city_sfj", "市司法局审核人", ["city_justice_bureau"], "city_sfj"),
    ("leader", "县委县政府", ["county_leadership"], "county_gov"),
)
TOWNSHIP_UNIT_KINDS = ("township", "township_office")


def load_demo(core) -> list[str]:
    units, meta, items, contacts = read_yaml(core.settings.catalog_dir)
    with core.uow() as uow:
        session = uow.session
        new_units = _upsert_units(session, units)
        kinds = {u["code"]: u["kind"] for u in units}
        accounts = _accounts(units, contacts, kinds)
        new_users = _create_users(session, accounts)
        catalog_line = _load_catalog(session, meta, items, contacts)
        uow.commit()
    return _report(units, new_units, accounts, new_users, catalog_line, contacts)


def _upsert_units(session, rows: list[dict]) -> int:
    existing = {u.code: u for u in session.scalars(select(Unit))}
    created = 0
    for row in rows:  # parents come before their offices and villages in units.yaml
        unit = existing.get(row["code"])
        if unit is None:
            unit = existing[row["code"]] = Unit(code=row["code"])
            session.add(unit)
            created += 1
        unit.name, unit.short_name, unit.kind = row["name"], row.get("short_name"), row["kind"]
        unit.parent = existing[row["parent"]] if row.get("parent") else None
    session.flush()
    return created


def _accounts(units: list[dict], contacts: list[dict], kinds: dict[str, str]) -> list[tuple]:
    """(username, display name, roles, unit, phone) of every demo user, staff first."""
    accounts = [(*row, None) for row in STAFF]
    seen = {row[0] for row in STAFF}
    for contact in contacts:
        username = contact.get("username")
        if not username or username in seen:
            continue
        seen.add(username)
        role = "township_office" if kinds[contact["unit"]] in TOWNSHIP_UNIT_KINDS else "department"
        accounts.append((username, contact["person"], [role], contact["unit"], contact["phone"]))
    for unit in units:
        if unit["kind"] == "village" and unit["code"].endswith("-v1"):
            township = unit["parent"]
            accounts.append((f"{township}_grid", f"{unit.get('short_name') or unit['name']}网格员", ["grid_worker"],
                             unit["code"], None))
    return accounts


def _create_users(session, accounts: list[tuple]) -> int:
    existing = set(session.scalars(select(User.username)))
    created = 0
    # Every demo account shares one password: hash it once instead of ~90 times (scrypt is slow on purpose).
    shared_hash = generate_password_hash(DEMO_PASSWORD, method=auth.PASSWORD_METHOD)
    for username, display_name, roles, unit, phone in accounts:
        if username in existing:
            continue
        create_user(session, username=username, password=DEMO_PASSWORD, display_name=display_name,
                    unit_code=unit, roles=roles, phone=phone, password_hash=shared_hash)
        created += 1
    return created


def _load_catalog(session, meta: dict, items: list[dict], contacts: list[dict]) -> str:
    if session.scalar(select(func.count()).select_from(CatalogVersion)):
        latest = session.scalar(select(func.max(CatalogVersion.number)))
        return f"清单已存在（最新为第 {latest} 版），未重复载入"
    version = create_version(session, items=items, contacts=contacts, title=meta["title"],
                             effective_date=meta["effective_date"], source="initial", created_by="demo",
                             note="演示数据初始载入（catalog/*.yaml）")
    now = clock.now()
    publish_version(session, version.number, today=now.astimezone(SHANGHAI).date(), by="demo", at=now)
    county_led = sum(1 for i in items if i["list_type"] == "配合")
    return (f"清单第 {version.number} 版已发布：{len(items)} 项（县级部门主体责任 {county_led} 项、"
            f"乡镇（街道）主体责任 {len(items) - county_led} 项），生效日期 {version.effective_date.isoformat()}")


def _report(units, new_units, accounts, new_users, catalog_line, contacts) -> list[str]:
    by_name = {a[0]: a for a in accounts}
    township_contact = next(c for c in contacts if c["item_code"] is None)
    department_contact = next(c for c in contacts if c["item_code"] is not None)
    grid = next(a for a in accounts if a[2] == ["grid_worker"])
    lines = [
        "演示数据（沂河县为虚构县，人员姓名和电话均为虚构）：",
        f"  单位 {len(units)} 个（新增 {new_units} 个）",
        f"  {catalog_line}",
        f"  联络员名录 {len(contacts)} 条；演示用户 {len(accounts)} 个（新增 {new_users} 个）",
        f"演示账号（密码均为 {DEMO_PASSWORD}）：",
    ]
    for username, *_ in STAFF:
        lines.append(f"  {username:<14} {by_name[username][1]}")
    for contact, what in ((township_contact, "乡镇（街道）办公室"), (department_contact, "县级部门联络员")):
        lines.append(f"  {contact['username']:<14} {contact['person']}，{what}（{contact['unit']}）")
    lines.append(f"  {grid[0]:<14} {grid[1]}（各乡镇同样有 <乡镇代码>_grid，如 t02_grid）")
    lines.append("  其余联络员的登录名见 catalog/directory.yaml 的 username")
    return lines
