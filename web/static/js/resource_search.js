/* The directory search over a "directory entry" number field (data-resource-search): search
 * by the form's need plus words, postal code, language and "open now"; each result shows its
 * hours, languages, eligibility, phone, why it matched and when it was last verified; choosing
 * one fills the number (and the organisation and service fields). Without JavaScript the
 * number field stays as it is. Results are built with textContent only: directory text is
 * never parsed as HTML.
 */
(function () {
  "use strict";

  var DAY = { MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function formValue(form, name) {
    var inputs = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) {
        continue;
      }
      if (input.value) {
        return input.value;
      }
    }
    return "";
  }

  function setField(form, name, value) {
    var input = form.querySelector('[name="' + CSS.escape(name) + '"]');
    if (input && value) {
      input.value = value;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function hours(result) {
    if (!result.hours.length) {
      return "Hours not listed";
    }
    return result.hours.map(function (h) {
      return h.days.map(function (d) { return DAY[d] || d; }).join(", ") +
        " " + h.opens_at + "–" + h.closes_at;
    }).join("; ");
  }

  function age(result) {
    if (result.min_age === null && result.max_age === null) {
      return "";
    }
    return " Ages " + (result.min_age === null ? 0 : result.min_age) + "–" +
      (result.max_age === null ? "any" : result.max_age) + ".";
  }

  function card(result, choose) {
    var item = el("li", { "class": "resource-result", "data-resource-id": result.id });
    item.appendChild(el("strong", {}, result.service_name));
    item.appendChild(el("span", {}, " · " + result.organization_name));
    var facts = el("dl", { "class": "resource-facts" });
    [
      ["Hours", hours(result)],
      ["Languages", result.languages.length ? result.languages.join(", ") : "Not listed"],
      ["Eligibility", (result.eligibility || "Not stated") + age(result)],
      ["Phone", result.phones.length ? result.phones.join(", ") : (result.phone || "Not listed")],
      ["Why", result.why.join("; ") || "—"],
      ["Last verified", result.last_verified || "Never"]
    ].forEach(function (pair) {
      facts.appendChild(el("dt", {}, pair[0]));
      facts.appendChild(el("dd", {}, pair[1]));
    });
    item.appendChild(facts);
    var button = el("button", { type: "button", "class": "button button-small" }, "Choose");
    button.addEventListener("click", function () { choose(result); });
    item.appendChild(button);
    return item;
  }

  function enhance(input) {
    var form = input.form;
    var box = el("div", { "class": "resource-search", role: "search" });
    var words = el("input", { type: "search", id: input.id + "-q", placeholder: "Words (optional)", "aria-label": "Words to search for" });
    var postal = el("input", { type: "text", id: input.id + "-postal", placeholder: "Client postal code", size: "10", "aria-label": "Client postal code" });
    var language = el("input", { type: "text", id: input.id + "-language", placeholder: "Language", size: "12", "aria-label": "Language the service must speak" });
    var openNow = el("input", { type: "checkbox", id: input.id + "-open" });
    var go = el("button", { type: "button", "class": "button button-small", id: input.id + "-search" }, "Search the directory");
    var status = el("p", { "class": "hint", "aria-live": "polite" });
    var chosen = el("p", { "class": "resource-chosen", "aria-live": "polite" });
    var list = el("ul", { "class": "resource-results" });
    [words, postal, language].forEach(function (field) { box.appendChild(field); });
    var openLabel = el("label", { "for": openNow.id }, " Open now");
    box.appendChild(openNow);
    box.appendChild(openLabel);
    box.appendChild(go);
    box.appendChild(status);
    box.appendChild(chosen);
    box.appendChild(list);
    input.type = "hidden";  // the number stays in the form; the search replaces typing it
    input.parentNode.appendChild(box);

    function choose(result) {
      input.value = String(result.id);
      setField(form, "organisation_name", result.organization_name);
      setField(form, "service", result.service_name);
      chosen.textContent = "Chosen: " + result.service_name + " · " + result.organization_name;
      list.textContent = "";
    }

    function search() {
      var params = new URLSearchParams();
      var need = formValue(form, "need");
      if (need) { params.set("need", need); }
      if (words.value.trim()) { params.set("q", words.value.trim()); }
      if (postal.value.trim()) { params.set("postal_code", postal.value.trim()); }
      if (language.value.trim()) { params.set("language", language.value.trim()); }
      if (openNow.checked) { params.set("open_now", "true"); }
      status.textContent = "Searching…";
      fetch(input.getAttribute("data-resource-search") + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return [response.ok, body]; });
      }).then(function (pair) {
        list.textContent = "";
        if (!pair[0]) {
          status.textContent = pair[1].error ? pair[1].error.message : "The search failed.";
          return;
        }
        var results = pair[1].resources;
        status.textContent = results.length + " service(s) found.";
        results.forEach(function (result) { list.appendChild(card(result, choose)); });
      }).catch(function () {
        status.textContent = "The directory could not be reached.";
      });
    }

    go.addEventListener("click", search);
    [words, postal, language].forEach(function (field) {
      field.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          search();
        }
      });
    });
  }

  document.querySelectorAll("input[data-resource-search]").forEach(enhance);
}());
