"""The process designers' use cases: processes and their versions, working copies of diagrams and
forms, validating and deploying from the editor.

Where edited files live
-----------------------
* A deployed version (``process_definition``) freezes its BPMN files and forms; it never changes,
  and running instances stay on it until someone migrates them.
* A designer's saved but not yet deployed edit is a *draft* (``designer_draft``, one per file,
  shared by all designers, with optimistic concurrency so nobody overwrites another's save).
* The *current copy* of a file is its draft, else its newest deployed copy, else the repository
  folder (``processes/``, ``forms/``); a name found nowhere is a new file.
* Deploying from the editor deploys the edited diagram with the current copies of what it uses —
  the diagrams of the processes it calls and its forms — through the normal deploy path
  (``services.deployments.deploy``). Drafts that are now deployed unchanged are removed; the
  validation result names any other drafts a deploy would include.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import undefer
from sqlalchemy.orm.exc import StaleDataError

from ..engine import clock
from ..engine.deployment import DeploymentRejected
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import ProcessDefinition, ProcessInstance
from ..models.designer import DesignerDraft
from .deployments import Deployed, deploy, latest_definition, read_folder
from .designer_diff import BPMN_NS, VersionDiff, diff_versions, file_of_process, parse

DESIGNER_ROLES = frozenset({"designer", "admin"})
MAX_FILE_BYTES = 2 * 1024 * 1024
NOTE_MAX = 500
# A file name becomes part of URLs and of the BPMN bundle: plain ASCII, no folders.
_NAMES = {"bpmn": re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,120}\.bpmn$"),
          "form": re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.json$")}
ANY_VERSION = object()   # save_draft: overwrite whatever draft there is


def is_designer(user) -> bool:
    return bool(user.roles & DESIGNER_ROLES)


def require_designer(user, what: str = "使用流程设计器") -> None:
    if not is_designer(user):
        raise Forbidden(f"只有流程设计人员或管理员可以{what}")


def check_filename(kind: str, filename: str | None) -> str:
    filename = (filename or "").strip()
    if not _NAMES[kind].match(filename):
        hint = "字母开头，只含字母、数字、_ . -，以 .bpmn 结尾" if kind == "bpmn" else \
            "只含字母、数字、_ . -，以 .json 结尾"
        raise Invalid("文件名不合法", {"filename": [f"文件名「{filename}」不合法：{hint}"]})
    return filename


def check_content(kind: str, content) -> str:
    if not isinstance(content, str) or not content.strip():
        raise Invalid("内容为空", {"content": ["文件内容不能为空"]})
    if len(content.encode("utf-8")) > MAX_FILE_BYTES:
        raise Invalid("文件过大", {"content": [f"文件不能超过 {MAX_FILE_BYTES // 1024 // 1024} MB"]})
    if kind == "bpmn":
        try:
            parse(content)
        except (etree.XMLSyntaxError, ValueError) as err:
            raise Invalid("BPMN 不是有效的 XML", {"content": [f"XML 格式错误：{err}"]}) from None
    return content


def check_note(note: str | None, required: bool = True) -> str | None:
    note = (note or "").strip()
    if required and not note:
        raise Invalid("请填写变更说明", {"note": ["「变更说明」为必填项：写明本版本改了什么、为什么"]})
    if len(note) > NOTE_MAX:
        raise Invalid("变更说明过长", {"note": [f"「变更说明」不能超过 {NOTE_MAX} 个字符"]})
    return note or None


# --- processes and versions ---------------------------------------------------------------------

def running_counts(session) -> dict[int, int]:
    """Instances not yet ended (running, suspended or stopped by an error) per definition id."""
    return dict(session.execute(
        select(ProcessInstance.definition_id, func.count())
        .where(ProcessInstance.status.in_(("running", "suspended", "error")))
        .group_by(ProcessInstance.definition_id)).all())


def latest_definitions(session, with_files: bool = False) -> list[ProcessDefinition]:
    newest = select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version")) \
        .group_by(ProcessDefinition.key).subquery()
    stmt = select(ProcessDefinition).join(newest, (ProcessDefinition.key == newest.c.key)
                                          & (ProcessDefinition.version == newest.c.version))
    if with_files:
        stmt = stmt.options(undefer(ProcessDefinition.bpmn_files), undefer(ProcessDefinition.forms))
    return session.scalars(stmt.order_by(ProcessDefinition.key)).all()


@dataclass
class ProcessSummary:
    key: str
    name: str
    latest: ProcessDefinition
    versions: int
    running: int
    filename: str | None


def process_summaries(session) -> list[ProcessSummary]:
    counts = running_counts(session)
    per_key: dict[str, list[int]] = {}
    for key, definition_id in session.execute(select(ProcessDefinition.key, ProcessDefinition.id)).all():
        per_key.setdefault(key, []).append(definition_id)
    return [ProcessSummary(d.key, d.name, d, len(per_key[d.key]), sum(counts.get(i, 0) for i in per_key[d.key]),
                           file_of_process(d.bpmn_files, d.key)[0])
            for d in latest_definitions(session, with_files=True)]


@dataclass
class VersionInfo:
    definition: ProcessDefinition
    running: int
    changes: VersionDiff


def process_versions(session, key: str) -> list[VersionInfo]:
    """Every version of a process, newest first, each with what changed since the one before."""
    rows = session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                           .options(undefer(ProcessDefinition.bpmn_files), undefer(ProcessDefinition.forms))
                           .order_by(ProcessDefinition.version)).all()
    if not rows:
        raise NotFound(f"流程「{key}」不存在或尚未部署")
    counts = running_counts(session)
    infos = [VersionInfo(d, counts.get(d.id, 0), diff_versions(rows[i - 1] if i else None, d))
             for i, d in enumerate(rows)]
    return list(reversed(infos))


def get_definition(session, definition_id) -> ProcessDefinition:
    definition = session.get(ProcessDefinition, definition_id) if definition_id is not None else None
    if definition is None:
        raise NotFound(f"流程版本 {definition_id} 不存在")
    return definition


def version_diff(session, old_id, new_id) -> tuple[ProcessDefinition, ProcessDefinition, VersionDiff]:
    old, new = get_definition(session, old_id), get_definition(session, new_id)
    if old.key != new.key:
        raise Invalid("只能比较同一流程的两个版本", {"to": [f"「{old.name}」与「{new.name}」不是同一流程"]})
    return old, new, diff_versions(old, new)


def version_file(definition: ProcessDefinition) -> tuple[str, str]:
    """The BPMN file (name, text) of a deployed version, for download and display."""
    filename, text = file_of_process(definition.bpmn_files, definition.key)
    if filename is None:
        raise NotFound(f"流程版本 {definition.id} 没有 BPMN 文件")
    return filename, text


def version_download(session, definition_id) -> tuple[str, str]:
    """(download name, text) of a version's BPMN: ``<key>-v<version>-<file>``."""
    definition = get_definition(session, definition_id)
    filename, text = version_file(definition)
    return f"{definition.key}-v{definition.version}-{filename}", text


# --- working copies -----------------------------------------------------------------------------

@dataclass
class WorkingCopy:
    kind: str
    filename: str
    content: str
    source: str                                    # draft | deployed | folder | new
    draft: DesignerDraft | None = None
    deployed_in: ProcessDefinition | None = None   # the version its newest deployed copy is from

    @property
    def draft_version(self) -> int | None:
        return self.draft.version if self.draft is not None else None


def _deployed_copies(session) -> tuple[dict, dict]:
    """The newest deployed copy of every BPMN file and form: {name: (text, definition)}."""
    bpmn: dict[str, tuple] = {}
    forms: dict[str, tuple] = {}
    for definition in sorted(latest_definitions(session, with_files=True), key=lambda d: d.id):
        for name, text in definition.bpmn_files.items():
            bpmn[name] = (text, definition)
        for name, text in definition.forms.items():
            forms[name] = (text, definition)
    return bpmn, forms


def drafts(session, kind: str | None = None) -> dict[str, DesignerDraft]:
    stmt = select(DesignerDraft)
    if kind:
        stmt = stmt.where(DesignerDraft.kind == kind)
    return {d.filename: d for d in session.scalars(stmt.order_by(DesignerDraft.filename)).unique().all()}


def library(session, settings, kind: str) -> dict[str, WorkingCopy]:
    """The current copy of every file of ``kind`` the designers know of, by name."""
    folder_bpmn, folder_forms = read_folder(settings.processes_dir, settings.forms_dir)
    deployed_bpmn, deployed_forms = _deployed_copies(session)
    folder, deployed = (folder_bpmn, deployed_bpmn) if kind == "bpmn" else (folder_forms, deployed_forms)
    copies = {name: WorkingCopy(kind, name, text, "folder") for name, text in folder.items()}
    for name, (text, definition) in deployed.items():
        copies[name] = WorkingCopy(kind, name, text, "deployed", deployed_in=definition)
    for name, draft in drafts(session, kind).items():
        previous = copies.get(name)
        copies[name] = WorkingCopy(kind, name, draft.content, "draft", draft,
                                   previous.deployed_in if previous else None)
    return dict(sorted(copies.items()))


def working_copy(session, settings, kind: str, filename: str) -> WorkingCopy | None:
    return library(session, settings, kind).get(check_filename(kind, filename))


def save_draft(session, settings, user, kind: str, filename: str, content: str,
               expected_version=ANY_VERSION) -> DesignerDraft:
    """Save a working copy; nothing runs differently until it is deployed.

    ``expected_version`` is the draft version the editor started from (None: it saw no draft);
    a different one means another designer saved meanwhile, and nothing is overwritten."""
    require_designer(user, "保存草稿")
    filename = check_filename(kind, filename)
    content = check_content(kind, content)
    draft = session.scalars(select(DesignerDraft).where(DesignerDraft.kind == kind,
                                                        DesignerDraft.filename == filename)).first()
    if expected_version is not ANY_VERSION and (draft.version if draft else None) != expected_version:
        who = f"{draft.updated_by}（版本 {draft.version}）" if draft else "他人"
        raise Conflict(f"草稿「{filename}」已被 {who}修改或删除，请刷新页面后再保存", {"version": [
            "草稿已变化"]})
    if draft is None:
        copy = library(session, settings, kind).get(filename)
        draft = DesignerDraft(kind=kind, filename=filename, based_on=copy.deployed_in if copy else None)
        session.add(draft)
    draft.content = content
    draft.updated_by = user.username
    draft.updated_at = clock.now()
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(f"草稿「{filename}」已被他人修改，请刷新页面后再保存") from None
    return draft


def discard_draft(session, user, kind: str, filename: str) -> None:
    require_designer(user, "删除草稿")
    filename = check_filename(kind, filename)
    draft = session.scalars(select(DesignerDraft).where(DesignerDraft.kind == kind,
                                                        DesignerDraft.filename == filename)).first()
    if draft is None:
        raise NotFound(f"草稿「{filename}」不存在")
    session.delete(draft)
    session.flush()


def blank_diagram(filename: str) -> str:
    """A new executable process with one start event, its id taken from the file name."""
    key = re.sub(r"[^A-Za-z0-9_]", "_", filename.rsplit(".", 1)[0])
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_{key}" targetNamespace="http://shudi.example/bpmn">
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name="发起"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_{key}">
    <bpmndi:BPMNPlane id="BPMNPlane_{key}" bpmnElement="{key}">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36"/>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


# --- validating and deploying from the editor ------------------------------------------------------

@dataclass
class Bundle:
    bpmn: dict[str, str]
    forms: dict[str, str]
    copies: dict[str, WorkingCopy] = field(default_factory=dict)   # what each included file came from


def processes_and_callees(xml: str) -> tuple[set[str], set[str]]:
    """The ids of the processes a BPMN document defines, and of the processes it calls."""
    root = parse(xml)
    defined = {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")}
    called = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity") if c.get("calledElement")}
    return defined, called


def diagram_bundle(session, settings, filename: str, xml: str) -> Bundle:
    """The edited diagram, the current copies of the diagrams of every process it calls
    (transitively), and the whole form library (the parser takes the forms it references)."""
    bundle = Bundle({filename: xml}, {})
    defined, wanted = processes_and_callees(xml)
    wanted -= defined
    if wanted:
        diagrams = library(session, settings, "bpmn")
        index = {}
        for name, copy in diagrams.items():
            if name == filename:
                continue
            try:
                for process_id in processes_and_callees(copy.content)[0]:
                    index.setdefault(process_id, name)
            except (etree.XMLSyntaxError, ValueError):
                continue  # a broken draft of another diagram is that diagram's problem
        while wanted:
            process_id = wanted.pop()
            name = index.get(process_id)
            if name is None or name in bundle.bpmn:
                continue  # an unknown callee is reported by the deploy checks
            bundle.bpmn[name] = diagrams[name].content
            bundle.copies[name] = diagrams[name]
            more_defined, more_called = processes_and_callees(diagrams[name].content)
            defined |= more_defined
            wanted |= more_called - defined
    forms = library(session, settings, "form")
    bundle.forms = {name: copy.content for name, copy in forms.items()}
    bundle.copies.update({name: copy for name, copy in forms.items()})
    return bundle


@dataclass
class Validation:
    problems: list[dict]
    processes: list[dict]            # key and name of every executable process found
    drafts: list[str]                # drafts (besides the edited diagram) the deploy would include

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"valid": self.valid, "problems": self.problems, "processes": self.processes, "drafts": self.drafts}


def check_bundle(core, bpmn: dict[str, str], forms: dict[str, str]):
    """The deploy checks without storing anything: (problems, parsed bundle or None)."""
    try:
        return [], core.engine.parse_bundle(bpmn, forms)
    except DeploymentRejected as rejected:
        return [p.as_dict() for p in rejected.problems], None


NOT_EXECUTABLE = "流程图中没有可执行的流程（isExecutable=\"true\"）；非可执行模型不能部署"


def _check_edited(core, bundle: Bundle, filename: str):
    """The deploy checks of the edited diagram's bundle. A diagram without an executable process
    (a model from another tool, documentation only) is refused as such before anything else."""
    root = parse(bundle.bpmn[filename])
    if not any(p.get("isExecutable") == "true" for p in root.iter(f"{{{BPMN_NS}}}process")):
        return [{"file": filename, "element_id": None, "line": None, "message": NOT_EXECUTABLE}], None
    return check_bundle(core, bundle.bpmn, bundle.forms)


def _drafts_used(bundle: Bundle, parsed) -> list[str]:
    used = set(bundle.bpmn) - {next(iter(bundle.bpmn))}
    for process in parsed.processes if parsed else []:
        used |= set(process.forms)
    return sorted(name for name in used if bundle.copies.get(name) and bundle.copies[name].source == "draft")


def validate_diagram(core, session, user, filename: str, xml: str) -> Validation:
    require_designer(user, "校验流程")
    filename = check_filename("bpmn", filename)
    xml = check_content("bpmn", xml)
    bundle = diagram_bundle(session, core.settings, filename, xml)
    problems, parsed = _check_edited(core, bundle, filename)
    processes = [{"key": p.key, "name": p.name} for p in parsed.processes] if parsed else []
    return Validation(problems, processes, _drafts_used(bundle, parsed))


@dataclass
class DeployResult:
    deployed: list[Deployed]
    drafts: list[str]

    @property
    def created(self) -> list[Deployed]:
        return [d for d in self.deployed if d.created]

    def message(self) -> str:
        if not self.created:
            return "内容与已部署的最新版本相同，未创建新版本"
        return "已部署：" + "、".join(f"{d.name} 第 {d.version} 版" for d in self.created)


def _unchanged(session, bundle: Bundle, parsed) -> list[Deployed] | None:
    """The latest versions, when every process of the bundle is exactly what its latest version
    froze (same files, same forms): deploying would only create copies of them."""
    same = []
    for process in parsed.processes:
        latest = latest_definition(session, process.key)
        if latest is None or process.forms != latest.forms or \
                any(latest.bpmn_files.get(name) != text for name, text in bundle.bpmn.items()):
            return None
        same.append(Deployed(latest.key, latest.name, latest.version, False))
    return same


def _remove_deployed_drafts(session, deployed: list[Deployed]) -> None:
    frozen: dict[tuple[str, str], str] = {}
    for item in deployed:
        definition = latest_definition(session, item.key)
        frozen.update({("bpmn", n): t for n, t in definition.bpmn_files.items()})
        frozen.update({("form", n): t for n, t in definition.forms.items()})
    for draft in drafts(session).values():
        if frozen.get((draft.kind, draft.filename)) == draft.content:
            session.delete(draft)
    session.flush()


def deploy_diagram(core, session, user, filename: str, xml: str, note: str | None,
                   draft_version=ANY_VERSION) -> DeployResult:
    """Deploy the edited diagram (and what it uses, see ``diagram_bundle``) as new versions.

    ``draft_version`` is the version of the diagram's draft the editor started from: that draft
    is superseded by what was deployed and goes; a draft saved by someone else meanwhile stays."""
    require_designer(user, "部署流程")
    filename = check_filename("bpmn", filename)
    xml = check_content("bpmn", xml)
    note = check_note(note)
    bundle = diagram_bundle(session, core.settings, filename, xml)
    problems, parsed = _check_edited(core, bundle, filename)
    if problems:
        raise Invalid("流程定义未通过校验，未部署", problems)
    used = _drafts_used(bundle, parsed)
    deployed = _unchanged(session, bundle, parsed)
    if deployed is None:
        deployed = deploy(core, session, bundle.bpmn, bundle.forms, deployed_by=user.username, note=note)
    _remove_deployed_drafts(session, deployed)
    draft = drafts(session, "bpmn").get(filename)
    if draft is not None and draft_version is not ANY_VERSION and draft.version == draft_version:
        session.delete(draft)
        session.flush()
    return DeployResult(deployed, used)
