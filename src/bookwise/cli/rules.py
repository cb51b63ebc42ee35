"""``bookwise rules``: check a rule (validate, describe, count) and list the fields it may use."""

from __future__ import annotations

from typing import Annotated

import typer

from bookwise.cli.output import (
    Column,
    FormatOption,
    OutputFormat,
    ResultFormat,
    ResultFormatOption,
    echo_json,
    emit_listing,
    say,
)
from bookwise.cli.runtime import reading
from bookwise.rules.registry import OPERATOR_SPECS
from bookwise.segments.rules import available_fields, check_rule

rules_app = typer.Typer(
    help="Check rules and list the fields and operators they may use.", no_args_is_help=True
)

RuleArgument = Annotated[
    str,
    typer.Argument(metavar="RULE", help='A rule, e.g. "tier = 1 and health_score < 50".'),
]


@rules_app.command("check")
def check(rule: RuleArgument, fmt: ResultFormatOption = ResultFormat.table) -> None:
    """Validate a rule, print it canonically and in English, and count the accounts it matches."""
    with reading() as session:
        checked = check_rule(session, rule)
    if fmt is ResultFormat.json:
        echo_json(checked.model_dump(mode="json"))
        return
    say(f"rule:    {checked.text}")
    say(f"means:   {checked.english}")
    say(f"matches: {checked.matches:,} account{'' if checked.matches == 1 else 's'}")


@rules_app.command("fields")
def fields(fmt: FormatOption = OutputFormat.table) -> None:
    """Every field a rule may use here: standard, derived, owner roles and custom attributes."""
    with reading() as session:
        specs = available_fields(session)
    items = [
        {
            "field": spec.name,
            "type": spec.type,
            "operators": ", ".join(spec.operators),
            "meaning": spec.doc,
        }
        for spec in specs
    ]
    emit_listing(
        fmt,
        items=items,
        columns=[
            Column("field", "field"),
            Column("type", "type"),
            Column("operators", "operators"),
            Column("meaning", "meaning"),
        ],
        total=len(items),
        title="rule fields",
        footer="also: parent.<field>, in segment S, parent in segment S, ancestor in segment S, "
        f"any child (<rule>); operators: {', '.join(OPERATOR_SPECS)}",
    )
