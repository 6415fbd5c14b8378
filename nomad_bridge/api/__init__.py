"""HTTP surface: routes, request/response schemas, problem+json errors, auth."""
