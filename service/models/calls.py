"""The call ledger (《"乡呼县应、上下联动"事项登记表》): one row per call, its own event log, and the
townships' ratings of the departments.

The row is kept up to date by the call procedure itself (BPMN helpers in the engine step's
transaction), so the ledger never disagrees with the process. ``CallEvent`` rows are append-only:
escalations, send-backs, extensions and warnings stay on record for accountability.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow

# status → Chinese label, in the order a call usually passes through them.
CALL_STATUSES = {
    "reporting": "待上报",
    "triage": "待研判",
    "local": "乡镇自行处理",
    "receiving": "待签收",
    "arbitration": "退单审定",
    "handling": "办理中",
    "extension": "延期审批",
    "confirming": "待确认评价",
    "closed": "已办结",
    "closed_local": "自行办结",
}
OPEN_STATUSES = ("reporting", "triage", "local", "receiving", "arbitration", "handling", "extension", "confirming")
RATINGS = ("满意", "基本满意", "不满意")
SOURCES = {"grid": "网格员上报", "township": "乡镇直接发起"}
ESCALATION_LEVELS = {0: "无", 1: "督办", 2: "挂牌督办"}


class CallRecord(Base):
    __tablename__ = "call_record"
    __table_args__ = (Index("ix_call_record_township_called", "township", "called_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)          # 登记编号
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))
    township: Mapped[str] = mapped_column(String(64))   # indexed with called_at below
    # Current holder: a unit where one is known, otherwise the role holding the call.
    holder_unit: Mapped[str | None] = mapped_column(String(64))
    holder_role: Mapped[str | None] = mapped_column(String(32))

    # 上报: who found the problem, where, what was done on the spot.
    reporter_username: Mapped[str | None] = mapped_column(String(64))
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_unit: Mapped[str | None] = mapped_column(String(64))
    reported_at = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    found_at = mapped_column(UTCDateTime)
    onsite_action: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSON, default=list)

    # 研判: the catalog item as the version in force defined it.
    item_code: Mapped[str | None] = mapped_column(String(32), index=True)
    item_name: Mapped[str | None] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(50))
    list_type: Mapped[str | None] = mapped_column(String(8))
    catalog_version: Mapped[int | None] = mapped_column(Integer)
    triage_decision: Mapped[str | None] = mapped_column(String(16))
    triage_opinion: Mapped[str | None] = mapped_column(Text)
    triaged_at = mapped_column(UTCDateTime)

    # 登记: 呼叫人、呼叫时间、呼叫单位、接呼人 and the request.
    caller_username: Mapped[str | None] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(100))
    calling_unit: Mapped[str | None] = mapped_column(String(64))
    called_at = mapped_column(UTCDateTime, index=True)
    problem: Mapped[str | None] = mapped_column(Text)
    request: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(64), index=True)   # the lead main department
    main_units: Mapped[list] = mapped_column(JSON, default=list)
    coordinating_units: Mapped[list] = mapped_column(JSON, default=list)
    receiver_contact: Mapped[str | None] = mapped_column(String(100))       # 接呼人 named by the directory
    receiver_phone: Mapped[str | None] = mapped_column(String(32))
    receiver_username: Mapped[str | None] = mapped_column(String(64))       # who actually received it
    receiver_name: Mapped[str | None] = mapped_column(String(100))

    # Limits and what became of them.
    acknowledge_due_at = mapped_column(UTCDateTime)
    acknowledged_at = mapped_column(UTCDateTime)
    handle_due_at = mapped_column(UTCDateTime, index=True)                 # current, after any extension
    original_handle_due_at = mapped_column(UTCDateTime)
    closed_out_at = mapped_column(UTCDateTime)                              # 销号
    closer_name: Mapped[str | None] = mapped_column(String(100))
    handling_working_days: Mapped[float | None] = mapped_column(Float)
    acknowledge_overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    handle_overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    supervision_due_at = mapped_column(UTCDateTime)
    supervision_note: Mapped[str | None] = mapped_column(Text)
    sendback_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_status: Mapped[str | None] = mapped_column(String(16))       # requested | approved | refused
    extension_days: Mapped[int | None] = mapped_column(Integer)
    redo_count: Mapped[int] = mapped_column(Integer, default=0)
    # Coordinating departments' parts: {unit: {"due_at", "done_at", "result", "overdue"}}.
    assists: Mapped[dict] = mapped_column(JSON, default=dict)

    # 销号 and 确认评价.
    measures: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    rating: Mapped[str | None] = mapped_column(String(8), index=True)
    rating_reason: Mapped[str | None] = mapped_column(Text)
    confirmed_at = mapped_column(UTCDateTime)
    closed_at = mapped_column(UTCDateTime)

    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)

    events: Mapped[list["CallEvent"]] = relationship(back_populates="call", order_by="CallEvent.id",
                                                     cascade="all, delete-orphan")
    ratings: Mapped[list["CallRating"]] = relationship(back_populates="call", order_by="CallRating.id",
                                                       cascade="all, delete-orphan")

    @property
    def status_name(self) -> str:
        return CALL_STATUSES.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CallEvent(Base):
    """Append-only history of one call as the ledger tells it (escalations, send-backs …)."""

    __tablename__ = "call_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call_record.id", ondelete="CASCADE"), index=True)
    at = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str | None] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))
    user_name: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)

    call: Mapped[CallRecord] = relationship(back_populates="events")


class CallRating(Base):
    """One confirmation by the calling township: the input of the departments' reverse evaluation."""

    __tablename__ = "call_rating"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call_record.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(64), index=True)
    township: Mapped[str] = mapped_column(String(64), index=True)
    rater_username: Mapped[str | None] = mapped_column(String(64))
    rater_name: Mapped[str | None] = mapped_column(String(100))
    rated_at = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[CallRecord] = relationship(back_populates="ratings")
