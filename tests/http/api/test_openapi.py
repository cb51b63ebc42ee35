"""The OpenAPI document is complete, and docs/api.md describes every route in it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bookwise.http.api.openapi import DOCS_PATH
from bookwise.http.roles import ROUTE_ROLES

ROOT = Path(__file__).resolve().parents[3]
REF = "#/components/schemas/"
PROBLEM = {"$ref": REF + "Problem"}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    """The document as the app serves it (to anyone: it describes, it grants nothing)."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _component(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    assert set(schema) == {"$ref"}, f"an inline schema, not a named one: {schema}"
    found: dict[str, Any] = document["components"]["schemas"][schema["$ref"].removeprefix(REF)]
    return found


def test_every_api_route_is_documented_and_declares_its_role(document: dict[str, Any]) -> None:
    documented = {(method, path) for method, path, _ in _operations(document)}
    declared = {key for key in ROUTE_ROLES if key[1].startswith("/api/v1/")}
    assert documented == declared - {("GET", DOCS_PATH)}  # the reference is a page, not an API
    assert all(path.startswith("/api/v1/") for _, path in documented)


def test_every_operation_has_an_id_a_summary_a_description_and_a_tag(
    document: dict[str, Any],
) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids))
    known_tags = {tag["name"] for tag in document["tags"]}
    for method, path, operation in _operations(document):
        assert operation.get("summary"), (method, path)
        assert operation.get("description"), (method, path)
        assert len(operation["tags"]) == 1, (method, path)
        assert set(operation["tags"]) <= known_tags, (method, path)


def test_every_error_response_is_a_problem(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        assert {"401", "403", "422"} <= set(responses), (method, path)
        for status, response in responses.items():
            if int(status) < 400:
                continue
            assert set(response["content"]) == {"application/problem+json"}, (method, path)
            body = response["content"]["application/problem+json"]
            assert body["schema"] == PROBLEM, (method, path, status)
            assert body["example"]["status"] == int(status), (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_path_parameters_can_name_missing_things(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        if "{" in path:
            assert "404" in operation["responses"], (method, path)


def test_bodies_are_named_schemas_with_examples(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400 or "content" not in response:
                continue
            for media_type, body in response["content"].items():
                if media_type == "application/json":
                    schema = _component(document, body["schema"])
                    assert schema.get("examples"), (method, path, schema.get("title"))
                else:
                    assert body.get("example"), (method, path, media_type)
        if "requestBody" in operation:
            content = operation["requestBody"]["content"]
            for body in content.values():
                schema = body["schema"]
                if "anyOf" in schema:  # an optional body: the model or nothing
                    schema = next(s for s in schema["anyOf"] if "$ref" in s)
                assert _component(document, schema).get("examples"), (method, path)


def test_authentication_is_declared(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert {"bearerAuth": []} in document["security"]


def test_changes_of_ownership_take_an_idempotency_key(document: dict[str, Any]) -> None:
    for path in (
        "/api/v1/assignments/assign",
        "/api/v1/assignments/unassign",
        "/api/v1/assignments/transfer",
        "/api/v1/assignments/inherit",
        "/api/v1/operations/{operation_id}/undo",
        "/api/v1/import/accounts",
    ):
        parameters = document["paths"][path]["post"]["parameters"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in parameters)


DOC_ROUTE = re.compile(r"^#{2,4} `?(GET|POST|PATCH|DELETE) (/api/v1/\S+?)`?$", re.MULTILINE)


def test_docs_api_md_describes_every_route(document: dict[str, Any]) -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    described = set(DOC_ROUTE.findall(text))
    documented = {(method, path) for method, path, _ in _operations(document)}
    assert documented - described == set(), "routes missing from docs/api.md"
    assert described - documented == set(), "docs/api.md describes routes that do not exist"
