"""docs/rule-language.md is generated from the registries and documents every field and operator."""

from __future__ import annotations

from pathlib import Path

from bookwise.rules.reference import REGENERATE, render_rule_reference
from bookwise.rules.registry import (
    DERIVED_FIELDS,
    OPERATOR_SPECS,
    STANDARD_FIELDS,
    TYPE_DOCS,
    TYPE_OPERATORS,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "rule-language.md"
WORDS = {"company_level": "company level", "csm_count": "csm count"}


def test_docs_rule_language_md_is_current() -> None:
    actual = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert actual == render_rule_reference(), (
        f"docs/rule-language.md is out of date; regenerate it with: {REGENERATE}"
    )


def test_every_field_is_documented() -> None:
    text = render_rule_reference()
    for spec in (*STANDARD_FIELDS, *DERIVED_FIELDS):
        assert spec.doc.strip(), f"field {spec.name} has no description"
        assert f"| `{WORDS.get(spec.name, spec.name)}` | {spec.type} |" in text, spec.name


def test_every_operator_is_documented_with_its_empty_value_semantics() -> None:
    text = render_rule_reference()
    for spec in OPERATOR_SPECS.values():
        assert spec.doc.strip()
        assert spec.empty.strip()
        assert f"| `{spec.name}` | {spec.english} |" in text, spec.name


def test_every_type_is_documented_and_has_operators() -> None:
    text = render_rule_reference()
    assert set(TYPE_DOCS) == set(TYPE_OPERATORS)
    for name in TYPE_DOCS:
        assert f"| {name} | {TYPE_DOCS[name]} |" in text


def test_every_operator_appears_in_the_grammar_section() -> None:
    grammar = render_rule_reference().split("## Grammar", 1)[1]
    for keyword in ("between", "contains", "starts", "empty", "segment", "today", "any"):
        assert keyword in grammar
