"""Domain functions offered to BPMN expressions (registered with the engine's helper registry).

Kept here so that adding a catalog lookup is one decorated function; the domain modules they
call stay free of SpiffWorkflow.
"""
from __future__ import annotations

from ..engine import clock
from ..engine.helpers import current, helper
from .catalog import item_in_force, item_snapshot, township_of, unit_register
from .directory import contacts_for
from . import admission, catalog_change  # noqa: F401,E402 - their @helper functions register on import


def _session():
    session = current().session
    if session is None:
        raise RuntimeError("查询属地管理事项清单需要在流程实例中运行")
    return session


def _township(session, unit: str | None) -> str | None:
    # Callers pass whatever unit they have (the township, one of its offices, a village).
    return township_of(unit_register(session), unit) if unit else None


@helper()
def catalog_item(code: str, township: str | None = None) -> dict:
    """The catalog item ``code`` as the version in force now defines it: version number, name,
    area, list type, main and coordinating units, limits and both sides' duties. With
    ``township`` (any unit of it) TOWNSHIP in the unit lists becomes that township's code."""
    session = _session()
    return item_snapshot(item_in_force(session, str(code), clock.now()), _township(session, township))


@helper()
def catalog_contacts(code: str, unit: str, township: str | None = None) -> list[dict]:
    """The directory contacts of ``unit`` for item ``code`` in the version in force now; for
    unit TOWNSHIP, those of ``township``'s offices."""
    session = _session()
    rows = contacts_for(session, str(code), str(unit), on=clock.now(), township=_township(session, township))
    return [{"unit": c.unit.code, "unit_name": c.unit.display_name, "person": c.person, "title": c.title,
             "phone": c.phone, "jurisdiction": c.jurisdiction, "username": c.user.username if c.user else None,
             "standing": c.item_code is None}
            for c in rows]


# The call procedure's helpers live in their own module; importing it registers them.
from . import call_helpers  # noqa: E402,F401
