"""Working-day deadlines beyond the calendar's data fail loudly until an administrator enters the
year's schedule; a task in no lane belongs to whoever started the instance."""
from __future__ import annotations

import io
from datetime import datetime

from conftest import FIXTURES, SHANGHAI

DEADLINE = (FIXTURES / "bpmn_extra" / "deadline.bpmn").read_text(encoding="utf-8")

# The State Council's 2027 schedule is not in chinesecalendar 1.11; a made-up notice for the test.
HOLIDAYS_2027 = ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"]
WORKDAYS_2027 = ["2027-02-06"]


def deploy_deadline(api):
    response = api.post("/api/process-definitions", "designer",
                        files=[("files", ("deadline.bpmn", io.BytesIO(DEADLINE.encode()), "application/xml"))])
    assert response.status_code == 201, response.text


def test_a_deadline_beyond_known_holidays_is_a_clear_error_naming_the_date(api, users, clock):
    deploy_deadline(api)
    clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI))
    response = api.start("t01_office", "deadline")
    assert response.status_code == 422
    body = response.json()
    assert "2027-01-0" in body["message"] and "工作日历" in body["message"]
    assert "办理" in body["message"]  # names the element
    assert api.get("/api/process-instances", "admin").json()["total"] == 0


def test_after_the_administrator_enters_the_year_the_deadline_follows_it(api, users, clock):
    deploy_deadline(api)
    response = api.request("PUT", "/api/calendar/years/2027", "admin",
                           json={"holidays": HOLIDAYS_2027, "workdays": WORKDAYS_2027, "note": "2027年节假日安排"})
    assert response.status_code == 200 and response.json()["days"] == 365
    clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI))  # Monday
    assert api.start("t01_office", "deadline").status_code == 201
    task = api.tasks("t01_office")[0]
    # 29, 30, 31 Dec, (1 Jan holiday, 2–3 weekend), 4, 5 Jan → Tuesday 2027-01-05 10:00.
    assert datetime.fromisoformat(task["due_at"]) == datetime(2027, 1, 5, 10, 0, tzinfo=SHANGHAI)


def test_a_single_day_override_moves_a_deadline(api, users, clock):
    deploy_deadline(api)
    # Declare Wednesday 2026-03-04 a local day off: a Monday start ends one day later.
    assert api.request("PUT", "/api/calendar/overrides/2026-03-04", "admin",
                       json={"is_working": False, "note": "县庆"}).status_code == 200
    api.start("t01_office", "deadline")
    due = datetime.fromisoformat(api.tasks("t01_office")[0]["due_at"])
    assert due == datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)
    listed = api.get("/api/calendar/overrides", "t01_office").json()
    assert listed["items"] == [{"day": "2026-03-04", "is_working": False, "note": "县庆"}]
    assert listed["known_range"][1] == "2026-12-31"


def test_only_administrators_change_the_calendar_and_bad_dates_are_named(api, users):
    response = api.request("PUT", "/api/calendar/overrides/2026-03-04", "t01_office", json={"is_working": False})
    assert response.status_code == 403
    response = api.request("PUT", "/api/calendar/overrides/2026-02-30", "admin", json={"is_working": False})
    assert response.status_code == 422 and "day" in response.json()["errors"]
    response = api.request("PUT", "/api/calendar/years/2027", "admin", json={"holidays": ["2028-01-01"]})
    assert response.status_code == 422 and "2028-01-01" in response.json()["errors"]["holidays"][0]


def test_a_task_in_no_lane_belongs_to_the_starter(api, users, add_user):
    deploy_deadline(api)
    add_user("t01_colleague", "t01-dzb", ["township_office"])
    api.start("t01_office", "deadline")
    task = api.tasks("t01_office")[0]
    assert task["lane"] is None
    assert api.tasks("t01_colleague") == []
    response = api.complete("t01_colleague", task["id"], {"result": "代办"})
    assert response.status_code == 403 and "发起人" in response.json()["message"]
    assert api.complete("t01_office", task["id"], {"result": "办结"}).status_code == 200


def test_the_operator_sets_a_day_from_the_command_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from service.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh' / 'cli.sqlite3'}")  # folder not there yet
    monkeypatch.setenv("SECRET_KEY", "s")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(main, ["calendar", "set", "2027-01-04", "--working", "--note", "补班"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["calendar", "list", "--year", "2027"])
    assert "2027-01-04  上班  补班" in listed.output
    assert runner.invoke(main, ["calendar", "set", "2027-13-01", "--working"]).exit_code != 0
