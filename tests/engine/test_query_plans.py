"""Reading one task or one instance must not scan whole tables, however many instances exist.

SQLite plans an outer join wrapped around an inner join by materializing the inner join over
the whole table: loading one task once scanned every process instance, so each completion grew
slower with every instance ever started. These tests replay each SELECT the API ran during a
lifecycle under ``EXPLAIN QUERY PLAN`` and refuse full scans of the tables that grow.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

GROWING_TABLES = ("process_instance", "instance_event", "call_record")


@pytest.fixture
def captured_selects(core):
    if core.db.is_postgres:
        pytest.skip("the planner check reads SQLite's EXPLAIN QUERY PLAN; PostgreSQL plans by statistics")
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            statements.append((statement, parameters))

    event.listen(core.db.engine, "before_cursor_execute", capture)
    yield statements
    event.remove(core.db.engine, "before_cursor_execute", capture)


def full_scans(core, statements) -> list[str]:
    found = []
    with core.db.engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            for row in plan:
                detail = row[-1]
                if any(detail.startswith(f"SCAN {table}") for table in GROWING_TABLES) or "MATERIALIZE" in detail:
                    found.append(f"{detail}  ←  {statement.splitlines()[0][:120]} … {statement[-160:]}")
    return found


def test_a_task_lifecycle_never_scans_the_instance_or_event_tables(api, deployed, core, captured_selects):
    started = api.start("t01_office", "simple_call", {"title": "渣土遗撒"}, business_key="BK-1").json()
    task = api.tasks("t01_office")[0]
    assert api.get(f"/api/tasks/{task['id']}", "t01_office").status_code == 200
    response = api.complete("t01_office", task["id"], {"call_county": True, "dept": "zjj", "description": "遗撒"})
    assert response.status_code == 200, response.text
    receive = response.json()["next_tasks"][0]
    assert api.complete("zjj_contact", receive["id"], {"receiver": "张三"}).status_code == 200
    assert api.get(f"/api/process-instances/{started['id']}", "t01_office").status_code == 200
    assert api.get(f"/api/process-instances/{started['id']}/events", "t01_office").status_code == 200
    assert len(captured_selects) > 5

    assert full_scans(core, captured_selects) == []


def test_the_check_itself_catches_the_nested_join_that_scanned_every_instance(core, captured_selects):
    # The statement the task loader produced before HumanTask.instance became an inner join.
    with core.db.engine.connect() as conn:
        conn.execute(text(
            "SELECT human_task.id FROM human_task LEFT OUTER JOIN (process_instance AS pi "
            "JOIN process_definition AS pd ON pd.id = pi.definition_id) ON pi.id = human_task.instance_id "
            "WHERE human_task.id = 'x'"))
    assert full_scans(core, captured_selects)
