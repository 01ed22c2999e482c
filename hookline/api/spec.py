"""Declare JSON API operations once; validation, serialization and OpenAPI follow.

An operation names its query, body and response types (pydantic). The same
types parse the request, shape the response and write the OpenAPI document, so
the document cannot drift from the code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from hookline.auth.web import requires
from hookline.errors import InvalidInput

View = Callable[..., Any]


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    permission: str
    query: type[BaseModel] | None
    body: Any
    response: Any
    status: int
    raw_body: str | None
    tags: tuple[str, ...]


@dataclass
class Api:
    """A Flask blueprint plus the operations declared on it."""

    blueprint: Blueprint
    title: str
    version: str
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self,
        method: str,
        rule: str,
        *,
        summary: str,
        permission: str,
        response: Any,
        query: type[BaseModel] | None = None,
        body: Any = None,
        status: int = 200,
        raw_body: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> Callable[[View], View]:
        """Register ``view`` for ``method rule``; it gets ``query=`` and ``body=`` parsed."""

        def register(view: View) -> View:
            op = Operation(
                method.upper(),
                rule,
                view.__name__,
                summary,
                permission,
                query,
                body,
                response,
                status,
                raw_body,
                tags,
            )
            self.operations.append(op)
            wrapped = requires(permission)(functools.wraps(view)(_handler(view, op)))
            self.blueprint.add_url_rule(rule, view.__name__, wrapped, methods=[op.method])
            return view

        return register

    def openapi(self, prefix: str) -> dict[str, Any]:
        """Return the OpenAPI 3.1 document of every declared operation."""
        return build_document(self, prefix)


def _handler(view: View, op: Operation) -> View:
    response_adapter = TypeAdapter(op.response)
    body_adapter = TypeAdapter(op.body) if op.body is not None else None

    def handle(**path: Any) -> Response:
        kwargs = dict(path)
        if op.query is not None:
            kwargs["query"] = _parse(TypeAdapter(op.query), request.args.to_dict(), "query")
        if body_adapter is not None:
            kwargs["body"] = _parse(body_adapter, _json_body(), "body")
        result = view(**kwargs)
        response = jsonify(response_adapter.dump_python(result, mode="json"))
        response.status_code = op.status
        return response

    return handle


def _json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidInput("Send a JSON body with 'Content-Type: application/json'.")
    return data


def _parse(adapter: TypeAdapter, data: Any, where: str) -> Any:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{p['field'] or where}: {p['problem']}" for p in problems)
        raise InvalidInput(f"Invalid {where}: {summary}", detail={"problems": problems}) from None


# -- the document ----------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. not_media or forbidden."},
        "message": {"type": "string", "description": "What is wrong and what to do."},
        "detail": {"type": ["object", "null"]},
    },
}


def build_document(api: Api, prefix: str) -> dict[str, Any]:
    inputs = [
        (("body", op.endpoint), "validation", TypeAdapter(op.body))
        for op in api.operations
        if op.body is not None
    ]
    outputs = [
        (("response", op.endpoint), "serialization", TypeAdapter(op.response))
        for op in api.operations
    ]
    schemas, definitions = TypeAdapter.json_schemas(
        [*inputs, *outputs], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        path = prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version},
        "paths": paths,
        "components": {
            "schemas": {**definitions.get("$defs", {}), "Error": ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "hookline token create",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


def _operation(op: Operation, schemas: dict[Any, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": list(op.tags),
        "x-permission": op.permission,
        "parameters": _path_parameters(op.rule) + _query_parameters(op.query),
        "responses": {
            str(op.status): {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": schemas[(("response", op.endpoint), "serialization")]
                    }
                },
            },
            "default": {
                "description": "An error; 'message' says what to do.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if op.body is not None:
        schema = schemas[(("body", op.endpoint), "validation")]
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    elif op.raw_body:
        doc["requestBody"] = {
            "required": True,
            "content": {op.raw_body: {"schema": {"type": "string", "format": "binary"}}},
        }
    return doc


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        kind = "integer" if converter == "int" else "string"
        params.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
    return params


def _query_parameters(query: type[BaseModel] | None) -> list[dict[str, Any]]:
    if query is None:
        return []
    properties = query.model_json_schema()["properties"]
    params = []
    for name, info in query.model_fields.items():
        prop = properties[info.alias or name]
        params.append(
            {
                "name": info.alias or name,
                "in": "query",
                "required": info.is_required(),
                "description": info.description or "",
                "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            }
        )
    return params
