// The API documentation page (shared/templates/shared/docs.html): Swagger UI over the
// service's own OpenAPI document, from a file so that the page's Content-Security-Policy
// allows no inline script (shared/web.py).
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: element.dataset.openapi,
    domNode: element,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
})();
