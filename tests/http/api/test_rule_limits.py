"""The rule budget through the API: what crashed the databases (a 500) is a 422 with where."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

Api = Callable[..., TestClient]


@pytest.mark.parametrize(
    ("rule", "at"),
    [
        (" or ".join(f"tier={n % 5}" for n in range(1000)), 200 * len("tier=0 or ")),
        ("any child (" * 10 + "tier = 1" + ")" * 10, 5 * len("any child (")),
        ("any child (" * 99 + "tier = 1" + ")" * 99, 5 * len("any child (")),
        ("parent." * 12 + "tier = 1", 0),
    ],
    ids=["1000 ors", "any child x10", "any child x99", "parent. x12"],
)
def test_a_rule_past_the_budget_is_a_422_with_its_position(api_as: Api, rule: str, at: int) -> None:
    response = api_as("viewer").post("/api/v1/rules/check", json={"rule": rule})
    assert response.status_code == 422, response.text[:300]
    problem = response.json()
    assert problem["type"].endswith("/invalid-rule")
    assert problem["position"] == at
    assert "rule-language.md#limits" in problem["reason"]


def test_a_huge_json_rule_is_a_422_with_its_path(api_as: Api) -> None:
    # Small in bytes (the body limit is 1 MiB), big in items: 100,000 took 21.6 s, then a 500.
    rule = {"kind": "condition", "field": "tier", "op": "in", "value": [1] * 100_000}
    response = api_as("viewer").post("/api/v1/rules/check", json={"rule": rule})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["path"] == "value"


def test_a_segment_past_the_budget_is_refused_when_saved(api_as: Api) -> None:
    rule = " or ".join(f"tier={n % 5}" for n in range(500))
    response = api_as("manager").post("/api/v1/segments", json={"name": "Huge", "rule": rule})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["position"] == rule.index("tier=0", 200 * len("tier=0 or "))
