"""Admission of temporary tasks (交办事项准入): the townships' written opinions on a request, the
register of admitted tasks, and the townships' recorded refusals of tasks never admitted.

Opinions are written by the admission procedure while it runs (BPMN helpers in the engine step's
transaction), so a township's answer is on record even when the consultation is later closed by
its deadline. The register is what township staff consult before accepting a task from a county
department: a task neither on the catalog nor in this register may be refused.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow

# A township's written opinion; "absent" is recorded for a township that let the deadline pass.
OPINIONS = {"agree": "同意", "conditional": "附条件同意", "disagree": "不同意", "absent": "逾期未反馈"}


class AdmissionConsultation(Base):
    """One township's answer to the written consultation (书面征求意见) of one admission request."""

    __tablename__ = "admission_consultation"
    __table_args__ = (UniqueConstraint("instance_id", "township"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    township: Mapped[str] = mapped_column(String(64))
    opinion: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)           # the conditions, or the reasons to disagree
    answered_by: Mapped[str | None] = mapped_column(String(64))   # username; None when absent
    answered_by_name: Mapped[str | None] = mapped_column(String(100))
    answered_at = mapped_column(UTCDateTime)
    recorded_at = mapped_column(UTCDateTime, default=utcnow)

    @property
    def opinion_name(self) -> str:
        return OPINIONS.get(self.opinion, self.opinion)


class AdmittedTask(Base):
    """A temporary or phased task approved for hand-over to townships, with what comes with it."""

    __tablename__ = "admitted_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)     # 准入编号, e.g. ZR-2026-001
    title: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[str] = mapped_column(Text)
    main_responsibility: Mapped[str] = mapped_column(Text)
    coordinating_responsibility: Mapped[str] = mapped_column(Text)
    procedure: Mapped[str] = mapped_column(Text)
    guarantee_measures: Mapped[str] = mapped_column(Text)
    funding: Mapped[str] = mapped_column(Text)
    staffing: Mapped[str] = mapped_column(Text)
    technical_support: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date, index=True)
    approval_opinion: Mapped[str | None] = mapped_column(Text)
    approved_at = mapped_column(UTCDateTime)
    source_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    townships: Mapped[list["AdmittedTaskTownship"]] = relationship(
        back_populates="task", cascade="all, delete-orphan", lazy="selectin", order_by="AdmittedTaskTownship.township")

    @property
    def township_codes(self) -> list[str]:
        return [t.township for t in self.townships]

    def status_on(self, day: date) -> str:
        """pending (not started yet) | active | expired."""
        if day < self.period_start:
            return "pending"
        return "active" if day <= self.period_end else "expired"


class AdmittedTaskTownship(Base):
    """A township the admitted task is handed to, with its opinion in the consultation."""

    __tablename__ = "admitted_task_township"
    __table_args__ = (UniqueConstraint("task_id", "township"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("admitted_task.id", ondelete="CASCADE"))
    township: Mapped[str] = mapped_column(String(64), index=True)
    opinion: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)

    task: Mapped[AdmittedTask] = relationship(back_populates="townships")

    @property
    def opinion_name(self) -> str:
        return OPINIONS.get(self.opinion, self.opinion)


class TaskDecline(Base):
    """A township's refusal of a task that is neither on the catalog nor in the register."""

    __tablename__ = "task_decline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township: Mapped[str] = mapped_column(String(64), index=True)
    department: Mapped[str] = mapped_column(String(64), index=True)   # who tried to hand it down
    task_title: Mapped[str] = mapped_column(String(200))
    task_description: Mapped[str] = mapped_column(Text)
    assigned_on: Mapped[date | None] = mapped_column(Date)
    cited_item_code: Mapped[str | None] = mapped_column(String(32))
    cited_admission_code: Mapped[str | None] = mapped_column(String(32))
    remarks: Mapped[str | None] = mapped_column(Text)
    # What the system checked when the refusal was recorded (the catalog version, the register).
    check_note: Mapped[str] = mapped_column(Text)
    catalog_version: Mapped[int | None] = mapped_column(Integer)
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    declined_by: Mapped[str] = mapped_column(String(64))
    declined_by_name: Mapped[str] = mapped_column(String(100))
    declined_at = mapped_column(UTCDateTime, default=utcnow, index=True)
