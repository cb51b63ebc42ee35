"""Every operation of the OpenAPI document, fuzzed by schemathesis against the real app.

Valid and invalid requests (an admin's API token), ``MAX_EXAMPLES`` each: no 5xx, and every
response conforms to the document (status code, content type, headers, body schema).

Each operation gets its own test and database. ``schemathesis.pytest.from_fixture`` would do
the same, but it does not run under pytest 9, so the cases come from ``as_strategy``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine

from bookwise.auth.service import create_token
from bookwise.db import write_session
from bookwise.http.app import create_app
from bookwise.segments.service import create_segment
from tests.factories import actor, make_account, make_user

# A deeper search, once in a while: BOOKWISE_FUZZ_EXAMPLES=200 pytest this file
MAX_EXAMPLES = int(os.environ.get("BOOKWISE_FUZZ_EXAMPLES", "15"))
OPENAPI = "/api/v1/openapi.json"
# A request can be valid for the schema and still be refused for what it says: a rule that
# does not parse, an Idempotency-Key reused for another body, a password too short. bookwise
# answers those with a documented 422 problem; anything else outside 2xx/401/403/404/409
# (a 400, a 5xx) still fails the check.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", "401", "403", "404", "409", "413", "422"]
            }
        }
    }
)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation (the document needs no database)."""
    document: dict[str, Any] = create_app(create_engine("sqlite://")).openapi()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def api_schema() -> schemathesis.BaseSchema:
    """The document as the app serves it, loaded once (each test points it at its own app)."""
    return schemathesis.openapi.from_asgi(
        OPENAPI, create_app(create_engine("sqlite://")), config=CONFIG
    )


@pytest.fixture
def admin_token(engine: Engine) -> str:
    """A database with a little of everything, and an admin's API token."""
    with write_session(engine) as session:
        admin = make_user(session, "admin@example.com", role="admin")
        make_user(session, "ana@example.com")
        make_user(session, "ben@example.com")
        parent = make_account(session, "Acme", external_id="ACME-1", mrr="5000")
        make_account(session, "Acme GmbH", external_id="ACME-2", parent=parent)
        make_account(session, "Globex", external_id="GLOBEX", mrr="10.50")
        create_segment(session, name="Big", rule="mrr > 1000", actor=actor(session))
        return create_token(session, user=admin, name="schemathesis", actor=admin).secret


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms(
    api_schema: schemathesis.BaseSchema, app: FastAPI, admin_token: str, method: str, path: str
) -> None:
    api_schema.app = app  # this test's app, on this test's database
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {admin_token}"}

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers)

    conforms()
