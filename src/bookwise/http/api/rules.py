"""/api/v1/rules: check a rule (text or JSON) and list the fields rules may use."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from bookwise.http.api.common import api_router, problems
from bookwise.http.api.filters import RULE_EXAMPLES, RuleValue
from bookwise.http.context import reading
from bookwise.http.routing import get, post
from bookwise.rules.registry import OPERATOR_SPECS
from bookwise.segments import rules
from bookwise.segments.rules import available_fields, check_rule

router = api_router("rules")


class RuleToCheck(BaseModel):
    """A rule to check: text or its JSON form."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"rule": ex} for ex in RULE_EXAMPLES]},
    )

    rule: RuleValue


class RuleCheck(rules.RuleCheck):
    """A valid rule: canonical text, English, JSON form, and how many accounts match now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "tier = 1 and health_score < 50",
                    "english": "tier is 1 and health score is less than 50",
                    "rule": {
                        "kind": "and",
                        "items": [
                            {
                                "kind": "condition",
                                "field": "tier",
                                "op": "=",
                                "value": {"type": "number", "value": "1"},
                            },
                            {
                                "kind": "condition",
                                "field": "health_score",
                                "op": "<",
                                "value": {"type": "number", "value": "50"},
                            },
                        ],
                    },
                    "matches": 37,
                }
            ]
        },
    )


class RuleField(BaseModel):
    """A field a rule may use here, its type, operators and meaning."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "field": "tier",
                    "type": "number",
                    "operators": ["=", "!=", "<", "<=", ">", ">=", "in", "not in", "between"],
                    "meaning": "Tier, 1 (the highest) to 99.",
                }
            ]
        }
    )

    field: str = Field(description="The field's name in a rule.")
    type: str = Field(description="Its type (text, number, money, date, ...).")
    operators: list[str] = Field(description="The operators it accepts.")
    meaning: str = Field(description="What it means, in words.")


class RuleFieldList(BaseModel):
    """Every field a rule may use in this installation, and every operator."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "field": "health_score",
                            "type": "number",
                            "operators": ["=", "!=", "<", "<=", ">", ">=", "between"],
                            "meaning": "Health score, 0 to 100.",
                        }
                    ],
                    "total": 1,
                    "operators": ["=", "!=", "<"],
                }
            ]
        }
    )

    items: list[RuleField] = Field(description="The fields rules may use.")
    total: int = Field(description="How many fields there are.")
    operators: list[str] = Field(description="Every operator of the rule language.")


@post(
    router,
    "/rules/check",
    role="viewer",
    response_model=RuleCheck,
    summary="Check a rule",
    responses=problems(400),
)
def check(request: Request, body: RuleToCheck) -> RuleCheck:
    """Validate a rule, give it back canonically, in English and as JSON, and count the
    accounts it matches now. An invalid rule is a 422 with ``reason`` and ``position``."""
    with reading(request) as session:
        checked = check_rule(session, body.rule)
    return RuleCheck.model_validate(checked.model_dump())


@get(
    router,
    "/rules/fields",
    role="viewer",
    response_model=RuleFieldList,
    summary="Fields a rule may use",
    responses=problems(),
)
def rule_fields(request: Request) -> RuleFieldList:
    """Every field a rule may use here (standard, derived, owner roles, custom attributes)."""
    with reading(request) as session:
        specs = available_fields(session)
    items = [
        RuleField(field=s.name, type=s.type, operators=list(s.operators), meaning=s.doc)
        for s in specs
    ]
    return RuleFieldList(items=items, total=len(items), operators=list(OPERATOR_SPECS))
