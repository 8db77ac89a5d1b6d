// The version comparison page: both versions drawn with bpmn-js, elements marked added (green),
// removed (red) or changed (orange). The table below the diagrams says the same in words.
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('diff-data').textContent);
  var labels = JSON.parse(document.getElementById('diff-labels').textContent);

  function draw(containerId, diagram, marks) {
    var container = document.getElementById(containerId);
    var viewer = new window.BpmnJS({ container: container });
    var ready = diagram.has_di ? Promise.resolve(diagram.xml) : window.BpmnAutoLayout.layoutProcess(diagram.xml);
    return ready.then(function (xml) { return viewer.importXML(xml); }).then(function () {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      canvas.zoom('fit-viewport', 'auto');
      Object.keys(marks).forEach(function (marker) {
        marks[marker].forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, 'diff-' + marker); }
        });
      });
      container.setAttribute('data-rendered', 'true');
    }).catch(function (error) {
      container.textContent = labels.load_failed + (error && error.message ? error.message : error);
      container.setAttribute('data-rendered', 'failed');
    });
  }

  draw('diagram-old', data.old, { removed: data.removed, changed: data.changed });
  draw('diagram-new', data['new'], { added: data.added, changed: data.changed });
}());
