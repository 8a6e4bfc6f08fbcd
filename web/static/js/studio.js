/* Studio: a live preview of Markdown fields. A textarea with data-preview="<id>" shows its text,
   rendered and sanitised by the server exactly as learners will see it, in the element with that
   id (in its .preview__body, if it has one). Without JavaScript the form's "Show preview" button
   does the same with a full page. */
(function () {
  "use strict";

  var DELAY_MS = 400;

  function connect(textarea) {
    var box = document.getElementById(textarea.getAttribute("data-preview"));
    var form = textarea.form;
    var tokenField = form && form.querySelector("input[name=csrf_token]");
    if (!box || !tokenField) {
      return;
    }
    var body = box.querySelector(".preview__body") || box;
    var empty = body.getAttribute("data-empty") || "";
    var timer = null;
    var latest = 0;

    function showEmpty() {
      var hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = empty;
      body.replaceChildren(hint);
    }

    function refresh() {
      var text = textarea.value;
      var request = ++latest;
      if (!text.trim()) {
        showEmpty();
        return;
      }
      fetch(textarea.getAttribute("data-preview-url") || "/studio/preview", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": tokenField.value },
        body: new URLSearchParams({ text: text })
      })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          // Only the answer to the newest text is shown; a slower older one is dropped.
          if (request === latest) {
            body.innerHTML = html; // sanitised by the server (nh3), as on the learner's page
          }
        })
        .catch(function () { /* offline: the preview simply stays as it was */ });
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY_MS);
    });
    if (textarea.value.trim() && body.querySelector("p.hint")) {
      refresh();
    }
  }

  document.querySelectorAll("textarea[data-preview]").forEach(connect);
  // The live preview makes the page-reloading preview button unnecessary.
  document.querySelectorAll("[data-preview-button]").forEach(function (button) {
    button.hidden = true;
  });
})();

/* Studio: while the worker converts a lesson's uploaded video, its status (with the progress)
   follows on the page, asked every few seconds; it stops once the video is ready or failed.
   Without JavaScript a refresh of the page shows the same. */
(function () {
  "use strict";

  var EVERY_MS = 3000;

  function follow(box) {
    var url = box.getAttribute("data-status-url");
    var text = box.querySelector(".video-status__text");
    var bar = box.querySelector(".video-status__bar");

    function busy() {
      var state = box.getAttribute("data-state");
      return state === "queued" || state === "processing";
    }

    function ask() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            box.setAttribute("data-state", ""); // gone, or she was signed out: stop asking
            return null;
          }
          return response.json();
        })
        .then(function (status) {
          if (status && status.state) {
            box.setAttribute("data-state", status.state);
            box.className = "video-status video-status--" + status.state;
            text.textContent = status.text;
            bar.value = status.progress;
            bar.textContent = status.progress + "%";
            bar.hidden = !busy();
          }
        })
        .catch(function () {}) // offline for a moment: the next round asks again
        .then(function () {
          if (busy()) {
            window.setTimeout(ask, EVERY_MS);
          }
        });
    }

    if (busy()) {
      window.setTimeout(ask, EVERY_MS);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-status-url]"), follow);
})();
