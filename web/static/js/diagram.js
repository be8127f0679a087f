/* CareBridge: draw BPMN diagrams with bpmn-js (NavigatedViewer) and mark their elements.
 *
 * A `.diagram` element either has `data-src` (a URL returning JSON) or holds the same JSON
 * in a child <script type="application/json">:
 *   {"diagrams": [{"name": "...", "xml": "..."}],
 *    "markers": {"completed": [ids], "active": [ids], "waiting": [ids], "error": [ids]}}
 * Every diagram in the list is drawn (the first is the main process; the others are the
 * processes it calls). Without bpmn-js nothing happens: the page already lists the steps.
 */
(function () {
  "use strict";

  var MARKER_CLASS = {
    completed: "cb-completed",
    active: "cb-active",
    waiting: "cb-waiting",
    error: "cb-error"
  };

  function note(container, text) {
    var p = document.createElement("p");
    p.className = "diagram-note";
    p.textContent = text;
    container.appendChild(p);
  }

  function draw(container, diagram, markers, called) {
    var canvasBox = document.createElement("div");
    canvasBox.className = called ? "diagram-canvas diagram-canvas-called" : "diagram-canvas";
    container.appendChild(canvasBox);
    var viewer = new window.BpmnJS({ container: canvasBox });
    return viewer.importXML(diagram.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      Object.keys(MARKER_CLASS).forEach(function (kind) {
        (markers[kind] || []).forEach(function (id) {
          // Ids of other files' elements (call activities' processes) are simply absent here.
          if (registry.get(id)) {
            canvas.addMarker(id, MARKER_CLASS[kind]);
          }
        });
      });
      canvas.zoom("fit-viewport", "auto");
      if (canvas.zoom() > 1) {
        canvas.zoom(1, "auto");  // a small diagram is not blown up
      }
      // Other scripts (heat.js) colour the drawn diagram through its viewer: kept on the
      // container for a script that runs after the drawing, announced for one that runs before.
      (container.cbViewers = container.cbViewers || []).push(viewer);
      container.dispatchEvent(new CustomEvent("cb:diagram-drawn", { detail: { viewer: viewer } }));
    }).catch(function () {
      canvasBox.remove();
      note(container, "The diagram " + diagram.name + " could not be drawn.");
    });
  }

  function render(container, payload) {
    var diagrams = payload.diagrams || [];
    var markers = payload.markers || {};
    diagrams.forEach(function (diagram, index) {
      if (diagrams.length > 1) {
        var label = document.createElement("p");
        label.className = "diagram-name";
        label.textContent = index === 0 ? diagram.name : "Called process: " + diagram.name;
        container.appendChild(label);
      }
      draw(container, diagram, markers, index > 0);
    });
  }

  function load(container) {
    var inline = container.querySelector('script[type="application/json"]');
    if (inline) {
      try {
        render(container, JSON.parse(inline.textContent));
      } catch (e) {
        note(container, "The diagram could not be read.");
      }
      return;
    }
    var src = container.getAttribute("data-src");
    if (!src) {
      return;
    }
    fetch(src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (payload) { render(container, payload); })
      .catch(function () { note(container, "The diagram could not be loaded."); });
  }

  function start() {
    if (typeof window.BpmnJS !== "function") {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll(".diagram"), load);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
