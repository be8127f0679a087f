/* CareBridge: two versions side by side, elements coloured by what the diff says. */
(function () {
  "use strict";
  function draw(id, diagram, marks) {
    var container = document.getElementById(id);
    if (!window.BpmnJS || !container) { return; }
    var viewer = new window.BpmnJS({ container: container });
    viewer.importXML(diagram.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      Object.keys(marks).forEach(function (cls) {
        marks[cls].forEach(function (elementId) {
          if (registry.get(elementId)) { canvas.addMarker(elementId, cls); }
        });
      });
      canvas.zoom("fit-viewport", "auto");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var data = JSON.parse(document.getElementById("compare-data").textContent);
    var changed = data.diff.changed.map(function (c) { return c.element_id; });
    draw("compare-old", data.old, { "cb-removed": data.diff.removed, "cb-changed": changed, "cb-layout": data.diff.layout_only });
    draw("compare-new", data.new, { "cb-added": data.diff.added, "cb-changed": changed, "cb-layout": data.diff.layout_only });
  });
})();
