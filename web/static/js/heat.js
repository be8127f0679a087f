/* CareBridge: colour a drawn diagram by its work now (the admin process page).
 *
 * A `.diagram` element with `data-heat-src` (GET /api/v1/process-definitions/<id>/heat,
 * {"elements": {"<bpmn_id>": {"open": n, "median_wait_minutes": m}}}) gets, once diagram.js
 * has drawn it, a marker per element (cb-heat-1..3 by open tasks) and a badge with the count
 * and the median wait. No data, no colour: the page still lists its steps.
 */
(function () {
  "use strict";

  function level(open) {
    if (open >= 10) { return 3; }
    if (open >= 3) { return 2; }
    return open > 0 ? 1 : 0;
  }

  function waitText(minutes) {
    if (minutes === null || minutes === undefined) { return ""; }
    if (minutes < 120) { return Math.round(minutes) + " min"; }
    if (minutes < 2880) { return Math.round(minutes / 60) + " h"; }
    return Math.round(minutes / 1440) + " d";
  }

  function paint(viewer, elements) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    Object.keys(elements).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var heat = elements[id];
      var lvl = level(heat.open);
      if (lvl > 0) { canvas.addMarker(id, "cb-heat-" + lvl); }
      var badge = document.createElement("span");
      badge.className = "cb-heat-badge";
      badge.textContent = heat.open + " open" +
        (heat.median_wait_minutes !== null ? " · " + waitText(heat.median_wait_minutes) : "");
      badge.title = heat.open + " open now; median wait " + waitText(heat.median_wait_minutes);
      overlays.add(id, "cb-heat", { position: { bottom: -6, left: 0 }, html: badge });
    });
  }

  function watch(container) {
    var src = container.getAttribute("data-heat-src");
    var heat = null;  // one request per page, shared by every drawn diagram of the container
    function colour(viewer) {
      heat = heat || fetch(src, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        });
      heat.then(function (payload) {
        paint(viewer, payload.elements || {});
        container.setAttribute("data-heat", "shown");
      }).catch(function () { container.setAttribute("data-heat", "unavailable"); });
    }
    (container.cbViewers || []).forEach(colour);
    container.addEventListener("cb:diagram-drawn", function (event) { colour(event.detail.viewer); });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".diagram[data-heat-src]"), watch);
})();
