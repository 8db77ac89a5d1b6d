"""The process designers' working copies, and the record of every instance migration.

Deployed versions (``process_definition``) are immutable; a designer's unfinished edit of a
diagram or form is a ``DesignerDraft`` until it is deployed. A migration keeps the instance's
serialized workflow from before the move, so it can be undone while nothing has run since.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow
from .process import ProcessDefinition, ProcessInstance

DRAFT_KINDS = ("bpmn", "form")


class DesignerDraft(Base):
    """A saved, not yet deployed, version of one file (a BPMN diagram or a form's JSON)."""

    __tablename__ = "designer_draft"
    __table_args__ = (UniqueConstraint("kind", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    # The deployed version the edit started from (None for a new file): shown so a designer
    # sees when someone deployed a newer version meanwhile.
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id", ondelete="SET NULL"))
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic concurrency: two designers saving the same draft cannot overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    based_on: Mapped[ProcessDefinition | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class InstanceMigration(Base):
    """One move of an instance from one version to another; revertible while nothing ran since."""

    __tablename__ = "instance_migration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    from_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    to_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    # The workflow as it was before the move (large; read only to revert).
    serialized_before: Mapped[str] = mapped_column(Text, deferred=True)
    # ProcessInstance.version right after the move: any later change of the instance bumps it.
    instance_version_after: Mapped[int | None] = mapped_column(Integer)
    migrated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    migrated_by: Mapped[str | None] = mapped_column(String(64))
    migrated_at = mapped_column(UTCDateTime, default=utcnow, index=True)
    reverted_by: Mapped[str | None] = mapped_column(String(64))
    reverted_at = mapped_column(UTCDateTime)

    instance: Mapped[ProcessInstance] = relationship()
    from_definition: Mapped[ProcessDefinition] = relationship(foreign_keys=[from_definition_id], lazy="joined")
    to_definition: Mapped[ProcessDefinition] = relationship(foreign_keys=[to_definition_id], lazy="joined")
