"""Process definitions (deployed versions), running instances and their projections.

The instance row holds the serialized workflow without its spec; the spec comes from the
definition version it started on. ``HumanTask`` rows and ``InstanceEvent`` rows are kept in the
same transaction as the instance, so task lists and timelines never disagree with the engine.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow

INSTANCE_STATUSES = ("running", "suspended", "completed", "terminated", "error")


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # {filename: text} of every BPMN file and every form of the deployment, frozen with it.
    # Deferred: large, and needed only when a version is parsed (once per process).
    bpmn_files: Mapped[dict] = mapped_column(JSON, deferred=True)
    forms: Mapped[dict] = mapped_column(JSON, deferred=True)
    start_roles: Mapped[list] = mapped_column(JSON, default=list)
    deployed_by: Mapped[str | None] = mapped_column(String(64))
    deployed_at = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_due", "status", "next_timer_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(128), index=True)
    business_key: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    # Deferred: the engine restores from its cache when the version matches.
    serialized: Mapped[str] = mapped_column(Text, deferred=True)
    # Optimistic concurrency: every UPDATE checks and bumps it (SQLAlchemy version_id_col).
    version: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    timer_attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    ended_at = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element: Mapped[str | None] = mapped_column(String(128))
    # A small searchable summary (title, catalog item, township …) set by helper functions.
    summary: Mapped[dict] = mapped_column(JSON, default=dict)

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}


class HumanTask(Base):
    __tablename__ = "human_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(128), index=True)
    element_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(64), index=True)
    candidate_unit: Mapped[str | None] = mapped_column(String(64), index=True)
    # For a task in no lane: only the starter may complete it (SpiffArena's convention).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    form_file: Mapped[str | None] = mapped_column(String(200))
    ui_form_file: Mapped[str | None] = mapped_column(String(200))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    due_at = mapped_column(UTCDateTime, index=True)
    warn_at = mapped_column(UTCDateTime)

    # Inner join: every task has its instance, and an outer join around the instance→definition
    # inner join makes SQLite materialize a scan of every instance on each task load.
    instance: Mapped[ProcessInstance] = relationship(lazy="joined", innerjoin=True)


class InstanceEvent(Base):
    """Append-only history of an instance: nothing ever updates or deletes a row."""

    __tablename__ = "instance_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    at = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    element_id: Mapped[str | None] = mapped_column(String(128))
    element_name: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
