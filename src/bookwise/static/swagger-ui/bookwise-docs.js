// bookwise's API reference: Swagger UI on /api/v1/openapi.json (served by bookwise, no CDN).
// A static file rather than an inline script: the Content-Security-Policy forbids inline code.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Never read a configuration or another spec's URL from the address bar (?url=...).
    queryConfigEnabled: false,
    // Never send the spec to an outside validator (validator.swagger.io).
    validatorUrl: null,
    // The token lives in this tab's memory only, never in localStorage.
    persistAuthorization: false,
    displayRequestDuration: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    // Try it out acts with the API token given to Authorize, never with the browser's session
    // cookie: without a token the API answers 401 "sign in first (or send an API token ...)"
    // instead of a CSRF refusal, and a page opened from a link cannot act as the signed-in
    // user.
    requestInterceptor: function (request) {
      request.credentials = "omit";
      return request;
    },
  });
});
