/* CareBridge task forms: nothing typed is lost.
 *
 * 1. Autosave: every few seconds after a change, and when the page is hidden or left, the
 *    form's values go to PUT /api/v1/tasks/<id>/draft (sealed on the server, per task and
 *    person). The server restores them when the task is opened again.
 * 2. Re-authentication in place: as the form is submitted, GET /api/v1/session checks the
 *    session and hands back a fresh CSRF token. A signed-out page opens a sign-in dialog that
 *    posts to /api/v1/session and then submits the very same form, with every answer intact.
 *    The same happens when an autosave is answered 401.
 */
(function () {
  "use strict";

  var form = document.getElementById("task-form");
  if (!form || !form.getAttribute("data-draft-url")) {
    return;
  }
  var SAVE_EVERY_MS = 5000;
  var draftUrl = form.getAttribute("data-draft-url");
  var sessionUrl = form.getAttribute("data-session-url");
  var status = document.getElementById("draft-status");
  var dialog = document.getElementById("reauth");
  var reauthForm = document.getElementById("reauth-form");
  var reauthError = document.getElementById("reauth-error");
  var lastSaved = null;
  var dirty = false;
  var submitting = false;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function setCsrfToken(token) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      meta.setAttribute("content", token);
    }
    document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
      input.value = token;
    });
  }

  function values() {
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token" || typeof value !== "string") {
        return;
      }
      (data[name] = data[name] || []).push(value);
    });
    return data;
  }

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function timeNow() {
    return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function save(leaving) {
    var body = JSON.stringify({ data: values() });
    if (body === lastSaved) {
      dirty = false;
      return Promise.resolve(true);
    }
    return fetch(draftUrl, {
      method: "PUT",
      credentials: "same-origin",
      keepalive: !!leaving,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body
    }).then(function (response) {
      if (response.ok) {
        lastSaved = body;
        dirty = false;
        say("Draft saved at " + timeNow() + ".");
        return true;
      }
      if (response.status === 401) {
        say("Draft not saved: your session has ended. Your answers stay on this page; sign in when you submit.");
      } else if (response.status === 409) {
        say("This task is closed; the draft was not saved.");
      }
      return false;
    }).catch(function () {
      say("Draft not saved: the server could not be reached. It will be tried again.");
      return false;
    });
  }

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  setInterval(function () {
    if (dirty && !submitting) {
      save(false);
    }
  }, SAVE_EVERY_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && dirty && !submitting) {
      save(true);
    }
  });
  window.addEventListener("pagehide", function () {
    if (dirty && !submitting) {
      save(true);
    }
  });

  // ------------------------------------------------------------ submit, signing in if needed
  function submitNow() {
    submitting = true;
    HTMLFormElement.prototype.submit.call(form);
  }

  function askToSignIn() {
    reauthError.hidden = true;
    dialog.showModal();
    var password = document.getElementById("reauth-password");
    password.value = "";
    password.focus();
  }

  // The session check is a synchronous request on purpose: when the session is alive, the
  // browser's own submission then starts within the click, exactly as without this script
  // (assistive technology, automation and the back button see an ordinary form post). Only
  // an ended session stops the submission and opens the sign-in dialog.
  function sessionAlive() {
    try {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", sessionUrl, false);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.send();
      if (xhr.status === 401) {
        return false;
      }
      if (xhr.status === 200) {
        setCsrfToken(JSON.parse(xhr.responseText).csrf_token);
      }
    } catch (e) {
      // No answer to the check: submit as a plain form; the server decides.
    }
    return true;
  }

  form.addEventListener("submit", function (event) {
    if (submitting) {
      return;
    }
    if (sessionAlive()) {
      submitting = true;
      return;
    }
    event.preventDefault();
    askToSignIn();
  });

  reauthForm.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(reauthForm.getAttribute("data-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        username: document.getElementById("reauth-username").value,
        password: document.getElementById("reauth-password").value
      })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (!answer.ok) {
        reauthError.textContent = answer.body.error ? answer.body.error.message : "Sign-in failed.";
        reauthError.hidden = false;
        return;
      }
      setCsrfToken(answer.body.csrf_token);
      dialog.close();
      say("Signed in again. Submitting your answers…");
      submitNow();
    }).catch(function () {
      reauthError.textContent = "The server could not be reached. Your answers are still here; try again.";
      reauthError.hidden = false;
    });
  });

  document.getElementById("reauth-cancel").addEventListener("click", function () {
    dialog.close();
    say("Not submitted. Your answers are still on this page.");
  });

  // ------------------------------------------------------------ a restored draft
  var discard = document.getElementById("draft-discard");
  if (discard) {
    discard.addEventListener("click", function () {
      fetch(draftUrl, { method: "DELETE", credentials: "same-origin" }).then(function (response) {
        if (response.ok) {
          window.location.reload();
        }
      });
    });
  }
  lastSaved = JSON.stringify({ data: values() });
})();
