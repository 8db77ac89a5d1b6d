// Our own properties in the bpmn-js properties panel: what the shudi engine reads from a diagram.
//
// * user tasks: the form (spiffworkflow:property formJsonSchemaFilename / formUiSchemaFilename)
//   and the one-line expressions candidateUnitExpression, dueAtExpression, warnAtExpression;
// * start events: the start form (and its UI schema) and startableBy;
// * sequence flows: the condition (a Python expression over the task data);
// * script tasks: the script; every task: spiffworkflow:preScript / postScript;
// * lanes: which role a lane stands for (its name must be one of the role's lane names);
// * timer events: how to write the timer expression (the standard timer group edits it).
//
// The page passes the known forms and roles as `shudi` in the modeler's options.
import { h } from '@bpmn-io/properties-panel/preact';
import {
  SelectEntry, TextAreaEntry, TextFieldEntry,
  isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

const FORM = 'formJsonSchemaFilename';
const UI_FORM = 'formUiSchemaFilename';
const EXPRESSIONS = ['candidateUnitExpression', 'dueAtExpression', 'warnAtExpression'];

// --- reading and writing spiffworkflow extension elements --------------------------------------

function extensionValues(bo) {
  const extensions = bo.get('extensionElements');
  return extensions ? extensions.get('values') : [];
}

function propertiesOf(bo) {
  return extensionValues(bo).find((value) => is(value, 'spiffworkflow:Properties'));
}

export function getProperty(bo, name) {
  const properties = propertiesOf(bo);
  const found = properties && properties.get('properties').find((p) => p.name === name);
  return found ? found.value : undefined;
}

function create(bpmnFactory, type, attrs, parent) {
  const element = bpmnFactory.create(type, attrs);
  element.$parent = parent;
  return element;
}

function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

// The commands that make sure `bo` has extensionElements holding one element of `type`.
function ensureExtension(element, bo, type, bpmnFactory, commands) {
  let extensions = bo.get('extensionElements');
  if (!extensions) {
    extensions = create(bpmnFactory, 'bpmn:ExtensionElements', { values: [] }, bo);
    commands.push(update(element, bo, { extensionElements: extensions }));
  }
  let holder = extensions.get('values').find((value) => is(value, type));
  if (!holder) {
    holder = create(bpmnFactory, type, {}, extensions);
    commands.push(update(element, extensions, { values: [...extensions.get('values'), holder] }));
  }
  return holder;
}

function setProperty(element, name, value, bpmnFactory, commandStack) {
  const bo = getBusinessObject(element);
  const commands = [];
  const current = propertiesOf(bo);
  const existing = current && current.get('properties').find((p) => p.name === name);
  if (!value) {
    if (existing) {
      commands.push(update(element, current, { properties: current.get('properties').filter((p) => p !== existing) }));
    }
  } else if (existing) {
    commands.push(update(element, existing, { value }));
  } else {
    const holder = ensureExtension(element, bo, 'spiffworkflow:Properties', bpmnFactory, commands);
    const property = create(bpmnFactory, 'spiffworkflow:Property', { name, value }, holder);
    commands.push(update(element, holder, { properties: [...(holder.get('properties') || []), property] }));
  }
  if (commands.length) {
    commandStack.execute('properties-panel.multi-command-executor', commands);
  }
}

function getScript(bo, type) {
  const found = extensionValues(bo).find((value) => is(value, type));
  return found ? found.value : undefined;
}

function setScript(element, type, value, bpmnFactory, commandStack) {
  const bo = getBusinessObject(element);
  const commands = [];
  const existing = extensionValues(bo).find((v) => is(v, type));
  if (!value) {
    if (existing) {
      const extensions = bo.get('extensionElements');
      commands.push(update(element, extensions, { values: extensions.get('values').filter((v) => v !== existing) }));
    }
  } else {
    const holder = existing || ensureExtension(element, bo, type, bpmnFactory, commands);
    commands.push(update(element, holder, { value }));
  }
  if (commands.length) {
    commandStack.execute('properties-panel.multi-command-executor', commands);
  }
}

// --- entries ------------------------------------------------------------------------------------

function PropertyText(props) {
  const { element, id, name, label, description } = props;
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  return h(TextFieldEntry, {
    element, id, label: translate(label), description: translate(description), debounce,
    getValue: () => getProperty(getBusinessObject(element), name) || '',
    setValue: (value) => setProperty(element, name, (value || '').trim(), bpmnFactory, commandStack)
  });
}

function PropertyForm(props) {
  const { element, id, name, label, description } = props;
  const translate = useService('translate');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const config = useService('config.shudi') || {};
  const current = getProperty(getBusinessObject(element), name) || '';
  return h(SelectEntry, {
    element, id, label: translate(label), description: translate(description),
    getValue: () => current,
    setValue: (value) => setProperty(element, name, value, bpmnFactory, commandStack),
    getOptions: () => {
      const names = (config.forms || []).filter((form) => form.ui === (name === UI_FORM)).map((form) => form.name);
      if (current && names.indexOf(current) < 0) { names.push(current); }
      return [{ value: '', label: translate('(none)') }, ...names.map((form) => ({ value: form, label: form }))];
    }
  });
}

function ScriptText(props) {
  const { element, id, type, label, description } = props;
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  return h(TextAreaEntry, {
    element, id, label: translate(label), description: translate(description), debounce, monospace: true, rows: 4,
    getValue: () => getScript(getBusinessObject(element), type) || '',
    setValue: (value) => setScript(element, type, value, bpmnFactory, commandStack)
  });
}

function TaskScript(props) {
  const { element, id } = props;
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const modeling = useService('modeling');
  return h(TextAreaEntry, {
    element, id, label: translate('Script'), debounce, monospace: true, rows: 8,
    description: translate('Python, run in the sandbox: no imports; call helpers such as record_event(kind, message).'),
    getValue: () => getBusinessObject(element).get('script') || '',
    setValue: (value) => modeling.updateProperties(element, { script: value || undefined, scriptFormat: value ? 'python' : undefined })
  });
}

function Condition(props) {
  const { element, id } = props;
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  return h(TextAreaEntry, {
    element, id, label: translate('Condition expression'), debounce, monospace: true, rows: 2,
    description: translate('Python expression over the task data, e.g. call_county == True'),
    getValue: () => {
      const expression = getBusinessObject(element).get('conditionExpression');
      return expression ? expression.get('body') || '' : '';
    },
    setValue: (value) => modeling.updateProperties(element, {
      conditionExpression: value ? bpmnFactory.create('bpmn:FormalExpression', { body: value }) : undefined
    })
  });
}

function LaneRole(props) {
  const { element, id } = props;
  const translate = useService('translate');
  const modeling = useService('modeling');
  const config = useService('config.shudi') || {};
  const roles = config.roles || [];
  const name = getBusinessObject(element).get('name') || '';
  const normalise = (text) => text.replace(/（/g, '(').replace(/）/g, ')').replace(/\s+/g, '');
  const current = roles.find((role) => role.lanes.some((lane) => normalise(lane) === normalise(name)));
  return h(SelectEntry, {
    element, id, label: translate('Role of this lane'),
    description: current ? '' : translate('The lane name matches no role: deploying will be refused.'),
    getValue: () => (current ? current.key : ''),
    setValue: (key) => {
      const role = roles.find((r) => r.key === key);
      if (role) { modeling.updateProperties(element, { name: role.lanes[0] }); }
    },
    getOptions: () => [{ value: '', label: translate('(choose a role)') },
      ...roles.map((role) => ({ value: role.key, label: role.name + ' — ' + role.lanes[0] }))]
  });
}

function TimerHelp(props) {
  const translate = useService('translate');
  return h('div', { class: 'bio-properties-panel-description shudi-help', id: props.id },
    translate('Timer values are Python expressions: quote ISO 8601 values ("PT2H", "2026-03-02T09:00:00+08:00", "R3/PT1H") or call a helper: working_days_later(3), hours_later(2), hours_before(deadline, 4).'));
}

// --- the provider -------------------------------------------------------------------------------

function entry(id, component, extra, isEdited) {
  return { id, component, isEdited, ...extra };
}

function isTimerEvent(bo) {
  return (bo.get('eventDefinitions') || []).some((definition) => is(definition, 'bpmn:TimerEventDefinition'));
}

function groupsFor(element) {
  const bo = getBusinessObject(element);
  const groups = [];
  if (is(element, 'bpmn:UserTask')) {
    groups.push({ id: 'shudi-user-task', label: 'Form and handling', entries: [
      entry('shudi-form', PropertyForm, { name: FORM, label: 'Form (JSON Schema)', description: 'File in the form library' }, isSelectEntryEdited),
      entry('shudi-ui-form', PropertyForm, { name: UI_FORM, label: 'UI schema', description: 'Optional layout of the form' }, isSelectEntryEdited),
      entry('shudi-candidate', PropertyText, { name: EXPRESSIONS[0], label: 'Candidate unit expression', description: 'Unit code that must do the task, e.g. dept' }, isTextFieldEntryEdited),
      entry('shudi-due', PropertyText, { name: EXPRESSIONS[1], label: 'Due at expression', description: 'e.g. working_days_later(3)' }, isTextFieldEntryEdited),
      entry('shudi-warn', PropertyText, { name: EXPRESSIONS[2], label: 'Warn at expression', description: 'e.g. hours_before(due_at, 4)' }, isTextFieldEntryEdited)
    ] });
  }
  if (is(element, 'bpmn:StartEvent') && is(bo.$parent, 'bpmn:Process')) {
    groups.push({ id: 'shudi-start', label: 'Starting', entries: [
      entry('shudi-start-form', PropertyForm, { name: FORM, label: 'Start form (JSON Schema)', description: 'Data an instance starts with' }, isSelectEntryEdited),
      entry('shudi-start-ui-form', PropertyForm, { name: UI_FORM, label: 'UI schema', description: 'Optional layout of the form' }, isSelectEntryEdited),
      entry('shudi-startable', PropertyText, { name: 'startableBy', label: 'Startable by', description: 'Role keys separated by commas, * for anyone; default: the lane of the start event' }, isTextFieldEntryEdited)
    ] });
  }
  if (is(element, 'bpmn:SequenceFlow')) {
    const source = bo.get('sourceRef');
    if (source && (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway') || is(source, 'bpmn:Activity'))) {
      groups.push({ id: 'shudi-condition', label: 'Condition', entries: [entry('shudi-condition-expression', Condition, {}, isTextAreaEntryEdited)] });
    }
  }
  if (is(element, 'bpmn:ScriptTask')) {
    groups.push({ id: 'shudi-script', label: 'Script', entries: [entry('shudi-script-body', TaskScript, {}, isTextAreaEntryEdited)] });
  }
  if (is(element, 'bpmn:Activity')) {
    groups.push({ id: 'shudi-scripts', label: 'Pre- and post-scripts', entries: [
      entry('shudi-prescript', ScriptText, { type: 'spiffworkflow:PreScript', label: 'Pre-script', description: 'Runs before the task' }, isTextAreaEntryEdited),
      entry('shudi-postscript', ScriptText, { type: 'spiffworkflow:PostScript', label: 'Post-script', description: 'Runs after the task' }, isTextAreaEntryEdited)
    ] });
  }
  if (is(element, 'bpmn:Lane')) {
    groups.push({ id: 'shudi-lane', label: 'Lane', entries: [entry('shudi-lane-role', LaneRole, {}, isSelectEntryEdited)] });
  }
  if (is(element, 'bpmn:Event') && isTimerEvent(bo)) {
    groups.push({ id: 'shudi-timer-help', label: 'Timer expressions', entries: [entry('shudi-timer-help-text', TimerHelp, {})] });
  }
  return groups;
}

export default class ShudiPropertiesProvider {
  constructor(propertiesPanel, translate) {
    this._translate = translate;
    propertiesPanel.registerProvider(400, this);
  }

  getGroups(element) {
    return (groups) => {
      const ours = groupsFor(element).map((group) => ({ ...group, label: this._translate(group.label) }));
      // Right after "General" and "Documentation": what a designer of our processes edits most.
      const at = Math.min(groups.length, groups.findIndex((g) => g.id === 'documentation') + 1 || 1);
      return [...groups.slice(0, at), ...ours, ...groups.slice(at)];
    };
  }
}
ShudiPropertiesProvider.$inject = ['propertiesPanel', 'translate'];
