"""Rule help (everyone): the fields a rule may use here and the operators, from the registry
(as ``bookwise rules fields`` and ``GET /api/v1/rules/fields``). Linked from every rule box."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from bookwise.http.context import reading
from bookwise.http.routing import get
from bookwise.http.web.templating import page
from bookwise.rules.registry import OPERATOR_SPECS
from bookwise.segments.rules import available_fields

router = APIRouter(include_in_schema=False)


@get(router, "/rules/fields", role="viewer")
def rule_fields(request: Request) -> Any:
    """Every field (standard, derived, owner roles, custom attributes) and every operator."""
    with reading(request) as session:
        fields = [
            {"name": s.name, "type": s.type, "operators": s.operators, "meaning": s.doc}
            for s in available_fields(session)
        ]
    operators = [
        {"name": o.name, "english": o.english, "meaning": o.doc, "empty": o.empty}
        for o in OPERATOR_SPECS.values()
    ]
    return page(request, "rule_fields.html", fields=fields, operators=operators)
