// A delivery group's messages, live, on the portal's group page and on the customer's link:
// new messages are added as they come (server-sent events, or polling where a stream cannot
// be kept open), the reader's place is marked read while the page is visible (where the page
// keeps read marks), and the compose form sends without leaving the page. Without this
// script the page still lists the messages and its form posts and redirects.
(function () {
  "use strict";
  var list = document.getElementById("messages");
  if (!list || !list.dataset.events) return;
  var last = list.dataset.last || "";
  var readUpTo = last; // the page's own GET marked it
  var failures = 0;
  var POLL_MS = 3000;
  var FAILURES_BEFORE_POLLING = 3;

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
  }

  function add(item) {
    if (document.getElementById("m-" + item.id)) return; // posted here, or already streamed
    var follow = nearBottom();
    var holder = document.createElement("template");
    holder.innerHTML = item.html.trim();
    list.appendChild(holder.content.firstElementChild);
    var empty = document.querySelector(".messages-empty");
    if (empty) empty.remove();
    // Message ids are time-ordered (UUIDv7), so their text sorts as they came.
    if (item.id > last) last = item.id;
    if (follow) list.lastElementChild.scrollIntoView({ block: "end" });
    markRead();
  }

  function markRead() {
    if (!list.dataset.read) return;
    if (document.visibilityState !== "visible" || !last || last === readUpTo) return;
    var body = new FormData();
    body.append("csrf_token", list.dataset.csrf);
    body.append("message_id", last);
    readUpTo = last;
    fetch(list.dataset.read, { method: "POST", body: body, credentials: "same-origin" });
  }
  document.addEventListener("visibilitychange", markRead);

  function poll() {
    var url = list.dataset.poll + "?after=" + encodeURIComponent(last);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        // Gone or never there (a customer's link revoked, say): the page itself says why.
        if (response.status === 404 || response.status === 410) {
          window.location.reload();
          return new Promise(function () {});
        }
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (page) {
        page.items.forEach(add);
        setTimeout(poll, page.more ? 0 : POLL_MS);
      })
      .catch(function () {
        setTimeout(poll, POLL_MS * 2);
      });
  }

  function listen() {
    if (!window.EventSource) return poll();
    var source = new EventSource(list.dataset.events + "?after=" + encodeURIComponent(last));
    source.onopen = function () {
      failures = 0;
    };
    source.onmessage = function (event) {
      add(JSON.parse(event.data));
    };
    // The browser reconnects by itself (with Last-Event-ID) when a stream ends; a stream that
    // keeps failing to open (a proxy that buffers, say) gives way to polling.
    source.onerror = function () {
      failures += 1;
      // CLOSED: the server answered with something else than a stream (signed out, say),
      // and the browser will not try again by itself.
      if (failures >= FAILURES_BEFORE_POLLING || source.readyState === EventSource.CLOSED) {
        source.close();
        poll();
      }
    };
  }

  function showErrors(form, field, errors) {
    var label = field.closest("label");
    label.querySelectorAll(".field-error").forEach(function (node) {
      node.remove();
    });
    errors.forEach(function (text) {
      var span = document.createElement("span");
      span.className = "field-error";
      span.setAttribute("role", "alert");
      span.textContent = text;
      label.appendChild(span);
    });
    if (errors.length) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  }

  var form = document.getElementById("compose");
  if (form) {
    // Ctrl+Enter (or Cmd+Enter) sends; Enter alone starts a new line.
    form.querySelector("textarea").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  if (form && window.fetch) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = form.querySelector("textarea");
      var file = form.querySelector("input[type=file]");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { status: response.status, body: body };
          });
        })
        .then(function (answer) {
          button.disabled = false;
          if (answer.status === 201) {
            answer.body.items.forEach(add);
            text.value = "";
            if (file) file.value = "";
            form.elements.client_message_id.value = answer.body.next_client_message_id;
            showErrors(form, text, []);
            if (file) showErrors(form, file, []);
          } else if (answer.status === 422 || answer.status === 413) {
            // Each field's reasons at the field; a form that expired says so at the text.
            var fields = answer.body.fields || { text: answer.body.errors, file: [] };
            if (!fields.text.length && !fields.file.length) fields.text = answer.body.errors;
            showErrors(form, text, fields.text);
            if (file) showErrors(form, file, fields.file);
            (fields.file.length && file ? file : text).focus();
          } else {
            form.submit();
          }
        })
        .catch(function () {
          form.submit(); // the page's own answer (an error page, a sign-in) says what happened
        });
    });
  }

  listen();
})();
