"""Searching the catalog, finding an item's responsible units and contacts (what the call
procedure routes by), and the BPMN helpers that do it inside an engine step."""
from __future__ import annotations

from datetime import date

import pytest

from catalog_support import demo, item_dict, new_version, run_lookup  # noqa: F401
from service.domain.catalog import (CatalogChanges, get_version, item_in_force, item_snapshot, responsible_units,
                                    search_items)
from service.domain.directory import contacts_for, directory_entries, search_contacts
from service.errors import Invalid


def _codes(core, **filters):
    with core.uow() as uow:
        page = search_items(uow.session, get_version(uow.session, 1), per_page=100, **filters)
        return [i.code for i in page.items]


# --- search ----------------------------------------------------------------------------------------

def test_keyword_matches_a_chinese_substring_of_name_duties_or_legal_basis(core, demo):
    assert _codes(core, q="渣土") == ["SD-024"]  # the name
    assert "SD-001" in _codes(core, q="粪污资源化利用")  # the county duty only
    assert _codes(core, q="分片包干") == ["SD-003"]  # the township duty only
    assert _codes(core, q="畜禽规模养殖污染防治条例") == ["SD-001"]  # the legal basis only
    assert _codes(core, q="SD-02") == [f"SD-02{n}" for n in range(10)]  # the code


def test_every_word_of_the_keyword_must_match(core, demo):
    both = _codes(core, q="养殖 粪污")
    assert "SD-001" in both
    assert set(both) <= set(_codes(core, q="养殖")) & set(_codes(core, q="粪污"))
    assert _codes(core, q="养殖 不存在的词") == []


def test_like_wildcards_in_the_keyword_are_taken_literally(core, demo):
    assert _codes(core, q="%") == []
    assert _codes(core, q="_") == []


def test_filters_by_area_list_type_and_units(core, demo):
    assert _codes(core, area="水利") == ["SD-032", "SD-033", "SD-034"]
    assert _codes(core, list_type="主体") == ["SD-015", "SD-016"]
    assert len(_codes(core, list_type="配合")) == 49
    assert _codes(core, main_unit="TOWNSHIP") == ["SD-015", "SD-016"]
    # 县林业中心 only coordinates on forest fire hazards.
    assert _codes(core, coordinating_unit="lyzx") == ["SD-009"]
    assert _codes(core, main_unit="lyzx") == []
    # SD-006 is led by two departments at once.
    assert "SD-006" in _codes(core, main_unit="nync") and "SD-006" in _codes(core, main_unit="zrzy")
    mzj = _codes(core, unit="mzj")
    assert mzj == ["SD-016", "SD-051"]  # coordinating on one, leading the other
    assert _codes(core, area="生态环境", coordinating_unit="gaj") == ["SD-001", "SD-002", "SD-003", "SD-004"]


def test_results_are_sorted_and_paginated(core, demo):
    with core.uow() as uow:
        version = get_version(uow.session, 1)
        first = search_items(uow.session, version, page=1, per_page=20)
        third = search_items(uow.session, version, page=3, per_page=20)
        by_area = search_items(uow.session, version, sort="area", per_page=100)
        with pytest.raises(Invalid):
            search_items(uow.session, version, sort="random")
        assert (first.total, first.pages) == (51, 3)
        assert [i.code for i in first.items] == [f"SD-{n:03d}" for n in range(1, 21)]
        assert [i.code for i in third.items] == [f"SD-{n:03d}" for n in range(41, 52)]
        areas = [i.area for i in by_area.items]
        assert areas == sorted(areas) and len(set(areas)) == 17


# --- routing: responsible units and contacts -----------------------------------------------------------

def test_township_led_item_resolves_township_to_the_township_concerned(core, demo):
    with core.uow() as uow:
        item = item_in_force(uow.session, "SD-016", date(2026, 3, 2))
        assert responsible_units(item) == (["TOWNSHIP"], ["zjj", "mzj", "nync"])
        assert responsible_units(item, "t07") == (["t07"], ["zjj", "mzj", "nync"])
        snapshot = item_snapshot(item, "t07")
    assert snapshot["version"] == 1 and snapshot["effective_date"] == "2026-01-01"
    assert snapshot["main_units"] == ["t07"] and snapshot["list_type"] == "主体"
    assert snapshot["limits"] == {"acknowledge_hours": 4, "handle_working_days": 10, "warn_before_hours": 24}
    assert snapshot["township_duty"].startswith("负责农户申请受理")


def test_contacts_of_a_county_unit_for_an_item(core, demo):
    with core.uow() as uow:
        s = uow.session
        on_day = contacts_for(s, "SD-024", "zhzf", on=date(2026, 3, 2))
        assert [(c.person, c.phone, c.jurisdiction) for c in on_day] == [("陈志强", "0539-5550110", "全县")]
        assert on_day[0].user.username == "zhzf_chenzq"
        assert contacts_for(s, "SD-024", "zhzf", version=1) == on_day
        assert contacts_for(s, "SD-024", "mzj", version=1) == []  # not responsible for this item
        with pytest.raises(TypeError):
            contacts_for(s, "SD-024", "zhzf")


@pytest.mark.parametrize("township", ["t03", "t03-dzb", "t03-v2"])
def test_township_contacts_resolve_from_any_unit_of_the_township(core, demo, township):
    with core.uow() as uow:
        contacts = contacts_for(uow.session, "SD-015", "TOWNSHIP", version=1, township=township)
        assert [(c.unit.code, c.person) for c in contacts] == [("t03-dzb", "李娜"), ("t03-sthb", "朱建华")]


def test_a_township_or_one_of_its_offices_may_be_asked_directly(core, demo):
    with core.uow() as uow:
        s = uow.session
        assert [c.unit.code for c in contacts_for(s, "SD-001", "t01", version=1)] == ["t01-dzb", "t01-sthb"]
        assert [c.unit.code for c in contacts_for(s, "SD-001", "t01-sthb", version=1)] == ["t01-sthb"]
        with pytest.raises(Invalid):
            contacts_for(s, "SD-001", "TOWNSHIP", version=1, township="sthj")


def test_a_new_contact_in_a_later_version_answers_from_its_effective_date(core, demo):
    contact = {"item_code": "SD-024", "unit": "zhzf", "person": "新联络员", "title": "科长",
               "phone": "0539-5550999", "jurisdiction": "全县"}
    new_version(core, changes=CatalogChanges(update=[item_dict(core, "SD-024")], contacts=[contact]),
                publish_on=date(2026, 4, 1))
    with core.uow() as uow:
        s = uow.session
        assert [c.person for c in contacts_for(s, "SD-024", "zhzf", on=date(2026, 3, 31))] == ["陈志强"]
        assert [c.person for c in contacts_for(s, "SD-024", "zhzf", on=date(2026, 4, 1))] == ["新联络员"]
        # Only that unit's contact for that item was replaced.
        assert [c.person for c in contacts_for(s, "SD-024", "zjj", on=date(2026, 4, 1))] == ["刘海涛"]
        assert [c.person for c in contacts_for(s, "SD-010", "zhzf", on=date(2026, 4, 1))] == \
            [c.person for c in contacts_for(s, "SD-010", "zhzf", version=1)]


def test_a_unit_dropped_from_an_item_takes_its_contacts_with_it(core, demo):
    narrowed = {**item_dict(core, "SD-024"), "coordinating_units": ["zjj"]}
    number = new_version(core, changes=CatalogChanges(update=[narrowed]))
    with core.uow() as uow:
        assert contacts_for(uow.session, "SD-024", "gaj", version=number) == []
        assert len(contacts_for(uow.session, "SD-024", "zjj", version=number)) == 1


def test_directory_search_and_grouping_by_person(core, demo):
    with core.uow() as uow:
        s = uow.session
        version = get_version(s, 1)
        wang = search_contacts(s, version, q="王建国")
        assert wang.total == 3 and {c.item_code for c in wang.items} == {"SD-001", "SD-003", "SD-029"}
        assert search_contacts(s, version, q="5550101").total == 3
        assert search_contacts(s, version, unit="t02").total == 2  # the township's offices
        assert search_contacts(s, version, item="SD-024").total == 3
        entries = directory_entries(s, version)
    assert len(entries) == 66
    wang_entry = next(e for e in entries if e.person == "王建国")
    assert [code for code, _ in wang_entry.items] == ["SD-001", "SD-003", "SD-029"] and not wang_entry.standing
    assert sum(1 for e in entries if e.standing) == 26


# --- the BPMN helpers ------------------------------------------------------------------------------

def test_bpmn_helpers_read_the_catalog_in_force_inside_an_engine_step(core, demo):
    summary = run_lookup(core).summary
    assert summary == {"item_version": 1, "lead": ["t03"], "county_lead": ["zhzf"],
                       "limits": {"acknowledge_hours": 2, "handle_working_days": 3, "warn_before_hours": 8},
                       "township_contacts": ["李娜", "朱建华"], "dept_contact": "陈志强",
                       "dept_username": "zhzf_chenzq"}


def test_a_task_takes_its_unit_and_deadline_from_the_catalog(core, demo, clock):
    from sqlalchemy import select

    from service.models import HumanTask

    instance_id = run_lookup(core).id
    with core.uow() as uow:
        task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
        # SD-024 is led by 县综合执法局 and must be acknowledged within 2 hours.
        assert task.candidate_unit == "zhzf"
        assert task.due_at == core.calendar().add_working_hours(clock.now(), 2)


def test_bpmn_helpers_follow_the_clock_to_the_next_version(core, demo, clock):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    changed = {**item_dict(core, "SD-024"), "acknowledge_hours": 1}
    number = new_version(core, changes=CatalogChanges(update=[changed]), publish_on=date(2026, 4, 1))
    clock.set(datetime(2026, 4, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    summary = run_lookup(core).summary
    assert summary["item_version"] == number and summary["limits"]["acknowledge_hours"] == 1


def test_catalog_helper_outside_an_instance_says_why(core, demo):
    with pytest.raises(RuntimeError, match="流程实例"):
        core.engine.evaluate('catalog_item("SD-001")')
    with core.uow() as uow:
        value = core.engine.evaluate('catalog_item("SD-001")["name"]', session=uow.session)
    assert value == "畜禽养殖污染防治"
