/* CareBridge task forms: progressive enhancement only. The server applies the same skip
 * logic and validates everything; without JavaScript every question is simply shown.
 *
 * 1. Skip logic: a field with data-show-when="cssrs.q2" data-show-values='["true"]' is
 *    shown only when one of those answers is chosen (data-show-negate: any other answer).
 *    Hidden fields are disabled, so they are not submitted.
 * 2. Score preview: an instrument fieldset's <p class="score-preview"> shows the score the
 *    server computes (POST /api/v1/instruments/<key>/score) once every item is answered.
 * 3. After a rejected submission, focus moves to the error summary.
 */
(function () {
  "use strict";

  var form = document.querySelector("form.schema-form");
  if (!form) {
    return;
  }

  function currentValue(name) {
    var inputs = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.disabled) {
        continue;
      }
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) {
          return input.value;
        }
      } else if (input.value !== "") {
        return input.value;
      }
    }
    return "";
  }

  function applyConditions() {
    // Repeat until stable: hiding one field can hide the fields that depend on it.
    for (var pass = 0; pass < 5; pass++) {
      var changed = false;
      form.querySelectorAll("[data-show-when]").forEach(function (box) {
        var value = currentValue(box.getAttribute("data-show-when"));
        var wanted = JSON.parse(box.getAttribute("data-show-values") || "[]");
        var show = box.getAttribute("data-show-negate") === "true"
          ? value !== "" && wanted.indexOf(value) < 0
          : wanted.indexOf(value) >= 0;
        if (box.hidden === show) {
          changed = true;
          box.hidden = !show;
          box.querySelectorAll("input, select, textarea").forEach(function (el) {
            el.disabled = !show;
          });
        }
      });
      if (!changed) {
        break;
      }
    }
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function answersOf(fieldset, prefix) {
    var answers = {};
    var complete = true;
    fieldset.querySelectorAll(".field").forEach(function (box) {
      if (box.hidden) {
        return;
      }
      var input = box.querySelector("input, select, textarea");
      if (!input || !input.name || input.name.indexOf(prefix) !== 0) {
        return;
      }
      var key = input.name.slice(prefix.length);
      if (input.type === "checkbox" && box.classList.contains("field-checkboxes")) {
        answers[key] = Array.prototype.map.call(
          box.querySelectorAll("input:checked"), function (el) { return el.value; });
        return;
      }
      var raw = currentValue(input.name);
      if (raw === "") {
        if (box.querySelector('[aria-required="true"], [role="radiogroup"][aria-required="true"]') ||
            box.getAttribute("aria-required") === "true") {
          complete = false;
        }
        return;
      }
      answers[key] = raw === "true" ? true : raw === "false" ? false : (/^-?\d+$/.test(raw) ? parseInt(raw, 10) : raw);
    });
    return complete ? answers : null;
  }

  function describe(result) {
    var parts = [];
    if (result.score !== null && result.score !== undefined) {
      parts.push("Score " + result.score);
    }
    if (result.band) {
      parts.push(result.band.replace(/_/g, " "));
    }
    if (result.risk_level) {
      parts.push("risk: " + result.risk_level);
    }
    if (result.flags && result.flags.length) {
      parts.push("flags: " + result.flags.join(", ").replace(/_/g, " "));
    }
    return parts.join(" · ");
  }

  function preview(output) {
    var fieldset = output.closest("fieldset");
    var answers = answersOf(fieldset, output.getAttribute("data-prefix"));
    if (!answers) {
      output.hidden = true;
      return;
    }
    fetch("/api/v1/instruments/" + encodeURIComponent(output.getAttribute("data-instrument")) + "/score", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ answers: answers })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (result) {
      if (result) {
        output.textContent = "Calculated now: " + describe(result) + " (recorded when you submit).";
        output.hidden = false;
      } else {
        output.hidden = true;
      }
    }).catch(function () { output.hidden = true; });
  }

  var previews = form.querySelectorAll(".score-preview");
  var timer = null;
  function schedulePreviews() {
    clearTimeout(timer);
    timer = setTimeout(function () { previews.forEach(preview); }, 250);
  }

  form.addEventListener("change", function () {
    applyConditions();
    schedulePreviews();
  });
  applyConditions();
  schedulePreviews();

  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
