"""The OpenAPI 3.1 document, generated from the operations table and the pydantic models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from pbx_bridge.store.users import Role
from pbx_bridge.web.auth import Handler
from pbx_bridge.web.calls import CALL_ID_PATTERN
from pbx_bridge.web.schemas import MAX_ID, Problem

REF = "#/components/schemas/{model}"
TAKER_ID_PATTERN = r"^[A-Za-z0-9-]{1,40}$"

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "call_id": {"type": "string", "pattern": CALL_ID_PATTERN},
    "incident_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "handoff_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "taker_id": {"type": "string", "pattern": TAKER_ID_PATTERN},
}

ERRORS = {
    400: "the body is not JSON, or a field bound for the PBX holds a control character",
    401: "no token, or one nobody has, or one revoked or expired",
    403: "your role may not do this",
    404: "no such call, incident or handoff (or not yours to see)",
    409: "not in a state for this (e.g. not verified, already closed)",
    422: "a field is invalid: `field` names it",
    429: "too many failed tokens from this address: wait Retry-After seconds",
    502: "Asterisk refused the change (its message is in `error`)",
    503: "Asterisk's AMI is not connected; try again shortly",
}


@dataclass(frozen=True)
class Operation:
    """One endpoint: the route, who may call it, and what goes in and comes out."""

    method: str
    path: str  # OpenAPI style: /api/incidents/{incident_id}
    handler: Handler
    summary: str
    roles: frozenset[Role]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None  # None: any JSON object
    statuses: tuple[int, ...] = (200,)
    conflicts: bool = False
    stream: bool = False  # server-sent events
    csv: bool = False  # also answers text/csv (`?format=csv`)
    asterisk: bool = False  # asks app_queue over AMI: 502 / 503 when Asterisk cannot answer

    @property
    def parameters(self) -> list[str]:
        return [name for name in PATH_PARAMETERS if "{" + name + "}" in self.path]

    @property
    def route(self) -> str:
        """The aiohttp path: integer parameters match digits only."""
        path = self.path
        for name in self.parameters:
            if PATH_PARAMETERS[name]["type"] == "integer":
                path = path.replace("{" + name + "}", "{" + name + r":\d+}")
        return path

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        # An optional filter is simply left out: no `null` in a query string.
        options = [p for p in prop.get("anyOf", []) if p.get("type") != "null"]
        clean = (
            {**options[0], **{k: v for k, v in prop.items() if k != "anyOf"}} if options else prop
        )
        if clean.get("default", ...) is None:
            del clean["default"]
        parameters.append(
            {"name": name, "in": "query", "required": name in required, "schema": clean}
        )
    return parameters


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(op: Operation, refs: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    problem = refs[(Problem, "serialization")]
    success: dict[str, Any]
    if op.stream:
        success = {"description": "server-sent events", "content": {"text/event-stream": {}}}
    else:
        schema = refs[(op.response, "serialization")] if op.response else {"type": "object"}
        success = _json(schema, op.summary)
        if op.csv:
            success["content"]["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {str(status): success for status in op.statuses}
    errors = [401, 403, 429]
    errors += [400, 422] if op.body else [422] if op.query else []
    errors += [404] if op.parameters else []
    errors += [409] if op.conflicts else []
    errors += [502, 503] if op.asterisk else []
    for status in sorted(errors):
        responses[str(status)] = _json(problem, ERRORS[status])
    return responses


def openapi_document(operations: Sequence[Operation], version: str) -> dict[str, Any]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for op in operations:
        if op.body:
            wanted.append((op.body, "validation"))
        if op.response:
            wanted.append((op.response, "serialization"))
    refs, top = models_json_schema(wanted, ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
            for name in op.parameters
        ]
        if op.query:
            parameters += _query_parameters(op.query, schemas)
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "description": "Roles: " + ", ".join(sorted(op.roles)),
            "parameters": parameters,
            "responses": _responses(op, refs),
        }
        if op.body:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pbx_bridge 112 API",
            "version": version,
            "description": "Calls, incidents, handoffs to agencies. Every /api/ path needs "
            "Authorization: Bearer <token>.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
