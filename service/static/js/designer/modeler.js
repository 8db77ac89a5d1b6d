// The diagram editor of the designer pages: bpmn-js Modeler with the properties panel and our
// properties (properties.js), Chinese texts (i18n.js), validation markers, drafts and deploys.
//
// Bundled by scripts/build-assets.mjs into static/vendor/designer/designer-modeler.js. The page
// gives everything else in <script type="application/json" id="designer-config">: the file, its
// XML, the forms and roles the properties panel offers, the URLs it posts to (CSRF-protected
// page routes) and the page's texts in its language.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import { layoutProcess } from 'bpmn-auto-layout';

import ShudiPropertiesProvider from './properties.js';
import spiffworkflow from './spiffworkflow.json';
import { translator } from './i18n.js';

const config = JSON.parse(document.getElementById('designer-config').textContent);
const labels = config.labels;
const root = document.getElementById('designer');
const canvasNode = document.getElementById('canvas');
const problemsNode = document.getElementById('problems');
const statusNode = document.getElementById('designer-status');

const modeler = new BpmnModeler({
  container: canvasNode,
  propertiesPanel: { parent: '#properties' },
  additionalModules: [
    BpmnPropertiesPanelModule, BpmnPropertiesProviderModule,
    { __init__: ['shudiPropertiesProvider'], shudiPropertiesProvider: ['type', ShudiPropertiesProvider] },
    { translate: ['value', translator(config.locale)] }
  ],
  moddleExtensions: { spiffworkflow },
  shudi: { forms: config.forms, roles: config.roles }
});
window.shudiModeler = modeler;  // for the browser tests and for designers' debugging

let dirty = false;
let draftVersion = config.draft_version;
let marked = [];

// --- messages -----------------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

function status(message, kind) {
  statusNode.textContent = message || '';
  statusNode.className = 'designer-status' + (kind ? ' status-' + kind : '');
  statusNode.setAttribute('data-kind', kind || '');
}

function setDirty(value) {
  dirty = value;
  root.setAttribute('data-dirty', value ? 'true' : 'false');
}

// --- problems as markers and as a list -----------------------------------------------------------

function clearProblems() {
  const canvas = modeler.get('canvas');
  marked.forEach((id) => canvas.removeMarker(id, 'dz-problem'));
  marked = [];
  modeler.get('overlays').remove({ type: 'dz-problem' });
  problemsNode.textContent = '';
}

function focusElement(id) {
  const element = modeler.get('elementRegistry').get(id);
  if (!element) { return; }
  modeler.get('selection').select(element);
  modeler.get('canvas').scrollToElement(element);
}

function showProblems(problems) {
  clearProblems();
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  const overlays = modeler.get('overlays');
  const perElement = {};
  problems.forEach((problem) => {
    if (problem.element_id && registry.get(problem.element_id)) {
      (perElement[problem.element_id] = perElement[problem.element_id] || []).push(problem.message);
    }
  });
  Object.keys(perElement).forEach((id) => {
    canvas.addMarker(id, 'dz-problem');
    marked.push(id);
    const badge = el('div', 'dz-problem-badge', perElement[id].length);
    badge.title = perElement[id].join('\n');
    badge.setAttribute('data-problem-for', id);
    overlays.add(id, 'dz-problem', { position: { top: -12, left: -12 }, html: badge });
  });
  root.setAttribute('data-problems', String(problems.length));
  if (!problems.length) { return; }
  const list = el('ol', 'problem-list');
  problems.forEach((problem) => {
    const item = el('li');
    item.setAttribute('data-element-id', problem.element_id || '');
    const element = problem.element_id && registry.get(problem.element_id);
    const where = element ? (element.businessObject.name || problem.element_id) : (problem.element_id || '');
    if (where) {
      const link = el('button', 'linkbutton problem-element', where);
      link.type = 'button';
      link.addEventListener('click', () => focusElement(problem.element_id));
      item.appendChild(link);
      item.appendChild(document.createTextNode('：'));
    }
    item.appendChild(document.createTextNode(problem.message));
    if (problem.file && problem.file !== config.filename || problem.line) {
      item.appendChild(el('span', 'muted', ' (' + [problem.file, problem.line && labels.line + ' ' + problem.line]
        .filter(Boolean).join(' ') + ')'));
    }
    list.appendChild(item);
  });
  problemsNode.appendChild(el('h3', null, labels.problems_title.replace('%(n)s', problems.length)));
  problemsNode.appendChild(list);
}

// --- talking to the server -----------------------------------------------------------------------

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrf, 'Accept': 'application/json' },
    body: JSON.stringify(body)
  });
  let payload = {};
  try { payload = await response.json(); } catch (err) { payload = { message: response.statusText }; }
  return { ok: response.ok, status: response.status, body: payload };
}

function problemsOf(payload) {
  const errors = payload.errors;
  if (Array.isArray(errors)) { return errors; }
  if (Array.isArray(payload.problems)) { return payload.problems; }
  if (errors && typeof errors === 'object') {
    return Object.keys(errors).map((key) => ({ element_id: null, message: key + '：' + [].concat(errors[key]).join('；') }));
  }
  return [];
}

async function currentXml() {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

async function validate() {
  status(labels.validating, 'busy');
  const result = await post(config.urls.validate, { xml: await currentXml() });
  const problems = problemsOf(result.body);
  showProblems(problems);
  root.setAttribute('data-validation', result.ok && result.body.valid ? 'ok' : 'problems');
  if (!result.ok) {
    status(result.body.message || labels.failed, 'error');
  } else if (result.body.valid) {
    status(labels.valid + (result.body.drafts && result.body.drafts.length
      ? ' ' + labels.drafts_included + result.body.drafts.join('、') : ''), 'ok');
  } else {
    status(labels.invalid.replace('%(n)s', problems.length), 'error');
  }
}

async function saveDraft() {
  status(labels.saving, 'busy');
  const result = await post(config.urls.save, { xml: await currentXml(), version: draftVersion });
  if (result.ok) {
    draftVersion = result.body.version;
    setDirty(false);
    status(result.body.message, 'ok');
  } else {
    status(result.body.message || labels.failed, 'error');
  }
}

async function deploy() {
  const noteField = document.getElementById('deploy-note');
  const note = noteField.value.trim();
  if (!note) {
    status(labels.note_required, 'error');
    noteField.focus();
    return;
  }
  status(labels.deploying, 'busy');
  const result = await post(config.urls.deploy, { xml: await currentXml(), note });
  if (result.ok) {
    setDirty(false);
    clearProblems();
    draftVersion = result.body.draft_version;
    status(result.body.message, 'ok');
    root.setAttribute('data-deployed', JSON.stringify(result.body.deployed || []));
    if (result.body.redirect) { window.location.assign(result.body.redirect); }
  } else {
    showProblems(problemsOf(result.body));
    root.setAttribute('data-validation', 'problems');
    status(result.body.message || labels.failed, 'error');
  }
}

async function download() {
  const blob = new Blob([await currentXml()], { type: 'application/xml' });
  const link = el('a');
  link.href = URL.createObjectURL(blob);
  link.download = config.filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// --- opening diagrams ----------------------------------------------------------------------------

function decode(buffer) {
  // Files from other tools declare their encoding (ISO-8859-1 is common); honour it.
  const head = new TextDecoder('latin1').decode(buffer.slice(0, 200));
  const declared = /encoding=["']([A-Za-z0-9._-]+)["']/.exec(head);
  try {
    return new TextDecoder(declared ? declared[1] : 'utf-8').decode(buffer);
  } catch (err) {
    return new TextDecoder('utf-8').decode(buffer);
  }
}

async function open(xml, source) {
  clearProblems();
  root.setAttribute('data-state', 'loading');
  try {
    const drawn = /BPMNDiagram|BPMNShape/.test(xml) ? xml : await layoutProcess(xml);
    const { warnings } = await modeler.importXML(drawn);
    modeler.get('canvas').zoom('fit-viewport', 'auto');
    root.setAttribute('data-state', 'imported');
    root.setAttribute('data-source', source);
    root.setAttribute('data-warnings', String(warnings.length));
    if (source === 'file') {
      setDirty(true);
      status(labels.imported + (warnings.length ? ' ' + labels.warnings.replace('%(n)s', warnings.length) : ''),
        warnings.length ? 'warn' : 'ok');
    }
  } catch (err) {
    root.setAttribute('data-state', 'failed');
    status(labels.import_failed + (err && err.message ? err.message : err), 'error');
  }
}

function guard(action) {
  return () => action().catch((err) => status(labels.failed + ' ' + (err && err.message ? err.message : err), 'error'));
}

document.querySelector('[data-action=validate]').addEventListener('click', guard(validate));
document.querySelector('[data-action=save]').addEventListener('click', guard(saveDraft));
document.querySelector('[data-action=deploy]').addEventListener('click', guard(deploy));
document.querySelector('[data-action=download]').addEventListener('click', guard(download));
document.getElementById('import-file').addEventListener('change', (event) => {
  const file = event.target.files[0];
  if (!file) { return; }
  file.arrayBuffer().then((buffer) => open(decode(buffer), 'file'));
  event.target.value = '';
});
modeler.on('commandStack.changed', () => setDirty(true));
window.addEventListener('beforeunload', (event) => {
  if (dirty) { event.preventDefault(); event.returnValue = ''; }
});

open(config.xml, 'server').then(() => setDirty(false));
