/* CareBridge process studio: the bpmn-js Modeler, a small panel for CareBridge's own task
 * settings (written as spiffworkflow:properties, which the engine reads), drafts, checks
 * (markers plus a list that selects the element), deploy, version roll-out and rollback.
 * Every change goes through the JSON API; without the modeler the XML box still works. */
(function () {
  "use strict";

  var SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";
  var ROLES = ["Social Worker", "Nurse", "Physician", "Case Manager", "Supervisor", "Admin"];
  var PRIORITIES = ["", "routine", "urgent", "asap", "stat"];
  var ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

  var data = JSON.parse(document.getElementById("studio-data").textContent);
  var modeler = null;
  var marked = [];

  function $(id) { return document.getElementById(id); }
  function csrf() { return document.querySelector('meta[name="csrf-token"]').content; }
  function say(text) { $("studio-message").textContent = text; }

  function currentXml() {
    if (!modeler) { return Promise.resolve($("studio-xml").value); }
    return modeler.saveXML({ format: true }).then(function (r) {
      $("studio-xml").value = r.xml;
      return r.xml;
    });
  }

  function api(method, url, body, multipart) {
    var init = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } };
    if (multipart) { init.body = body; } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (resp) {
      return resp.json().then(function (json) { return { status: resp.status, body: json }; });
    });
  }

  // ---- problems: list + markers --------------------------------------------------
  function showProblems(problems) {
    var list = $("studio-problems");
    list.textContent = "";
    if (modeler) {
      var canvas = modeler.get("canvas");
      marked.forEach(function (id) {
        canvas.removeMarker(id, "cb-error");
        canvas.removeMarker(id, "cb-warning");
      });
      marked = [];
    }
    if (!problems.length) {
      var ok = document.createElement("li");
      ok.className = "muted";
      ok.textContent = "No problems found.";
      list.appendChild(ok);
      return;
    }
    problems.forEach(function (p) {
      var li = document.createElement("li");
      li.className = p.severity === "error" ? "cb-problem-error" : "cb-problem-warning";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button-link";
      button.textContent = (p.element_id || "diagram") + (p.line ? " (line " + p.line + ")" : "");
      button.addEventListener("click", function () { select(p.element_id); });
      li.appendChild(button);
      li.appendChild(document.createTextNode(" " + p.severity + ": " + p.message));
      list.appendChild(li);
      if (modeler && p.element_id && modeler.get("elementRegistry").get(p.element_id)) {
        modeler.get("canvas").addMarker(p.element_id, p.severity === "error" ? "cb-error" : "cb-warning");
        marked.push(p.element_id);
      }
    });
  }

  function select(id) {
    if (!modeler || !id) { return; }
    var element = modeler.get("elementRegistry").get(id);
    if (!element) { return; }
    modeler.get("selection").select(element);
    modeler.get("canvas").scrollToElement(element);
  }

  function upload(xml) {
    var form = new FormData();
    form.append("bpmn", new Blob([xml], { type: "application/xml" }), data.key + ".bpmn");
    return form;
  }

  function check() {
    return currentXml().then(function (xml) {
      return api("POST", "/api/v1/process-definitions/validate", upload(xml), true);
    }).then(function (r) {
      if (r.status === 200) { showProblems(r.body.problems); } else { say(r.body.error.message); }
      return r;
    });
  }

  function save() {
    return currentXml().then(function (xml) {
      return api("PUT", "/api/v1/process-drafts/" + encodeURIComponent(data.key),
        { bpmn: xml, comment: $("studio-comment").value || null });
    }).then(function (r) {
      if (r.status === 200) {
        $("draft-status").textContent = "Draft saved by " + r.body.updated_by + " at " + r.body.updated_at + ".";
        showProblems(r.body.problems);
      } else { say(r.body.error.message); }
    });
  }

  function deploy() {
    return currentXml().then(function (xml) {
      var form = upload(xml);
      form.append("comment", $("studio-comment").value || "");
      return api("POST", "/api/v1/process-definitions", form, true);
    }).then(function (r) {
      if (r.status === 201) { say("Deployed. Reloading…"); window.location.reload(); }
      else if (r.status === 200) { say("Identical to the latest version: nothing deployed."); }
      else if (r.status === 422) {
        say("Not deployed: fix the problems listed.");
        showProblems((r.body.error.details || []).map(function (p) {
          return { element_id: p.element_id, line: p.line, message: p.message, severity: "error" };
        }));
      } else { say(r.body.error.message); }
    });
  }

  // ---- the panel -----------------------------------------------------------------
  function spiffProps(bo) {
    var ext = bo.extensionElements;
    var holder = ext && (ext.values || []).filter(function (v) { return v.$type === "spiffworkflow:properties"; })[0];
    return holder ? (holder.$children || []) : [];
  }

  function propValue(bo, name) {
    var found = spiffProps(bo).filter(function (p) { return p.name === name; })[0];
    return found ? found.value : "";
  }

  function setProp(element, name, value) {
    var moddle = modeler.get("moddle");
    var bo = element.businessObject;
    var ext = bo.extensionElements || moddle.create("bpmn:ExtensionElements", { values: [] });
    ext.values = ext.values || [];
    var holder = ext.values.filter(function (v) { return v.$type === "spiffworkflow:properties"; })[0];
    if (!holder) {
      holder = moddle.createAny("spiffworkflow:properties", SPIFF, { $children: [] });
      ext.values.push(holder);
    }
    holder.$children = (holder.$children || []).filter(function (p) { return p.name !== name; });
    if (value) {
      holder.$children.push(moddle.createAny("spiffworkflow:property", SPIFF, { name: name, value: value }));
    }
    modeler.get("modeling").updateProperties(element, { extensionElements: ext });
  }

  function field(panel, label, control) {
    var wrap = document.createElement("div");
    wrap.className = "field";
    var l = document.createElement("label");
    l.textContent = label;
    wrap.appendChild(l);
    wrap.appendChild(control);
    panel.appendChild(wrap);
    return wrap;
  }

  function choice(options, value, onChange) {
    var s = document.createElement("select");
    options.forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o;
      opt.textContent = o || "—";
      if (o === value) { opt.selected = true; }
      s.appendChild(opt);
    });
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }

  function text(value, onChange) {
    var i = document.createElement("input");
    i.value = value || "";
    i.addEventListener("change", function () { onChange(i.value); });
    return i;
  }

  function showPanel(element) {
    var panel = $("studio-props");
    panel.textContent = "";
    if (!element || element.type === "bpmn:Process") {
      panel.innerHTML = '<p class="muted">Select an element to edit its CareBridge settings.</p>';
      return;
    }
    var bo = element.businessObject;
    var modeling = modeler.get("modeling");
    var head = document.createElement("p");
    head.innerHTML = "<code></code> <span class=\"muted\"></span>";
    head.firstChild.textContent = bo.id;
    head.lastChild.textContent = element.type.replace("bpmn:", "");
    panel.appendChild(head);
    if (element.type === "bpmn:Lane") {
      field(panel, "Role", choice([""].concat(ROLES), bo.name || "", function (v) { modeling.updateLabel(element, v); }));
      return;
    }
    field(panel, "Name", text(bo.name, function (v) { modeling.updateLabel(element, v); }));
    if (element.type === "bpmn:UserTask" || element.type === "bpmn:ManualTask") {
      if (element.type === "bpmn:UserTask") {
        field(panel, "Form", choice([""].concat(data.forms), propValue(bo, "formJsonSchemaFilename"),
          function (v) { setProp(element, "formJsonSchemaFilename", v); }));
      }
      var due = text(propValue(bo, "dueIn"), function (v) { setProp(element, "dueIn", v); });
      due.placeholder = "P2D, PT4H";
      var dueField = field(panel, "Due in (ISO-8601 duration)", due);
      var note = document.createElement("p");
      note.className = "hint";
      dueField.appendChild(note);
      due.addEventListener("input", function () {
        note.textContent = !due.value || ISO_DURATION.test(due.value) ? "" : "Not an ISO-8601 duration (e.g. P2D, PT4H).";
      });
      field(panel, "Due in business days", text(propValue(bo, "dueInBusinessDays"), function (v) { setProp(element, "dueInBusinessDays", v); }));
      field(panel, "Priority", choice(PRIORITIES, propValue(bo, "priority"), function (v) { setProp(element, "priority", v); }));
      field(panel, "Assign to (variable)", text(propValue(bo, "assignTo"), function (v) { setProp(element, "assignTo", v); }));
    }
    var timer = (bo.eventDefinitions || []).filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0];
    if (timer) {
      var kind = timer.timeDuration ? "timeDuration" : timer.timeDate ? "timeDate" : timer.timeCycle ? "timeCycle" : "timeDuration";
      var expr = timer[kind] ? timer[kind].body : "";
      var input = text(expr, function (v) {
        var formal = modeler.get("moddle").create("bpmn:FormalExpression", { body: v });
        var props = {};
        props[kind] = formal;
        modeling.updateModdleProperties(element, timer, props);
      });
      var timerField = field(panel, "Timer (" + kind + ", a quoted ISO-8601 value or a variable)", input);
      var hint = document.createElement("p");
      hint.className = "hint";
      timerField.appendChild(hint);
      var quote = document.createElement("button");
      quote.type = "button";
      quote.className = "button-link";
      quote.textContent = "Quote it";
      quote.addEventListener("click", function () {
        input.value = '"' + input.value.replace(/^"|"$/g, "") + '"';
        input.dispatchEvent(new Event("change"));
        input.dispatchEvent(new Event("input"));
      });
      var checkTimer = function () {
        var bare = input.value.trim();
        var unquoted = /^R?\d*\/?P/.test(bare) || /^\d{4}-\d\d-\d\d/.test(bare);
        hint.textContent = unquoted ? "Unquoted: Python would read this as code." : "";
        quote.hidden = !unquoted;
      };
      input.addEventListener("input", checkTimer);
      timerField.appendChild(quote);
      checkTimer();
    }
  }

  // ---- versions and roll-out -------------------------------------------------------
  function rollout(dryRun) {
    var to = $("rollout-to").value;
    var from = parseInt($("rollout-from").value, 10);
    return api("POST", "/api/v1/process-definitions/" + to + "/migrations", { from: from, dry_run: dryRun })
      .then(function (r) {
        if (r.status !== 200) { say(r.body.error.message); return; }
        var table = $("rollout-results");
        var body = table.querySelector("tbody");
        body.textContent = "";
        r.body.results.forEach(function (res) {
          var tr = document.createElement("tr");
          [res.instance_id, res.case_id, res.movable ? "yes" : "no", res.moved ? "yes" : "no", res.reason || ""]
            .forEach(function (v) { var td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td); });
          body.appendChild(tr);
        });
        table.hidden = false;
        $("rollout-run").disabled = !dryRun || !r.body.results.some(function (res) { return res.movable; });
        say(dryRun ? "Dry run: nothing moved yet." : "Moved the movable cases; blocked ones stay on their version.");
      });
  }

  function wire() {
    $("studio-save").addEventListener("click", save);
    $("studio-validate").addEventListener("click", check);
    $("studio-deploy").addEventListener("click", deploy);
    if ($("rollout-dry")) {
      $("rollout-dry").addEventListener("click", function () { rollout(true); });
      $("rollout-run").addEventListener("click", function () { rollout(false); });
    }
    document.querySelectorAll("[data-make-current]").forEach(function (b) {
      b.addEventListener("click", function () {
        api("POST", "/api/v1/process-definitions/" + b.dataset.makeCurrent + "/make-current", {})
          .then(function (r) { if (r.status === 200) { window.location.reload(); } else { say(r.body.error.message); } });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire();
    if (!window.BpmnJS || !$("studio-canvas")) { return; }
    modeler = new window.BpmnJS({ container: $("studio-canvas") });
    modeler.importXML(data.xml).then(function () {
      modeler.get("canvas").zoom("fit-viewport", "auto");
      modeler.on("selection.changed", function (e) { showPanel(e.newSelection[0]); });
      modeler.on("commandStack.changed", function () { currentXml(); });
      window.carebridgeStudio = modeler;  // for the browser test and the console
    }).catch(function (err) {
      say("The diagram could not be opened: " + err.message + ". Edit the XML below.");
    });
  });
})();
