// Behaviour shared by every page. No inline scripts anywhere: the CSP allows only this file.
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // On a phone the department links fold behind 菜单 (app.css: .js header.top ul.menu).
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".menu-toggle button");
    if (!toggle) { return; }
    var header = toggle.closest("header.top");
    var shown = header.classList.toggle("menu-shown");
    toggle.setAttribute("aria-expanded", shown ? "true" : "false");
  });

  // Every htmx request carries the CSRF token (SECURITY.md 15).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // Toasts announced by the server with HX-Trigger: {"toast": "..."}.
  document.addEventListener("toast", function (event) {
    var area = document.getElementById("flash");
    if (!area) { return; }
    var note = document.createElement("p");
    note.className = "flash flash-success";
    note.setAttribute("role", "status");
    note.textContent = event.detail.value;
    area.appendChild(note);
    setTimeout(function () { note.remove(); }, 6000);
  });

  // Destructive actions ask first: <form data-confirm="...">, or the button that submits it
  // (<button data-confirm="...">: a form whose other button, e.g. 保存草稿, asks nothing).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute && button.getAttribute("data-confirm")) ||
      (form.getAttribute && form.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <input type="checkbox" data-toggle-all=".include"> ticks or unticks every matching box.
  document.addEventListener("change", function (event) {
    var selector = event.target.getAttribute && event.target.getAttribute("data-toggle-all");
    if (!selector) { return; }
    document.querySelectorAll(selector).forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  // <input data-no-submit>: Enter in a live-search box inside a form (the intake's customer
  // search) must not submit the half-filled form around it.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.isComposing && event.target.matches &&
        event.target.matches("input[data-no-submit]")) {
      event.preventDefault();
    }
  });

  // A state diagram wider than the page scrolls: bring its current state into view.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".state-diagram").forEach(function (figure) {
      var current = figure.querySelector(".node.current");
      if (!current || figure.scrollWidth <= figure.clientWidth) { return; }
      var node = current.getBoundingClientRect(), frame = figure.getBoundingClientRect();
      figure.scrollLeft += node.left - frame.left - (frame.width - node.width) / 2;
    });
  });

  // <select data-autosubmit> submits its form on change (language switch).
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });
})();
