// The form editor: live preview (the server renders the form exactly as the task pages do),
// validation, drafts and "save and deploy". Texts and URLs come from #form-config.
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('form-config').textContent);
  var labels = config.labels;
  var root = document.getElementById('form-designer');
  var schema = document.getElementById('schema-text');
  var ui = document.getElementById('ui-text');
  var uiName = document.getElementById('ui-name');
  var preview = document.getElementById('preview');
  var statusNode = document.getElementById('form-status');
  var problemsNode = document.getElementById('form-problems');
  var versions = config.versions || {};
  var timer = null;
  var previewRequest = 0;

  function status(message, kind) {
    statusNode.textContent = message || '';
    statusNode.className = 'designer-status' + (kind ? ' status-' + kind : '');
    statusNode.setAttribute('data-kind', kind || '');
  }

  function showProblems(problems, warnings) {
    problemsNode.textContent = '';
    var items = (problems || []).map(function (p) {
      return (p.file ? p.file + (p.line ? ' ' + labels.line + ' ' + p.line : '') + '：' : '') + p.message;
    }).concat(warnings || []);
    if (!items.length) { return; }
    var list = document.createElement('ol');
    list.className = 'problem-list';
    list.setAttribute('data-testid', 'problems');
    items.forEach(function (text) {
      var item = document.createElement('li');
      item.textContent = text;
      list.appendChild(item);
    });
    problemsNode.appendChild(list);
  }

  function body(extra) {
    var result = { schema: schema.value, ui_name: uiName.value.trim() || null, ui: ui.value, versions: versions };
    Object.keys(extra || {}).forEach(function (key) { result[key] = extra[key]; });
    return result;
  }

  function postJson(url, payload) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrf, 'Accept': 'application/json' },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return { message: response.statusText }; })
        .then(function (json) { return { ok: response.ok, body: json }; });
    });
  }

  function problemsOf(payload) {
    return Array.isArray(payload.errors) ? payload.errors : (payload.problems || []);
  }

  function refreshPreview(check) {
    var form = new FormData(check ? document.getElementById('preview-form') || undefined : undefined);
    form.append('designer__schema', schema.value);
    form.append('designer__ui', ui.value);
    if (check) { form.append('designer__check', '1'); }
    var mine = ++previewRequest;
    root.setAttribute('data-preview', 'loading');
    return fetch(config.urls.preview, {
      method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': config.csrf }, body: form
    }).then(function (response) { return response.text(); }).then(function (html) {
      if (mine !== previewRequest) { return; }   // a newer preview is on its way
      preview.innerHTML = html;                  // rendered and escaped by the server
      root.setAttribute('data-preview', 'ready');
    });
  }

  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(function () { refreshPreview(false); }, 400);
  }

  function validate() {
    status(labels.checking, 'busy');
    return postJson(config.urls.validate, body()).then(function (result) {
      showProblems(problemsOf(result.body), result.body.warnings);
      if (!result.ok) { status(result.body.message || labels.failed, 'error'); return; }
      status(result.body.valid ? labels.valid : (result.body.problems.length + ' ✗'), result.body.valid ? 'ok' : 'error');
    });
  }

  function save() {
    status(labels.saving, 'busy');
    return postJson(config.urls.save, body()).then(function (result) {
      if (result.ok) {
        versions = result.body.versions || {};
        showProblems([], []);
        status(result.body.message, 'ok');
      } else {
        showProblems(problemsOf(result.body), []);
        status(result.body.message || labels.failed, 'error');
      }
    });
  }

  function publish() {
    var note = document.getElementById('publish-note').value.trim();
    status(labels.saving, 'busy');
    return postJson(config.urls.publish, body({ note: note })).then(function (result) {
      showProblems(result.ok ? [] : problemsOf(result.body), []);
      status(result.ok ? result.body.message : (result.body.message || labels.failed), result.ok ? 'ok' : 'error');
      if (result.ok) {
        versions = result.body.versions || {};
        root.setAttribute('data-published', JSON.stringify(result.body.deployed || []));
      }
    });
  }

  function guard(action) {
    return function () {
      action().catch(function (error) { status(labels.failed + ' ' + (error && error.message ? error.message : error), 'error'); });
    };
  }

  schema.addEventListener('input', schedulePreview);
  ui.addEventListener('input', schedulePreview);
  document.querySelector('[data-action=validate]').addEventListener('click', guard(validate));
  document.querySelector('[data-action=save]').addEventListener('click', guard(save));
  document.querySelector('[data-action=publish]').addEventListener('click', guard(publish));
  document.querySelector('[data-action=check]').addEventListener('click', guard(function () { return refreshPreview(true); }));
  preview.addEventListener('submit', function (event) { event.preventDefault(); });
  root.setAttribute('data-preview', 'ready');
}());
