"""Parsing a deployment (BPMN files + forms) and every check we run before storing it.

SpiffWorkflow validates structure; many mistakes it only finds at run time (a timer written as
``PT1H`` instead of ``"PT1H"``, a form that does not exist, a lane nobody holds). We find them at
deploy time and report each one as ``{file, element_id, line, message}``. Nothing is stored
unless the whole deployment is clean.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator, SchemaError, validators
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.util import DEFAULT_NSMAP
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from ..domain import form_choices
from ..domain.roles import ADMIN, role_for_lane
from .sandbox import ScriptRejected, compile_expression, compile_script

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"
# Our own user-task properties; each is a one-line expression over the task data.
EXPRESSION_PROPERTIES = ("candidateUnitExpression", "dueAtExpression", "warnAtExpression")
START_ROLES_PROPERTY = "startableBy"

_ISO_LIKE = re.compile(r"^(R\d*/)?(P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[0-9:.+\-Z]*)?)(/.*)?$", re.I)


@dataclass
class Problem:
    file: str | None
    element_id: str | None
    line: int | None
    message: str

    def as_dict(self) -> dict:
        return {"file": self.file, "element_id": self.element_id, "line": self.line, "message": self.message}


class DeploymentRejected(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


@dataclass
class UserTaskInfo:
    element_id: str
    name: str
    lane: str | None
    role: str | None
    form: str | None
    ui_form: str | None
    properties: dict


@dataclass
class ParsedProcess:
    key: str
    name: str
    spec: object
    subprocess_specs: dict
    start_roles: list[str]
    forms: dict[str, str]              # the forms this process uses, frozen with the version
    user_tasks: dict[str, UserTaskInfo]
    content_hash: str
    start_form: str | None = None      # optional form validating the data an instance starts with
    start_ui_form: str | None = None


@dataclass
class ParsedBundle:
    processes: list[ParsedProcess] = field(default_factory=list)
    bpmn_files: dict[str, str] = field(default_factory=dict)


@dataclass
class _Element:
    file: str
    line: int
    tag: str
    properties: dict


def _index_elements(filename: str, root) -> dict[str, _Element]:
    index = {}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        element_id = node.get("id")
        if not element_id:
            continue
        props = {}
        for prop in node.iterfind(f"{{{DEFAULT_NSMAP['bpmn']}}}extensionElements/{{{SPIFF_NS}}}properties/"
                                  f"{{{SPIFF_NS}}}property"):
            props[prop.get("name")] = prop.get("value")
        index[element_id] = _Element(filename, node.sourceline, etree.QName(node).localname, props)
    return index


class BundleParser:
    """Parses and checks one deployment. ``evaluate`` runs a sandboxed expression with no task data."""

    def __init__(self, evaluate, available_forms: dict[str, str]):
        self._evaluate = evaluate
        self._available_forms = available_forms
        self.problems: list[Problem] = []
        # Elements per file: two diagrams of one deployment may both use an id such as "start".
        self._by_file: dict[str, dict[str, _Element]] = {}
        self._file: str | None = None  # the file of the process being checked

    def _element(self, element_id: str | None, file: str | None = None) -> _Element | None:
        if not element_id:
            return None
        here = self._by_file.get(file or self._file or "", {})
        if element_id in here:
            return here[element_id]
        if file:
            return None
        return next((index[element_id] for index in self._by_file.values() if element_id in index), None)

    def _problem(self, element_id, message, file=None, line=None):
        element = self._element(element_id, file)
        self.problems.append(Problem(file or (element.file if element else None), element_id,
                                     line or (element.line if element else None), message))

    def parse(self, bpmn_files: dict[str, str], only: str | None = None) -> ParsedBundle:
        """Parse and check every executable process of the files, or only the process ``only``
        (a stored version re-parsed: the other processes of its deployment use forms it lacks)."""
        if not bpmn_files:
            raise DeploymentRejected([Problem(None, None, None, "没有上传任何 BPMN 文件")])
        parser = SpiffBpmnParser(validator=None)
        trees = {}
        for filename, text in bpmn_files.items():
            try:
                root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
            except etree.XMLSyntaxError as err:
                self._problem(None, f"XML 格式错误：{err.msg}", file=filename, line=err.lineno)
                continue
            if root.getroottree().docinfo.doctype:
                # BPMN needs no DTD; entities (external files, expansion bombs) are never read.
                self._problem(None, "BPMN 文件不能包含文档类型声明（DOCTYPE）及其实体", file=filename, line=1)
                continue
            VALIDATOR.preprocess(root)
            try:
                valid = VALIDATOR.validator.validate(root)
            except etree.XMLSchemaValidateError as err:
                self._problem(None, f"不符合 BPMN 2.0 规范：{err}", file=filename, line=1)
                continue
            if not valid:
                for error in VALIDATOR.validator.error_log:
                    self._problem(None, f"不符合 BPMN 2.0 规范：{error.message}", file=filename, line=error.line)
                continue
            trees[filename] = root
            self._by_file[filename] = _index_elements(filename, root)
        if self.problems:
            raise DeploymentRejected(self.problems)
        # Refuse models that are not executable before SpiffWorkflow parses them: it would
        # otherwise fail on their data stores and the like with an English message.
        executable = [(key, name) for key, name in self._executable_process_ids(trees) if only in (None, key)]
        if not executable:
            self._problem(None, "部署中没有可执行的流程（isExecutable=\"true\"）；非可执行模型不能部署",
                          file=next(iter(bpmn_files)))
            raise DeploymentRejected(self.problems)
        for filename, root in trees.items():
            try:
                parser.add_bpmn_xml(root, filename)
            except ValidationException as err:
                self._problem(err.id or None, str(err), file=filename, line=err.line_number or None)
        if self.problems:
            raise DeploymentRejected(self.problems)
        self._check_called_elements(trees, parser.get_process_ids())
        bundle = ParsedBundle(bpmn_files=dict(bpmn_files))
        for key, name in executable:
            process = self._parse_process(parser, key, name, bpmn_files)
            if process is not None:
                bundle.processes.append(process)
        if self.problems:
            raise DeploymentRejected(self.problems)
        return bundle

    # --- structure ------------------------------------------------------------------------

    def _executable_process_ids(self, trees) -> list[tuple[str, str]]:
        found = []
        for root in trees.values():
            for node in root.iterfind(f"{{{DEFAULT_NSMAP['bpmn']}}}process"):
                if node.get("isExecutable", "false") == "true":
                    found.append((node.get("id"), node.get("name") or node.get("id")))
        return found

    def _check_called_elements(self, trees, process_ids):
        for filename, root in trees.items():
            for node in root.iter(f"{{{DEFAULT_NSMAP['bpmn']}}}callActivity"):
                called = node.get("calledElement")
                if not called or called not in process_ids:
                    self._problem(node.get("id"), f"调用活动引用的流程「{called or ''}」不存在", file=filename)

    def _parse_process(self, parser, key, name, bpmn_files) -> ParsedProcess | None:
        try:
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
        except ValidationException as err:
            self._problem(err.id or None, str(err), file=err.file_name or None, line=err.line_number or None)
            return None
        except SpiffWorkflowException as err:
            self._problem(None, f"流程「{key}」解析失败：{err}")
            return None
        all_specs = [spec, *[s for s in subprocess_specs.values() if s is not None]]
        forms: dict[str, str] = {}
        user_tasks: dict[str, UserTaskInfo] = {}
        start_roles: set[str] = set()
        start_form = start_ui_form = None
        for process_spec in all_specs:
            self._file = process_spec.file
            for task_spec in process_spec.task_specs.values():
                self._check_task_spec(task_spec, forms, user_tasks)
                if process_spec is spec and isinstance(task_spec, StartEvent):
                    start_roles |= self._start_roles(task_spec)
                    element = self._element(task_spec.bpmn_id)
                    if element and element.properties.get(FORM_PROPERTY):
                        start_form = element.properties[FORM_PROPERTY]
                        self._check_form(task_spec.bpmn_id, start_form, False, forms)
                        start_ui_form = element.properties.get(UI_FORM_PROPERTY)
                        if start_ui_form:
                            self._check_form(task_spec.bpmn_id, start_ui_form, True, forms)
        self._file = None
        digest = hashlib.sha256()
        for filename in sorted(bpmn_files):
            digest.update(filename.encode() + b"\0" + bpmn_files[filename].encode() + b"\0")
        for filename in sorted(forms):
            digest.update(filename.encode() + b"\0" + forms[filename].encode() + b"\0")
        return ParsedProcess(key, name, spec, subprocess_specs, sorted(start_roles or {ADMIN, "*"}),
                             forms, user_tasks, digest.hexdigest(), start_form, start_ui_form)

    def _start_roles(self, task_spec) -> set[str]:
        element = self._element(task_spec.bpmn_id)
        declared = (element.properties.get(START_ROLES_PROPERTY) if element else None)
        if declared:
            roles = {r.strip() for r in declared.split(",") if r.strip()}
            for role in roles:
                if role != "*" and role_for_lane(role) is None:
                    self._problem(task_spec.bpmn_id, f"startableBy 中的角色「{role}」不存在")
            return {role_for_lane(r) or r for r in roles}
        if task_spec.lane:
            return {role_for_lane(task_spec.lane) or task_spec.lane}
        return set()

    # --- per element -------------------------------------------------------------------------

    def _check_task_spec(self, task_spec, forms, user_tasks):
        element_id = getattr(task_spec, "bpmn_id", None)
        lane = getattr(task_spec, "lane", None)
        if lane and role_for_lane(lane) is None:
            self._problem(element_id, f"泳道「{lane}」没有对应的角色")
        element = self._element(element_id)
        properties = element.properties if element else {}
        if isinstance(task_spec, UserTask):
            self._check_user_task(task_spec, properties, forms, user_tasks)
        if isinstance(task_spec, ScriptTask):
            self._check_script(element_id, task_spec.script, "脚本")
        for attr, label in (("prescript", "前置脚本"), ("postscript", "后置脚本")):
            if getattr(task_spec, attr, None):
                self._check_script(element_id, getattr(task_spec, attr), label)
        if isinstance(task_spec, (ExclusiveGateway, InclusiveGateway)):
            for condition, _target in task_spec.cond_task_specs:
                expression = condition.args[0] if condition is not None and getattr(condition, "args", None) else None
                if expression:
                    self._check_expression(element_id, expression, "条件表达式")
        event_definition = getattr(task_spec, "event_definition", None)
        if isinstance(event_definition, TimerEventDefinition):
            self._check_timer(element_id, event_definition)

    def _check_user_task(self, task_spec, properties, forms, user_tasks):
        element_id = task_spec.bpmn_id
        if not task_spec.bpmn_name:
            self._problem(element_id, "用户任务没有名称（待办列表中显示的标题）")
        form = properties.get(FORM_PROPERTY)
        ui_form = properties.get(UI_FORM_PROPERTY)
        if not form:
            self._problem(element_id, f"用户任务没有指定表单（spiffworkflow:property {FORM_PROPERTY}）")
        for filename, is_ui in ((form, False), (ui_form, True)):
            if filename:
                self._check_form(element_id, filename, is_ui, forms)
        for prop in EXPRESSION_PROPERTIES:
            if properties.get(prop):
                self._check_expression(element_id, properties[prop], prop)
        user_tasks[element_id] = UserTaskInfo(element_id, task_spec.bpmn_name or element_id, task_spec.lane,
                                              role_for_lane(task_spec.lane), form, ui_form, dict(properties))

    def _check_form(self, element_id, filename, is_ui, forms):
        if filename in forms:
            return
        text = self._available_forms.get(filename)
        if text is None:
            self._problem(element_id, f"表单文件「{filename}」不存在")
            return
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as err:
            self._problem(element_id, f"表单文件「{filename}」不是有效的 JSON：第 {err.lineno} 行 {err.msg}",
                          file=filename, line=err.lineno)
            return
        if not is_ui:
            try:
                validators.validator_for(schema, default=Draft202012Validator).check_schema(schema)
            except SchemaError as err:
                where = "/".join(str(p) for p in err.absolute_path) or "(根)"
                self._problem(element_id, f"表单「{filename}」不是有效的 JSON Schema（{where}）：{err.message}",
                              file=filename)
                return
            if not isinstance(schema, dict) or schema.get("type") != "object":
                self._problem(element_id, f"表单「{filename}」的根必须是 type: object", file=filename)
                return
            unit_problems = form_choices.problems(schema)
            for message in unit_problems:
                self._problem(element_id, f"表单「{filename}」{message}", file=filename)
            if unit_problems:
                return
        forms[filename] = text

    def _check_script(self, element_id, script, label):
        try:
            compile_script(script)
        except (ScriptRejected, SyntaxError) as err:
            self._problem(element_id, f"{label}在沙箱中无法编译：{err}")

    def _check_expression(self, element_id, expression, label) -> bool:
        try:
            compile_expression(expression)
            return True
        except (ScriptRejected, SyntaxError) as err:
            self._problem(element_id, f"{label}「{expression}」在沙箱中无法编译：{err}")
            return False

    def _check_timer(self, element_id, definition):
        expression = (definition.expression or "").strip()
        if not expression:
            self._problem(element_id, "定时器没有表达式")
            return
        if _ISO_LIKE.match(expression):
            self._problem(element_id, f"定时器表达式是 Python 表达式，ISO 8601 值必须加引号：\"{expression}\"")
            return
        if not self._check_expression(element_id, expression, "定时器表达式"):
            return
        try:
            value = self._evaluate(expression)
        except NameError:
            return  # depends on task data: checked when the timer starts, with a clear error then
        except Exception as err:  # noqa: BLE001 - report any evaluation failure on the element
            self._problem(element_id, f"定时器表达式「{expression}」求值失败：{err}")
            return
        message = timer_value_problem(definition, value)
        if message:
            self._problem(element_id, f"定时器表达式「{expression}」的值「{value}」{message}")


def timer_value_problem(definition, value) -> str | None:
    """Why ``value`` is not a valid ISO 8601 value for this kind of timer, or None."""
    if not isinstance(value, str):
        return "不是字符串"
    try:
        if isinstance(definition, CycleTimerEventDefinition):
            if not value.upper().startswith("R"):
                return "不是 ISO 8601 循环（应形如 R3/PT1H）"
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif isinstance(definition, DurationTimerEventDefinition):
            TimerEventDefinition.parse_iso_duration(value)
            if not value.upper().startswith("P"):
                return "不是 ISO 8601 时长（应形如 PT2H、P3D）"
        elif isinstance(definition, TimeDateEventDefinition):
            TimerEventDefinition.parse_time_or_duration(value)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for bad values
        return "不是有效的 ISO 8601 值"
    return None
