/* CareBridge inbox: progressive enhancement only (without JavaScript the page still lists,
 * claims and acknowledges by plain forms).
 *
 * 1. Live: polls GET /api/v1/inbox/summary (ETag, so an unchanged inbox costs a 304), keeps
 *    the count in the page title ("(3) Inbox"), and reloads the task list in place when it
 *    changed, unless the user has tasks selected: then a "new tasks — show" bar waits.
 * 2. STAT alerts (opt-in, remembered in localStorage): a short tone and a desktop
 *    notification when the number of open STAT tasks grows.
 * 3. Keyboard: j/k move between rows, Enter opens, c claims, ? shows the help.
 * 4. Bulk reassignment (supervisors, team/overdue/all views): select rows, name the new
 *    holder and one handoff note, POST /api/v1/tasks/bulk-assign.
 */
(function () {
  "use strict";

  var live = document.getElementById("inbox-live");
  if (!live) {
    return;
  }
  var POLL_MS = 10000;
  var ALERT_KEY = "carebridge.statAlerts";
  var baseTitle = document.title.replace(/^\(\d+\+?\)\s*/, "");
  var state = {
    etag: live.getAttribute("data-etag"),
    latest: parseInt(live.getAttribute("data-latest-id") || "0", 10),
    stat: parseInt(live.getAttribute("data-stat") || "0", 10)
  };
  var current = -1;

  function setTitle(count) {
    document.title = count > 0 ? "(" + count + ") " + baseTitle : baseTitle;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function selected() {
    return Array.prototype.map.call(
      document.querySelectorAll(".bulk-pick:checked"), function (el) { return parseInt(el.value, 10); });
  }

  // ------------------------------------------------------------ live list
  function replaceList() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("inbox-live");
        if (!fresh) {
          return;
        }
        var focusedId = currentRowId();
        live.innerHTML = fresh.innerHTML;
        document.getElementById("new-tasks").hidden = true;
        setCurrentById(focusedId);
        updateBulkCount();
      });
  }

  function showNewBar(text) {
    var bar = document.getElementById("new-tasks");
    bar.querySelector(".new-tasks-text").textContent = text;
    bar.hidden = false;
  }

  function alertStat() {
    if (localStorage.getItem(ALERT_KEY) !== "on") {
      return;
    }
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) {
        var ctx = new Ctx();
        var tone = ctx.createOscillator();
        var gain = ctx.createGain();
        tone.frequency.value = 880;
        gain.gain.value = 0.15;
        tone.connect(gain);
        gain.connect(ctx.destination);
        tone.start();
        tone.stop(ctx.currentTime + 0.4);
      }
    } catch (e) { /* no sound is no reason to stop the inbox */ }
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification("New STAT task in CareBridge", {
        body: "A STAT task needs acknowledging within 15 minutes.",
        tag: "carebridge-stat"
      });
    }
  }

  function applySummary(summary) {
    var counts = summary.counts;
    setTitle(counts.mine + counts.team);
    document.querySelectorAll(".tabs .count[data-view]").forEach(function (el) {
      var view = el.getAttribute("data-view");
      if (counts[view] !== undefined) {
        el.textContent = String(counts[view]);
      }
    });
    if (counts.stat > state.stat) {
      alertStat();
    }
    state.stat = counts.stat;
    var newer = (summary.latest_id || 0) > state.latest;
    state.latest = Math.max(state.latest, summary.latest_id || 0);
    if (selected().length) {
      // Never pull rows from under a supervisor's selection.
      showNewBar(newer ? "New tasks arrived." : "The list changed.");
    } else {
      replaceList();
    }
  }

  function poll() {
    if (document.hidden) {
      return;
    }
    var headers = { Accept: "application/json" };
    if (state.etag) {
      headers["If-None-Match"] = '"' + state.etag + '"';
    }
    fetch(live.getAttribute("data-summary-url"), { credentials: "same-origin", headers: headers, cache: "no-store" })
      .then(function (response) {
        if (response.status !== 200) {
          return null;
        }
        return response.json();
      })
      .then(function (summary) {
        if (summary && summary.etag !== state.etag) {
          state.etag = summary.etag;
          applySummary(summary);
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  setTitle(parseInt(live.getAttribute("data-title-count") || "0", 10));
  setInterval(poll, POLL_MS);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      poll();
    }
  });
  document.getElementById("new-tasks-show").addEventListener("click", function () {
    document.querySelectorAll(".bulk-pick:checked").forEach(function (el) { el.checked = false; });
    replaceList();
  });

  // ------------------------------------------------------------ STAT alerts opt-in
  var toggle = document.getElementById("stat-alerts");
  if (toggle) {
    toggle.closest("label").hidden = false;
    toggle.checked = localStorage.getItem(ALERT_KEY) === "on";
    toggle.addEventListener("change", function () {
      localStorage.setItem(ALERT_KEY, toggle.checked ? "on" : "off");
      if (toggle.checked && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission();
      }
    });
  }

  // ------------------------------------------------------------ keyboard
  function rows() {
    return Array.prototype.slice.call(live.querySelectorAll("tr.task-row"));
  }

  function currentRowId() {
    var list = rows();
    return current >= 0 && current < list.length ? list[current].getAttribute("data-task-id") : null;
  }

  function setCurrent(index) {
    var list = rows();
    if (!list.length) {
      current = -1;
      return;
    }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row, i) { row.classList.toggle("row-current", i === current); });
    var link = list[current].querySelector(".task-link");
    if (link) {
      link.focus();
    }
  }

  function setCurrentById(id) {
    if (id === null) {
      current = -1;
      return;
    }
    var index = rows().findIndex(function (row) { return row.getAttribute("data-task-id") === id; });
    if (index >= 0) {
      current = index;
      rows()[index].classList.add("row-current");
    } else {
      current = -1;
    }
  }

  var help = document.getElementById("shortcuts");
  document.getElementById("shortcuts-open").addEventListener("click", function () { help.showModal(); });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (target.closest("input, select, textarea, dialog, [contenteditable]")) {
      return;
    }
    var list = rows();
    if (event.key === "j") {
      setCurrent(current + 1);
    } else if (event.key === "k") {
      setCurrent(current < 0 ? 0 : current - 1);
    } else if (event.key === "Enter" && current >= 0 && !target.closest("a, button")) {
      var link = list[current].querySelector(".task-link");
      if (link) {
        window.location.href = link.href;
      }
    } else if (event.key === "c" && current >= 0) {
      var claim = list[current].querySelector('form[action$="/claim"] button');
      if (claim) {
        claim.click();
      }
    } else if (event.key === "?") {
      help.showModal();
    } else {
      return;
    }
    event.preventDefault();
  });

  // ------------------------------------------------------------ bulk reassignment
  var bulk = document.getElementById("bulk-assign");

  function updateBulkCount() {
    var count = document.getElementById("bulk-count");
    if (count) {
      count.textContent = String(selected().length);
    }
  }

  if (bulk) {
    live.addEventListener("change", function (event) {
      if (event.target.classList.contains("bulk-pick")) {
        updateBulkCount();
      }
    });
    bulk.addEventListener("submit", function (event) {
      event.preventDefault();
      var result = document.getElementById("bulk-result");
      var ids = selected();
      var user = bulk.querySelector("#bulk-user").value;
      var note = bulk.querySelector("#bulk-note").value.trim();
      if (!ids.length || !user || !note) {
        var missing = [];
        if (!ids.length) { missing.push("select at least one task"); }
        if (!user) { missing.push("choose the new holder"); }
        if (!note) { missing.push("write a handoff note"); }
        result.textContent = "To reassign, " + missing.join(", ") + ".";
        result.className = "flash flash-error";
        return;
      }
      fetch(bulk.getAttribute("data-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ task_ids: ids, user: user, note: note })
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (!answer.ok) {
          result.textContent = answer.body.error ? answer.body.error.message : "Nothing was reassigned.";
          result.className = "flash flash-error";
          return;
        }
        var text = answer.body.assigned.length + " task" + (answer.body.assigned.length === 1 ? "" : "s") + " reassigned.";
        answer.body.refused.forEach(function (refusal) {
          text += " Task " + refusal.id + " not reassigned: " + refusal.message;
        });
        result.textContent = text;
        result.className = answer.body.refused.length ? "flash flash-error" : "flash flash-notice";
        bulk.querySelector("#bulk-note").value = "";
        replaceList();
      }).catch(function () {
        result.textContent = "The server could not be reached; nothing was reassigned.";
        result.className = "flash flash-error";
      });
    });
  }
})();
