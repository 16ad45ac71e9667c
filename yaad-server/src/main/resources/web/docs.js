// Swagger UI on this server's own OpenAPI document (served from the swagger-ui webjar by /docs).
// "Try it out" sends requests to this server; with authentication on, "Authorize" takes an
// API key or session token.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: false,
});
