"""A call keeps the departments and limits of the catalog version in force when it was registered,
whatever later versions say; calls registered later follow the new version."""
from __future__ import annotations

from datetime import date, datetime

from call_support import BJ, STAFFING, county, desk  # noqa: F401
from service.domain.catalog import CatalogChanges, create_version, get_version, publish_version, version_content

MARKET = "scjg_tiancm"      # 县市场监管局: SD-021's lead in version 1
HEALTH = "wjj_jiangh"       # 县卫健局: coordinating in version 1
BUILDING = "zjj_liuht"      # 县住建局: SD-021's lead in version 2


def publish_version_2(core) -> int:
    """Version 2 (effective Tue 2026-03-03): SD-021 led by 住建 with 应急 coordinating, 5-day limit."""
    with core.uow() as uow:
        items, _ = version_content(uow.session, get_version(uow.session, 1))
        item = next(i for i in items if i.code == "SD-021").as_dict()
        item.update(main_units=["zjj"], coordinating_units=["yjj"], handle_working_days=5, acknowledge_hours=4)
        contact = {"item_code": "SD-021", "unit": "zjj", "person": "刘海涛", "title": "质量安全监督站站长",
                   "phone": "0539-5550108", "jurisdiction": "全县", "username": "zjj_liuht"}
        version = create_version(uow.session, 1, changes=CatalogChanges(update=[item], contacts=[contact]),
                                 effective_date=date(2026, 3, 3), source="import", created_by="test")
        publish_version(uow.session, version.number, today=date(2026, 3, 2), by="test")
        uow.commit()
        return version.number


def test_a_call_registered_under_version_1_keeps_its_departments_after_version_2_changes_the_item(desk):
    old = desk.reported("SD-021")                                      # Mon 2 March: version 1 in force
    assert publish_version_2(desk.core) == 2
    desk.clock.set(BJ(2026, 3, 3, 10, 0))                               # version 2 in force from today

    # The old call: still 市场监管 leading and 卫健 coordinating, within version 1's limits.
    desk.do(MARKET, "receive", old, {"receipt": {"decision": "退单", "return_reason": "职能交叉",
                                                 "return_detail": "建议住建部门承办"}})
    desk.do(STAFFING, "arbitrate", old, {"arbitration": {"decision": "维持原部门承办", "opinion": "按第 1 版清单"}})
    receive = desk.task(MARKET, "receive", old)
    assert datetime.fromisoformat(receive["due_at"]) == BJ(2026, 3, 3, 12, 0)    # version 1: 2 hours
    desk.receive(MARKET, old)
    assert sorted(desk.open_tasks(old)) == [("assist", "wjj"), ("handle", "scjg")]
    assert desk.api.tasks(desk.as_(BUILDING), instance_id=old) == []
    ledger = desk.ledger(old)
    assert (ledger["catalog_version"], ledger["main_units"], ledger["coordinating_units"]) == (1, ["scjg"], ["wjj"])
    assert datetime.fromisoformat(ledger["handle_due_at"]) == BJ(2026, 3, 5, 9, 0)

    # A call registered now follows version 2.
    new = desk.reported("SD-021")
    ledger = desk.ledger(new)
    assert (ledger["catalog_version"], ledger["department"]["code"], ledger["coordinating_units"]) == (
        2, "zjj", ["yjj"])
    assert ledger["receiver_contact"] == "刘海涛（质量安全监督站站长，0539-5550108）"
    assert datetime.fromisoformat(ledger["acknowledge_due_at"]) == BJ(2026, 3, 3, 14, 0)     # 4 hours
    assert datetime.fromisoformat(ledger["handle_due_at"]) == BJ(2026, 3, 10, 10, 0)         # 5 working days
    assert desk.task(BUILDING, "receive", new)["candidate_unit"] == "zjj"
