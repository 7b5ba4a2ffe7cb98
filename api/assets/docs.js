// Starts Swagger UI on /docs. A file of its own rather than an inline
// script, so the page's Content-Security-Policy can refuse inline scripts.
'use strict'
window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  // Otherwise the badge sends the document to Swagger's online validator.
  validatorUrl: null,
})
