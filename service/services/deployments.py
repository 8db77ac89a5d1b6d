"""Deploying process definitions: parse, check, and store a new version when content changed."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, func, select

from ..engine.deployment import DeploymentRejected
from ..errors import Invalid
from ..models import ProcessDefinition


@dataclass
class Deployed:
    key: str
    name: str
    version: int
    created: bool

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "version": self.version, "created": self.created}


def read_folder(processes_dir: Path, forms_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    bpmn = {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(processes_dir).glob("*.bpmn"))}
    forms = {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(forms_dir).glob("*.json"))}
    return bpmn, forms


def deploy(core, session, bpmn_files: dict[str, str], forms: dict[str, str], *, deployed_by: str | None,
           note: str | None = None) -> list[Deployed]:
    """Parse and check everything first; store nothing unless all of it is valid."""
    try:
        bundle = core.engine.parse_bundle(bpmn_files, forms)
    except DeploymentRejected as rejected:
        raise Invalid("流程定义未通过校验，未部署", [p.as_dict() for p in rejected.problems]) from None
    results = []
    for process in bundle.processes:
        latest = session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == process.key)
                                 .order_by(ProcessDefinition.version.desc()).limit(1)).first()
        if latest is not None and latest.content_hash == process.content_hash:
            results.append(Deployed(process.key, latest.name, latest.version, False))
            continue
        version = (session.scalar(select(func.max(ProcessDefinition.version))
                                  .where(ProcessDefinition.key == process.key)) or 0) + 1
        definition = ProcessDefinition(key=process.key, version=version, name=process.name,
                                       content_hash=process.content_hash, bpmn_files=bundle.bpmn_files,
                                       forms=process.forms, start_roles=process.start_roles,
                                       deployed_by=deployed_by, note=note)
        session.add(definition)
        results.append(Deployed(process.key, process.name, version, True))
    session.flush()
    return results


_LATEST = (select(ProcessDefinition).where(ProcessDefinition.key == bindparam("key"))
           .order_by(ProcessDefinition.version.desc()).limit(1))


def latest_definition(session, key: str) -> ProcessDefinition | None:
    return session.scalars(_LATEST, {"key": key}).first()
