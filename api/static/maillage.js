// maillage's small page behaviours. The pages work without it; it only saves clicks.
// Loaded as a file (never inline) so that the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    // Filter menus marked data-autosubmit apply as soon as they change.
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () {
        if (el.form) { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); }
      });
    });

    // Print buttons.
    document.querySelectorAll("[data-print]").forEach(function (el) {
      el.addEventListener("click", function (event) { event.preventDefault(); window.print(); });
    });

    // Console examples: fill the query box and the parameters from the example's data.
    document.querySelectorAll("[data-example-query]").forEach(function (el) {
      el.addEventListener("click", function (event) {
        var query = document.getElementById("query");
        var params = document.getElementById("parameters");
        if (!query) { return; }
        event.preventDefault();
        query.value = el.getAttribute("data-example-query");
        if (params) { params.value = el.getAttribute("data-example-parameters") || ""; }
        query.focus();
      });
    });

    // Buttons that must not be pressed twice (an import being written).
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      });
    });
  });
})();
