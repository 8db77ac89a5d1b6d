// The live diagram of an instance page: bpmn-js (NavigatedViewer) draws the definition's BPMN,
// each element is marked by its state (completed / active / waiting / overdue / error) with a token
// count on active ones, and clicking an element shows its tasks, times and data beside the diagram.
// Everything shown is also in the server-rendered element list, so the page works without this.
(function () {
  'use strict';

  var trace = JSON.parse(document.getElementById('trace-data').textContent);
  var labels = JSON.parse(document.getElementById('trace-labels').textContent);
  var container = document.getElementById('diagram');
  var side = document.getElementById('element-detail');
  var viewer = new window.BpmnJS({ container: container });
  var selected = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function localTime(iso) {
    if (!iso) { return ''; }
    return new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
  }

  function markerOf(state) {
    return state.overdue && state.state === 'active' ? 'overdue' : state.state;
  }

  function markElements() {
    var registry = viewer.get('elementRegistry');
    var canvas = viewer.get('canvas');
    var overlays = viewer.get('overlays');
    Object.keys(trace.states).forEach(function (id) {
      var state = trace.states[id];
      if (!registry.get(id)) { return; }  // e.g. an element of a called process
      var marker = markerOf(state);
      canvas.addMarker(id, 'st-' + marker);
      if (state.state !== 'completed') {
        var badge = el('div', 'token-count ' + marker, state.count);
        badge.title = (labels.states[state.state] || state.state) + ' × ' + state.count;
        badge.setAttribute('data-token-count', id);
        overlays.add(id, 'token-count', { position: { top: -10, right: 12 }, html: badge });
      }
    });
  }

  // A sequence flow was taken when both its ends were reached.
  function markTakenFlows() {
    var canvas = viewer.get('canvas');
    viewer.get('elementRegistry').filter(function (element) {
      return element.type === 'bpmn:SequenceFlow' && element.source && element.target &&
        trace.states[element.source.id] && trace.states[element.source.id].state === 'completed' &&
        trace.states[element.target.id];
    }).forEach(function (flow) { canvas.addMarker(flow.id, 'st-taken'); });
  }

  function section(title) {
    side.appendChild(el('h3', null, title));
  }

  function showElement(element) {
    var canvas = viewer.get('canvas');
    if (selected) { canvas.removeMarker(selected, 'st-selected'); }
    selected = element.id;
    canvas.addMarker(selected, 'st-selected');
    var state = trace.states[element.id];
    var name = (element.businessObject && element.businessObject.name) || element.id;
    side.textContent = '';
    side.appendChild(el('h2', null, name));
    side.appendChild(el('div', 'muted mono', element.id));
    if (!state) {
      side.appendChild(el('p', 'muted', labels.not_reached));
      return;
    }
    var summary = el('p');
    var badge = el('span', 'badge badge-' + (state.overdue ? 'overdue' : state.state),
      state.overdue ? labels.overdue : (labels.states[state.state] || state.state));
    summary.appendChild(badge);
    summary.appendChild(document.createTextNode(' ' + labels.count + ' ' + state.count));
    side.appendChild(summary);
    if (state.error) { side.appendChild(el('div', 'alert-error', state.error)); }
    if (state.tasks && state.tasks.length) {
      section(labels.tasks);
      var list = el('ul');
      state.tasks.forEach(function (task) {
        var line = (labels.states[task.state] || task.state) + ' · ' + labels.changed_at + ' ' + localTime(task.changed_at);
        if (task.timer_due) { line += ' · ' + labels.timer_due + ' ' + localTime(task.timer_due); }
        list.appendChild(el('li', null, line));
      });
      side.appendChild(list);
    }
    if (state.events && state.events.length) {
      section(labels.events);
      var events = el('ul');
      state.events.forEach(function (event) {
        events.appendChild(el('li', null, localTime(event.at) + ' ' + (event.username || '') + ' ' + (event.message || '')));
      });
      side.appendChild(events);
    }
    var last = state.tasks && state.tasks.length ? state.tasks[state.tasks.length - 1] : null;
    if (last && last.data) {
      section(labels.data);
      side.appendChild(el('pre', 'mono', JSON.stringify(last.data, null, 2)));
    }
  }

  function fail(error) {
    container.textContent = '';
    container.appendChild(el('div', 'diagram-message', labels.load_failed + (error && error.message ? error.message : error)));
    container.setAttribute('data-rendered', 'failed');
  }

  function render(xml) {
    return viewer.importXML(xml).then(function () {
      viewer.get('canvas').zoom('fit-viewport', 'auto');
      markElements();
      markTakenFlows();
      viewer.get('eventBus').on('element.click', function (event) { showElement(event.element); });
      container.setAttribute('data-rendered', 'true');
    });
  }

  var ready = trace.has_di ? Promise.resolve(trace.xml) : window.BpmnAutoLayout.layoutProcess(trace.xml);
  ready.then(render).catch(fail);
}());
