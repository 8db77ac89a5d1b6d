// The migration page: migrate the selected instances in small batches, showing progress and each
// instance's result as it comes. Without this script the form migrates them all in one request.
(function () {
  'use strict';

  var form = document.getElementById('migrate-form');
  if (!form) { return; }
  var labels = JSON.parse(document.getElementById('migrate-labels').textContent);
  var csrf = JSON.parse(document.getElementById('migrate-config').textContent).csrf;
  var progress = document.getElementById('migrate-progress');
  var statusNode = document.getElementById('migrate-status');
  var batchSize = parseInt(form.getAttribute('data-batch-size'), 10) || 5;
  var target = parseInt(form.getAttribute('data-target'), 10);
  var all = document.getElementById('select-all');

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  function boxes() {
    return Array.prototype.slice.call(form.querySelectorAll('input[name=instance]'));
  }

  if (all) {
    all.addEventListener('change', function () { boxes().forEach(function (box) { box.checked = all.checked; }); });
  }

  function post(items) {
    return fetch(form.action, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf, 'Accept': 'application/json' },
      body: JSON.stringify({ target: target, instances: items })
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) { throw new Error(json.message || response.statusText); }
        return json.results;
      });
    });
  }

  function show(result) {
    var cell = form.querySelector('[data-result-for="' + result.instance_id + '"]');
    if (!cell) { return; }
    cell.textContent = result.message;
    cell.className = 'result ' + (result.ok ? 'result-ok' : 'result-failed');
    cell.setAttribute('data-ok', result.ok ? 'true' : 'false');
    var box = form.querySelector('input[name=instance][value^="' + result.instance_id + ':"]');
    if (box && result.ok) { box.checked = false; box.disabled = true; }
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var items = boxes().filter(function (box) { return box.checked && !box.disabled; }).map(function (box) {
      var parts = box.value.split(':');
      return { id: parseInt(parts[0], 10), version: parts[1] ? parseInt(parts[1], 10) : null };
    });
    if (!items.length) { statusNode.textContent = labels.none; return; }
    var done = 0, ok = 0;
    progress.hidden = false;
    progress.max = items.length;
    progress.value = 0;
    form.setAttribute('data-state', 'running');
    form.querySelector('[data-action=migrate]').disabled = true;
    statusNode.textContent = fill(labels.running, { done: 0, total: items.length });
    var batches = [];
    for (var i = 0; i < items.length; i += batchSize) { batches.push(items.slice(i, i + batchSize)); }
    batches.reduce(function (chain, batch) {
      return chain.then(function () {
        return post(batch).then(function (results) {
          results.forEach(function (result) { show(result); if (result.ok) { ok += 1; } });
          done += batch.length;
          progress.value = done;
          statusNode.textContent = fill(labels.running, { done: done, total: items.length });
        });
      });
    }, Promise.resolve()).then(function () {
      statusNode.textContent = fill(labels.finished, { ok: ok, failed: items.length - ok });
      var link = document.createElement('a');
      link.href = window.location.href;
      link.textContent = ' ' + labels.reload;
      statusNode.appendChild(link);
      form.setAttribute('data-state', 'finished');
    }).catch(function (error) {
      statusNode.textContent = labels.failed + (error && error.message ? error.message : error);
      form.setAttribute('data-state', 'failed');
    }).then(function () {
      form.querySelector('[data-action=migrate]').disabled = false;
    });
  });
}());
