"""Roles of the 属地管理 procedures and the BPMN lane names that stand for them.

A diagram's lanes are named in Chinese for the civil servants who read it; each lane name must
map to exactly one role here, so a deploy can reject a diagram whose lane nobody holds.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    key: str
    name: str
    lanes: tuple[str, ...] = ()


ROLES: dict[str, Role] = {r.key: r for r in (
    Role("grid_worker", "网格员/村(社区)干部", ("村(社区)/网格员", "网格员", "村(社区)")),
    Role("township_office", "乡镇(街道)办公室", ("乡镇办公室", "乡镇(街道)办公室", "乡镇(街道)", "乡镇")),
    Role("department", "县级部门联络员", ("县级主责部门", "县级配合部门", "县级部门", "申请部门")),
    Role("supervision", "县督查考核部门", ("县督查考核部门", "督查考核部门", "县委县政府督查室")),
    Role("staffing_office", "县委编办", ("县委编办", "县级机构编制部门")),
    Role("justice_bureau", "县司法局", ("县司法局", "县级司法行政部门")),
    Role("city_staffing_office", "市委编办", ("市委编办",)),
    Role("city_justice_bureau", "市司法局", ("市司法局",)),
    Role("county_leadership", "县级党委政府", ("县级党委政府", "县委县政府")),
    Role("designer", "流程设计人员", ("流程设计人员",)),
    Role("admin", "系统管理员", ("系统管理员",)),
)}

ADMIN = "admin"


def _normalise(name: str) -> str:
    # Civil servants type full-width brackets and stray spaces; treat them alike.
    return name.replace("（", "(").replace("）", ")").replace(" ", "").strip()


_LANE_INDEX = {}
for _role in ROLES.values():
    for _name in (_role.key, _role.name, *_role.lanes):
        _LANE_INDEX[_normalise(_name)] = _role.key


def role_for_lane(lane: str | None) -> str | None:
    """The role key a lane stands for, or None for an unknown lane."""
    if not lane:
        return None
    return _LANE_INDEX.get(_normalise(lane))


def is_known_role(key: str) -> bool:
    return key in ROLES
