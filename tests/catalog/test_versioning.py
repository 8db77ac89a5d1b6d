"""Catalog versions: the demo load, immutability of published versions, the version in force on a
day, change requests making new drafts, publishing rules, and diffs."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from catalog_support import catalog_rows, demo, item_dict, new_version, run_lookup  # noqa: F401
from service.domain.catalog import (CatalogChanges, create_version, diff_versions, discard_draft, get_version,
                                    item_in_force, publish_version, version_in_force)
from service.domain.directory import contacts_for
from service.errors import Conflict, Invalid, NotFound
from service.models import CatalogItem, CatalogItemUnit, CatalogVersion, DirectoryContact

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- the demo data -------------------------------------------------------------------------------

def test_demo_loads_version_1_published_with_49_county_led_and_2_township_led_items(core, demo):
    with core.uow() as uow:
        version = get_version(uow.session, 1)
        assert (version.status, version.source, version.effective_date) == ("published", "initial", date(2026, 1, 1))
        items = version.items
        assert len(items) == 51
        county_led = [i for i in items if i.list_type == "配合"]
        township_led = [i for i in items if i.list_type == "主体"]
        assert len(county_led) == 49 and len(township_led) == 2
        assert all("TOWNSHIP" not in i.main_units and i.main_units for i in county_led)
        assert [(i.code, i.main_units) for i in township_led] == [("SD-015", ["TOWNSHIP"]), ("SD-016", ["TOWNSHIP"])]
        assert len(version.contacts) == 190
    assert any("49 项" in line and "2 项" in line for line in demo)


def test_demo_load_is_idempotent(core, demo):
    from service.demo import load_demo

    before = catalog_rows(core)
    lines = load_demo(core)
    assert catalog_rows(core) == before
    assert any("新增 0 个" in line for line in lines)
    assert any("未重复载入" in line for line in lines)


def test_demo_users_hold_the_roles_and_units_of_the_directory(core, demo):
    from service.models import User

    with core.uow() as uow:
        users = {u.username: u for u in uow.session.scalars(select(User))}
        assert users["sthj_wangjg"].roles == {"department"} and users["sthj_wangjg"].unit.code == "sthj"
        assert users["t01_sthb_sunh"].roles == {"township_office"} and users["t01_sthb_sunh"].unit.code == "t01-sthb"
        assert users["t05_grid"].roles == {"grid_worker"} and users["t05_grid"].unit.code == "t05-v1"
        assert users["supervisor"].unit.code == "county_dcs" and users["bb_reviewer"].roles == {"staffing_office"}
        assert users["leader"].roles == {"county_leadership"} and users["admin"].is_admin
        # Every directory entry with a username is linked to its user.
        linked = uow.session.scalars(select(DirectoryContact).where(DirectoryContact.user_id.is_not(None))).all()
        assert len(linked) == 190


# --- published versions never change -------------------------------------------------------------

def _change_name(s):
    s.scalars(select(CatalogItem).where(CatalogItem.code == "SD-001")).one().name = "改过的名称"


def _change_limit(s):
    s.scalars(select(CatalogItem).where(CatalogItem.code == "SD-001")).one().handle_working_days = 30


def _change_unit(s):
    s.scalars(select(CatalogItemUnit).where(CatalogItemUnit.unit_code == "sthj")).first().unit_code = "zjj"


def _drop_unit(s):
    item = s.scalars(select(CatalogItem).where(CatalogItem.code == "SD-001")).one()
    item.unit_rows.pop()


def _add_item(s):
    version = s.scalars(select(CatalogVersion)).one()
    version.items.append(CatalogItem(code="SD-099", area="水利", name="新增", list_type="配合", county_duty="x",
                                     township_duty="y", legal_basis="z", acknowledge_hours=1,
                                     handle_working_days=1, warn_before_hours=1))


def _delete_item(s):
    s.delete(s.scalars(select(CatalogItem).where(CatalogItem.code == "SD-001")).one())


def _change_contact(s):
    s.scalars(select(DirectoryContact)).first().phone = "110"


def _change_effective_date(s):
    s.scalars(select(CatalogVersion)).one().effective_date = date(2025, 1, 1)


def _unpublish(s):
    s.scalars(select(CatalogVersion)).one().status = "draft"


def _delete_version(s):
    s.delete(s.scalars(select(CatalogVersion)).one())


@pytest.mark.parametrize("change", [_change_name, _change_limit, _change_unit, _drop_unit, _add_item, _delete_item,
                                    _change_contact, _change_effective_date, _unpublish, _delete_version])
def test_nothing_in_a_published_version_can_be_changed_by_any_code_path(core, demo, change):
    before = catalog_rows(core)
    with core.uow() as uow:
        change(uow.session)
        with pytest.raises(Conflict, match="已发布"):
            uow.session.flush()
    assert catalog_rows(core) == before
    with core.uow() as uow:
        assert item_dict(core, "SD-001")["name"] == "畜禽养殖污染防治"
        assert get_version(uow.session, 1).effective_date == date(2026, 1, 1)


def test_publishing_or_discarding_a_published_version_is_refused(core, demo):
    with core.uow() as uow:
        with pytest.raises(Conflict, match="已经发布"):
            publish_version(uow.session, 1, today=date(2026, 3, 2))
        with pytest.raises(Conflict, match="不能删除"):
            discard_draft(uow.session, 1)


def test_a_draft_is_not_frozen_and_may_be_discarded(core, demo):
    number = new_version(core, effective_date=date(2026, 6, 1))
    with core.uow() as uow:
        draft = get_version(uow.session, number)
        draft.items[0].name = "草稿可以改"
        uow.session.flush()
        discard_draft(uow.session, number)
        uow.commit()
    assert catalog_rows(core)[0] == 1


# --- the version in force ------------------------------------------------------------------------

def test_the_version_in_force_is_the_latest_published_one_already_effective(core, demo):
    item = item_dict(core, "SD-024")
    item["handle_working_days"] = 2
    draft = new_version(core, changes=CatalogChanges(update=[item]), effective_date=date(2026, 4, 1))
    with core.uow() as uow:
        s = uow.session
        assert version_in_force(s, date(2025, 12, 31)) is None
        assert version_in_force(s, date(2026, 1, 1)).number == 1
        # A draft is never in force, whatever its date.
        assert version_in_force(s, date(2026, 5, 1)).number == 1
        publish_version(s, draft, today=date(2026, 3, 2))
        uow.commit()
    with core.uow() as uow:
        s = uow.session
        assert version_in_force(s, date(2026, 3, 31)).number == 1
        assert version_in_force(s, date(2026, 4, 1)).number == draft
        # An aware datetime counts by its Beijing calendar day: 16:30 UTC on 31 March is 1 April.
        assert version_in_force(s, datetime(2026, 3, 31, 16, 30, tzinfo=ZoneInfo("UTC"))).number == draft
        before = item_in_force(s, "SD-024", datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI))
        after = item_in_force(s, "SD-024", datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI))
        assert (before.version.number, before.handle_working_days) == (1, 3)
        assert (after.version.number, after.handle_working_days) == (draft, 2)
        assert after.main_units == ["zhzf"] and after.coordinating_units == ["zjj", "gaj"]
        assert after.limits == {"acknowledge_hours": 2, "handle_working_days": 2, "warn_before_hours": 8}


def test_item_in_force_refuses_unknown_items_and_days_without_a_catalog(core, demo):
    with core.uow() as uow:
        with pytest.raises(NotFound, match="SD-999"):
            item_in_force(uow.session, "SD-999", date(2026, 3, 2))
        with pytest.raises(NotFound, match="没有生效"):
            item_in_force(uow.session, "SD-001", date(2025, 6, 1))
        with pytest.raises(ValueError):
            item_in_force(uow.session, "SD-001", datetime(2026, 3, 2, 9, 0))


def test_a_removed_item_is_no_longer_in_force_and_its_contacts_go_with_it(core, demo):
    number = new_version(core, changes=CatalogChanges(remove=["SD-051"]), publish_on=date(2026, 3, 10))
    with core.uow() as uow:
        s = uow.session
        assert item_in_force(s, "SD-051", date(2026, 3, 9)).version.number == 1
        with pytest.raises(NotFound):
            item_in_force(s, "SD-051", date(2026, 3, 10))
        assert contacts_for(s, "SD-051", "mzj", version=1)
        assert contacts_for(s, "SD-051", "mzj", version=number) == []
        # The rest of the directory was carried over.
        assert len(get_version(s, number).contacts) == 190 - 3


# --- publishing rules ----------------------------------------------------------------------------

def test_publishing_may_not_rewrite_the_past(core, demo):
    number = new_version(core)
    with core.uow() as uow:
        s = uow.session
        with pytest.raises(Invalid, match="生效日期") as err:
            publish_version(s, number, today=date(2026, 3, 2))  # no date yet
        assert "effective_date" in err.value.errors
        with pytest.raises(Invalid, match="早于今天"):
            publish_version(s, number, today=date(2026, 3, 2), effective_date=date(2026, 3, 1))
        publish_version(s, number, today=date(2026, 3, 2), effective_date=date(2026, 3, 2))
        uow.commit()
    later = new_version(core)
    with core.uow() as uow:
        # A second version on the same day is fine: the later publication wins.
        publish_version(uow.session, later, today=date(2026, 3, 2), effective_date=date(2026, 3, 2))
        uow.commit()
        assert version_in_force(uow.session, date(2026, 3, 2)).number == later


def test_a_version_dated_before_a_published_future_version_is_refused(core, demo):
    new_version(core, publish_on=date(2026, 7, 1))
    number = new_version(core)
    with core.uow() as uow:
        with pytest.raises(Invalid, match="早于已发布版本"):
            publish_version(uow.session, number, today=date(2026, 3, 2), effective_date=date(2026, 5, 1))


# --- making versions -----------------------------------------------------------------------------

def test_a_change_request_makes_a_new_draft_and_leaves_the_base_alone(core, demo, deployed_instance):
    added = {**item_dict(core, "SD-003"), "code": "SD-052", "name": "露天烧烤油烟", "main_units": ["zhzf"],
             "coordinating_units": ["sthj"]}
    changed = {**item_dict(core, "SD-024"), "coordinating_units": ["zjj", "gaj", "jtj"]}
    contact = {"item_code": "SD-052", "unit": "zhzf", "person": "陈志强", "title": "大队长",
               "phone": "0539-5550110", "jurisdiction": "全县"}
    with core.uow() as uow:
        version = create_version(uow.session, 1, changes=CatalogChanges(add=[added], update=[changed],
                                                                        remove=["SD-050"], contacts=[contact]),
                                 effective_date=date(2026, 4, 1), source="change_request",
                                 source_instance_id=deployed_instance, created_by="leader")
        uow.commit()
        assert (version.number, version.status, version.base_number) == (2, "draft", 1)
        assert version.source_instance_id == deployed_instance
    with core.uow() as uow:
        diff = diff_versions(uow.session, 1, 2)
    assert [i.code for i in diff.added] == ["SD-052"]
    assert [i.code for i in diff.removed] == ["SD-050"]
    assert diff.changed == {"SD-024": {"coordinating_units": (("zjj", "gaj"), ("zjj", "gaj", "jtj"))}}
    assert [(c.item_code, c.person) for c in diff.contacts_added] == [("SD-052", "陈志强")]
    assert {c.item_code for c in diff.contacts_removed} == {"SD-050"}
    body = diff.as_dict()
    assert body["changed"][0]["fields"]["coordinating_units"] == {
        "label": "配合责任单位", "old": ["zjj", "gaj"], "new": ["zjj", "gaj", "jtj"]}
    assert item_dict(core, "SD-024")["coordinating_units"] == ["zjj", "gaj"]
    assert catalog_rows(core)[1] == 51 + 51


def test_diff_of_a_version_with_itself_is_empty(core, demo):
    with core.uow() as uow:
        assert diff_versions(uow.session, 1, 1).is_empty


def test_change_requests_must_name_their_process_instance_and_touch_existing_items(core, demo):
    with core.uow() as uow:
        s = uow.session
        with pytest.raises(Invalid) as err:
            create_version(s, 1, changes=CatalogChanges(remove=["SD-001"]), source="change_request")
        assert "source_instance_id" in err.value.errors
        with pytest.raises(Invalid) as err:
            create_version(s, 1, changes=CatalogChanges(remove=["SD-404"], update=[{"code": "SD-405"}],
                                                        add=[{"code": "SD-001"}]), source="import")
        assert set(err.value.errors) == {"SD-404.code", "SD-405.code", "SD-001.code"}
        with pytest.raises(Conflict, match="初始载入"):
            create_version(s, 1, source="initial")
    assert catalog_rows(core)[0] == 1


def test_an_invalid_item_is_reported_by_code_and_field_and_nothing_is_written(core, demo):
    bad = {**item_dict(core, "SD-001"), "main_units": ["sthj", "nowhere"], "coordinating_units": ["sthj"],
           "acknowledge_hours": 0, "name": " "}
    before = catalog_rows(core)
    with core.uow() as uow:
        with pytest.raises(Invalid) as err:
            create_version(uow.session, 1, changes=CatalogChanges(update=[bad]), source="import")
    errors = err.value.errors
    assert set(errors) == {"SD-001.main_units", "SD-001.coordinating_units", "SD-001.acknowledge_hours",
                           "SD-001.name"}
    assert "单位「nowhere」不存在" in errors["SD-001.main_units"][0]
    assert "不能同时是主体责任单位和配合责任单位" in errors["SD-001.coordinating_units"][0]
    assert catalog_rows(core) == before


@pytest.fixture
def deployed_instance(core, demo):
    """A process instance for versions made by an approved change request to point at."""
    return run_lookup(core).id


def test_a_version_needs_at_least_one_item(core, demo):
    with core.uow() as uow:
        with pytest.raises(Invalid) as err:
            create_version(uow.session, items=[], title="空清单", source="import")
    assert err.value.errors == {"items": ["清单至少要有一个事项"]}
