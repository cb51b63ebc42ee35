"""Every field of the API is described: each property of every schema (named components and
the inline schemas of requests, responses and parameters) and every parameter has a
description, so the reference at /api/v1/docs explains each one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

REF = "#/components/schemas/"
# Keywords whose value is a schema, or a list or a map of schemas.
ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")
MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
MAP = ("properties", "patternProperties", "$defs")


def _described(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    """A description on the property itself, or on the named schema it refers to."""
    if schema.get("description"):
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF):
        named = document["components"]["schemas"].get(ref.removeprefix(REF), {})
        return bool(named.get("description"))
    return False


def undescribed(schema: Any, where: str, document: dict[str, Any]) -> Iterator[str]:
    """Where, in ``schema`` and every schema inside it, a property has no description."""
    if not isinstance(schema, dict):
        return
    for name, prop in schema.get("properties", {}).items():
        if isinstance(prop, dict) and not _described(prop, document):
            yield f"{where}.{name}"
    for key in ONE:
        if key in schema:
            yield from undescribed(schema[key], f"{where}/{key}", document)
    for key in MANY:
        for index, part in enumerate(schema.get(key, [])):
            yield from undescribed(part, f"{where}/{key}[{index}]", document)
    for key in MAP:
        for name, part in schema.get(key, {}).items():
            yield from undescribed(part, f"{where}.{name}", document)


def missing_descriptions(document: dict[str, Any]) -> list[str]:
    """Every property and parameter of the document without a description."""
    missing: list[str] = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        missing.extend(undescribed(schema, name, document))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if not parameter.get("description"):
                    missing.append(f"{where} parameter {parameter['in']} {parameter['name']}")
                missing.extend(
                    undescribed(
                        parameter.get("schema"), f"{where} parameter {parameter['name']}", document
                    )
                )
            body = operation.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                missing.extend(
                    undescribed(content.get("schema"), f"{where} body {media}", document)
                )
            for status, response in operation.get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    missing.extend(
                        undescribed(content.get("schema"), f"{where} {status} {media}", document)
                    )
    return missing


def test_every_property_and_parameter_has_a_description(client: TestClient) -> None:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    missing = missing_descriptions(document)
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_the_walk_finds_what_it_must() -> None:
    """The walk has teeth: it reports a bare property at every depth, and a bare parameter."""
    document: dict[str, Any] = {
        "components": {
            "schemas": {
                "Named": {"description": "A named thing.", "type": "object"},
                "Outer": {
                    "type": "object",
                    "properties": {
                        "ok": {"type": "string", "description": "Fine."},
                        "via_ref": {"$ref": REF + "Named"},
                        "bare": {"type": "string"},
                        "list": {
                            "description": "A list.",
                            "type": "array",
                            "items": {"type": "object", "properties": {"deep": {}}},
                        },
                        "either": {
                            "description": "One of two.",
                            "anyOf": [{"type": "object", "properties": {"alt": {}}}, {}],
                        },
                    },
                },
            }
        },
        "paths": {
            "/x/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "schema": {"type": "integer"}},
                        {"name": "q", "in": "query", "description": "A query."},
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"inline": {}}}
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "properties": {"out": {}}}
                                }
                            }
                        }
                    },
                }
            }
        },
    }
    assert sorted(missing_descriptions(document)) == sorted(
        [
            "Outer.bare",
            "Outer.list/items.deep",
            "Outer.either/anyOf[0].alt",
            "GET /x/{id} parameter path id",
            "GET /x/{id} body application/json.inline",
            "GET /x/{id} 200 application/json.out",
        ]
    )
