"""The JSON API under /api/v1: personal API tokens, problem details, an OpenAPI 3.1 document
generated from the code (spectree + pydantic)."""
