// The API documentation page: Swagger UI over /api/v1/openapi.json. "Authorize" takes a
// personal token from /account, so "Try it out" calls the API as you.
const root = document.getElementById("api-docs");

window.SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  deepLinking: true,
  defaultModelsExpandDepth: 0,
  docExpansion: "list",
  // Nothing leaves this server: no validator badge calling validator.swagger.io.
  validatorUrl: null,
});
