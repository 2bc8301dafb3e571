// Starts Swagger UI from the app's own copy; kept out of the page so that the CSP needs no inline script.
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: el.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Swagger UI would otherwise fetch its validator badge from the internet.
    validatorUrl: null
  });
})();
