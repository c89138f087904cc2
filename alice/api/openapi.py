"""The OpenAPI 3.1 description of Alice's public endpoints, served at GET /openapi.json.

It is what clients and the schema fuzzer (tests/guard/test_fuzz.py, schemathesis) read. The
`model` field lists this gateway's public models, so generated requests can reach an upstream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alice.api.http import Request, Response, json_response

if TYPE_CHECKING:
    from alice.api.http import Handler
    from alice.app import Gateway

__all__ = ["build_spec", "routes"]


def _error_ref() -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": "OpenAI error body", "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): _error_ref() for c in codes}


def _schemas(models: list[str]) -> dict[str, Any]:
    message = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
            "content": {"type": "string", "maxLength": 2000},
            "name": {"type": "string", "maxLength": 64},
        },
        "additionalProperties": False,
    }
    request = {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            "model": {"type": "string", "enum": models} if models else {"type": "string"},
            "messages": {"type": "array", "minItems": 1, "maxItems": 8,
                         "items": {"$ref": "#/components/schemas/Message"}},
            "stream": {"type": "boolean"},
            "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}},
                               "additionalProperties": False},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
            "max_completion_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
            "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
            "n": {"type": "integer", "enum": [1]},
            "user": {"type": "string", "maxLength": 128},
        },
        "additionalProperties": False,
    }
    completion = {
        "type": "object",
        "required": ["id", "object", "choices"],
        "properties": {
            "id": {"type": "string"},
            "object": {"type": "string"},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": {"type": "object"},
        },
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["message", "type"], "properties": {
            "message": {"type": "string"}, "type": {"type": "string"},
            "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}},
    }
    return {"Message": message, "ChatCompletionRequest": request, "ChatCompletion": completion, "Error": error}


def build_spec(models: list[str]) -> dict[str, Any]:
    json_object = {"application/json": {"schema": {"type": "object"}}}
    idem = {"name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[A-Za-z0-9._:-]+$"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Alice", "version": "0.1.0",
                 "description": "Swedish-first assistant orchestrator and OpenAI-compatible LLM gateway."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(models),
        },
        # `{}`: a gateway bound to loopback without keys runs open.
        "security": [{"bearer": []}, {}],
        "paths": {
            "/v1/chat/completions": {"post": {
                "operationId": "createChatCompletion",
                "parameters": [idem],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}}},
                "responses": {
                    "200": {"description": "A completion (JSON), or SSE chunks when stream is true",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}},
                                        "text/event-stream": {"schema": {"type": "string"}}}},
                    **_errors(400, 401, 403, 404, 409, 413, 422, 429, 502, 503),
                },
            }},
            "/v1/models": {"get": {
                "operationId": "listModels",
                "responses": {"200": {"description": "Public models", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["object", "data"],
                    "properties": {"object": {"type": "string"},
                                   "data": {"type": "array", "items": {"type": "object"}}},
                }}}}, **_errors(401)},
            }},
            "/api/chat": {"post": {
                "operationId": "assistantChat",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["message"],
                    "properties": {"message": {"type": "string", "minLength": 1, "maxLength": 8000},
                                   "session_id": {"type": "string", "maxLength": 128},
                                   "lang": {"type": "string", "enum": ["sv", "en"]}},
                }}}},
                "responses": {"200": {"description": "The assistant's answer", "content": json_object},
                              **_errors(400, 401, 404, 413, 429, 503)},
            }},
            "/api/guardian/state": {"get": {
                "operationId": "guardianState",
                "responses": {"200": {"description": "NORMAL / BROWNOUT / EMERGENCY with its signals",
                                      "content": {"application/json": {"schema": {
                                          "type": "object", "required": ["state"],
                                          "properties": {"state": {"type": "string",
                                                                   "enum": ["normal", "brownout", "emergency"]}},
                                      }}}},
                              **_errors(401, 403)},
            }},
            "/health": {"get": {"operationId": "health", "security": [],
                                "responses": {"200": {"description": "Alive", "content": json_object}}}},
            "/ready": {"get": {"operationId": "ready", "security": [],
                               "responses": {"200": {"description": "Ready", "content": json_object},
                                             "503": {"description": "Not ready", "content": json_object}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "security": [],
                                      "responses": {"200": {"description": "This document", "content": json_object}}}},
        },
    }


def routes(gw: Gateway) -> list[tuple[str, str, Handler]]:
    async def spec(req: Request) -> Response:
        return json_response(build_spec(gw.public_models()))

    return [("GET", "/openapi.json", spec)]
