"""docs/rule-language.md, generated from the registries: ``python -m bookwise.rules.reference``.

The field, operator and type tables, the grammar, the English of every example and the error
shown are all produced by the code itself, so the page cannot describe a language that differs
from the one bookwise runs. ``tests/rules/test_reference_doc.py`` fails when the page is stale.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from bookwise.errors import InvalidRule
from bookwise.rules import ast
from bookwise.rules.compiler import compile_rule
from bookwise.rules.describe import describe_rule
from bookwise.rules.parser import parse_rule
from bookwise.rules.printer import print_rule
from bookwise.rules.registry import (
    DERIVED_FIELDS,
    OPERATOR_SPECS,
    STANDARD_FIELDS,
    TYPE_DOCS,
    TYPE_OPERATORS,
    AttributeInfo,
    Catalog,
    FieldSpec,
    SegmentInfo,
    UserInfo,
    segment_key,
)

REGENERATE = "python -m bookwise.rules.reference > docs/rule-language.md"
# The rule budget (rules.budget) and the statement time limit: the numbers and why. Kept as
# Markdown beside this module, since its tables are wider than a line of code.
LIMITS = (Path(__file__).parent / "limits.md").read_text(encoding="utf-8")

EXAMPLES = (
    "tier = 1 and health_score < 50",
    'lifecycle_stage = "onboarding" and mrr > 5000',
    "csm is empty",
    'csm = "michael@example.com" and is_parent',
    'is_child and parent in segment "Michael\'s parent companies"',
    "company level is 1",
    'not (region in ("EMEA", "APAC")) or renewal_date < today + 60 days',
    'custom.industry = "Fintech" and name contains "bank"',
    "account_manager is empty and tier in (1, 2)",
    'ancestor in segment "Strategic" and health_score between 40 and 60',
    "csm count > 1 and any child (health_score < 30)",
    "parent.tier = 1 and created_at >= today - 3 months",
)

BAD_EXAMPLES = (
    "helth_score < 50",
    'mrr > "abc"',
    "company level is 2",
    "tier = 1 and",
    'csm is "nobody@example.com"',
    'in segment "Stratgic"',
)


def example_catalog() -> Catalog:
    """The catalog the page's examples are checked against."""
    michael = UserInfo(id=1, email="michael@example.com", name="Michael Scott", active=True)
    segments = {
        segment_key(name): SegmentInfo(id=n, name=name, rule=parse_rule(rule))
        for n, (name, rule) in enumerate(
            (
                (
                    "Michael's parent companies",
                    'csm is "michael@example.com" and company level is 1',
                ),
                ("Strategic", "tier = 1 and mrr > 20000"),
            ),
            start=1,
        )
    }
    return Catalog(
        attributes={"industry": AttributeInfo(name="industry", type="text")},
        roles=("account_manager", "csm"),
        users={"michael@example.com": [michael], "michael scott": [michael]},
        segments=segments,
    )


def _field_rows(specs: tuple[FieldSpec, ...]) -> list[str]:
    rows = ["| field | type | operators | meaning |", "|---|---|---|---|"]
    for spec in specs:
        name = {"company_level": "company level", "csm_count": "csm count"}.get(
            spec.name, spec.name
        )
        operators = ", ".join(f"`{op}`" for op in spec.operators)
        rows.append(f"| `{name}` | {spec.type} | {operators} | {spec.doc} |")
    return rows


def _operator_rows() -> list[str]:
    rows = ["| operator | in English | meaning | with an empty value |", "|---|---|---|---|"]
    for spec in OPERATOR_SPECS.values():
        rows.append(f"| `{spec.name}` | {spec.english} | {spec.doc} | {spec.empty} |")
    return rows


def _type_rows() -> list[str]:
    rows = ["| type | values | operators |", "|---|---|---|"]
    for name, doc in TYPE_DOCS.items():
        operators = ", ".join(f"`{op}`" for op in TYPE_OPERATORS[name])
        rows.append(f"| {name} | {doc} | {operators} |")
    return rows


def _example_rows(catalog: Catalog) -> list[str]:
    rows = ["| rule | canonical form | in English |", "|---|---|---|"]
    for text in EXAMPLES:
        rule = parse_rule(text)
        compile_rule(rule, catalog)  # every example must be valid
        canonical = print_rule(rule)
        english = describe_rule(rule, catalog)
        rows.append(f"| `{_cell(text)}` | `{_cell(canonical)}` | {_cell(english)} |")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _error_blocks(catalog: Catalog) -> list[str]:
    lines: list[str] = []
    for text in BAD_EXAMPLES:
        try:
            compile_rule(parse_rule(text), catalog)
        except InvalidRule as exc:
            shown = exc.with_text(text).message
            lines.extend(["```", f"$ bookwise rules check '{text}'", f"error: {shown}", "```"])
        else:  # pragma: no cover - the page generator itself fails loudly
            raise AssertionError(f"{text!r} should be an invalid rule")
    return lines


def render_rule_reference() -> str:
    """The whole of docs/rule-language.md."""
    catalog = example_catalog()
    grammar = files("bookwise.rules").joinpath("grammar.lark").read_text(encoding="utf-8")
    json_example = json.dumps(
        ast.rule_to_json(parse_rule("tier = 1 and health_score < 50")), indent=2
    )
    parts = [
        INTRO,
        "## Examples",
        "",
        "Each of these is checked when this page is generated: it parses, type-checks and",
        "compiles, and its canonical form and English are what `bookwise rules check` prints.",
        "",
        *_example_rows(catalog),
        "",
        FIELDS_INTRO,
        *_field_rows(STANDARD_FIELDS),
        "",
        DERIVED_INTRO,
        *_field_rows(DERIVED_FIELDS),
        "",
        RELATIONS,
        "## Operators",
        "",
        "`is` is a synonym of `=` and `is not` of `!=` (`csm is michael@example.com`); `<>` and",
        "`==` are accepted too. Keywords and the names of standard fields are case-insensitive",
        "(`TIER = 1 AND Health_Score < 50`); custom attribute names keep their case.",
        "",
        *_operator_rows(),
        "",
        "## Types",
        "",
        *_type_rows(),
        "",
        NULLS,
        VALUES,
        "## Errors",
        "",
        "A rule that cannot be read or does not type-check is refused before anything runs. The",
        "message says why, where (column, and a caret under the offending text), and suggests",
        "the near miss when there is one:",
        "",
        *_error_blocks(catalog),
        "",
        RECIPES,
        "## The JSON form",
        "",
        "The API and the UI's rule builder exchange rules as a typed JSON tree (a discriminated",
        "union on `kind`: `and`, `or`, `not`, `condition`, `segment`, `any_child`; values are",
        "tagged by `type`: `string`, `number` (a decimal string), `boolean`, `date`,",
        "`relative_date`). `tier = 1 and health_score < 50` is:",
        "",
        "```json",
        json_example,
        "```",
        "",
        "Any tree prints back to canonical text, and that text parses to the same tree (a",
        "property test checks this over random trees).",
        "",
        COST,
        LIMITS,
        "## Grammar",
        "",
        "The grammar bookwise parses with ([Lark](https://github.com/lark-parser/lark), LALR),",
        "verbatim from `src/bookwise/rules/grammar.lark`:",
        "",
        "```",
        grammar.rstrip(),
        "```",
        "",
        f"This page is generated: `{REGENERATE}`.",
        "",
    ]
    return "\n".join(parts)


INTRO = """\
# The rule language

A rule picks accounts by their attributes, their place in the hierarchy and their owners:

```
tier = 1 and health_score < 50
is_child and parent in segment "Michael's parent companies"
```

Rules are used everywhere a selection is made: `--where RULE` on `accounts list`, `assign`,
`unassign`, `transfer`, `accounts set-policy` and `export accounts` (the assignment screen's
"advanced filter" is `accounts list --not-assigned-to X --where RULE`), and saved as segments
(`bookwise segments create NAME --rule RULE`, then `--segment NAME`).
`bookwise rules check RULE` validates a rule, prints it in canonical form and in English, and
counts the accounts it matches now; `bookwise rules fields` lists every field this
installation knows, its custom attributes and roles included.

A rule is conditions joined by `and`, `or` and `not`, grouped with parentheses. `not` binds
tightest, then `and`, then `or`: `a or b and not c` is `a or (b and (not c))`. `#` starts a
comment that runs to the end of the line.
"""

FIELDS_INTRO = """\
## Fields

Every standard field of an account:
"""

DERIVED_INTRO = """\
Derived from the hierarchy and from ownership:
"""

RELATIONS = """\
Beyond single fields:

| form | matches |
|---|---|
| `custom.<name> <op> <value>` | a declared custom attribute, typed as declared |
| `<role> <op> <user>` | owners in an extra role, named by the role: `account_manager is empty` |
| `parent.<field> <op> <value>` | has a parent, and the parent satisfies the condition |
| `in segment "S"` | the accounts in saved segment S right now |
| `parent in segment "S"` | the parent is in S (also Custify's `parent company is in segment S`) |
| `ancestor in segment "S"` | accounts with a parent, grandparent, … in S |
| `any child (<rule>)` | accounts with at least one direct child that matches the inner rule |
| `<boolean field>` alone | the field is true: `is_parent` is `is_parent = true` |

`parent.` repeats (`parent.parent.tier = 1`) and takes any field, owners included
(`parent.csm = X`). Custom attributes have the types they were declared with (text, number,
money, date, boolean, choice).

Segment names are matched without regard to case, spacing, or typographic apostrophes, so a
recipe pasted from a web page (`“michael’s parent companies”`) finds `Michael's parent
companies`. Texts may be quoted with `"…"`, `'…'`, `“…”` or `‘…’`; a single bare word or an
email needs no quotes (`csm is michael@example.com`, `region = EMEA`).

"""

NULLS = """\
## Empty values and `not`

An account may have no value for a field (no health score, no renewal date, no CSM). Every
operator's treatment of an empty value is in the operators table above; in short:

- comparisons (`=`, `<`, `<=`, `>`, `>=`, `in`, `between`, `contains`, `starts with`) never
  match an empty value: an account with no health score is neither below nor above 50;
- `!=` and `not in` are exactly the complements of `=` and `in`, so they **do** match empty
  values: `health_score != 50` matches an account without a health score, because that
  account's health score is not 50. This makes `x != v` and `not (x = v)` the same rule,
  which is what a person reading either expects;
- `not R` is always the exact complement of `R`: every account is matched by exactly one of
  `R` and `not R`. (Plain SQL gets this wrong: `NOT (health_score < 50)` drops accounts with
  no health score. bookwise pushes `not` down to the conditions and gives each its exact
  complement, NULLs included.);
- `parent.<field> <op> <value>` needs a parent: a top-level account matches neither
  `parent.tier = 1` nor `parent.tier != 1`, but it matches `not parent.tier = 1`;
- an owner field is empty when no active user owns the account in that role
  (`csm is empty`); an account whose only CSM was deactivated with `--keep` is empty here too,
  as it is under "no-one" on the assignment screen.

These rules are tested per operator on SQLite and PostgreSQL, and a property test compares
the SQL's answer with a small reference model over random rules, random accounts (NULLs and
hierarchies included) on both databases.

"""

VALUES = """\
## Text, money and dates

- **Text** is compared without regard to case: `region = emea` matches `EMEA`, and
  `name contains "bank"` matches `Deutsche Bank AG`. Names use their casefolded shadow column;
  other text is lower-cased the same Unicode-aware way on both databases (PostgreSQL's
  `lower()`, and on SQLite the same function registered on every connection, since SQLite's
  own `lower()` folds ASCII only). `external_id` is the exception: CRM ids are compared
  exactly, because Salesforce's 15-character ids differ only by case. Text has no `<`/`>`:
  ordering text depends on collations that differ between databases.
- **Choice** fields (`lifecycle_stage`, choice custom attributes) are compared without regard
  to case; a custom choice value that is not one of the declared choices is an error, with
  the near miss suggested.
- **Money** is written in currency units, whatever the storage: `mrr > 5000` is more than
  5,000.00 a month. More decimals than the currency has (`mrr > 10.001` in USD) is an error.
- **Dates** are `YYYY-MM-DD`, `today`, or `today ± N days|months`, computed in the
  installation's time zone when the rule runs; a month step clamps to the month's end
  (`today + 1 months` on 31 January is 28 or 29 February). `created_at` is a moment, compared
  by its calendar day in the installation's time zone: `created_at = 2026-03-31` is any time on
  that day.

"""

RECIPES = """\
## Worked examples

**Custify's recipe, literally.** Custify users give children their parent's CSM with one
segment of parents and one of children per CSM. Both segments work as written:

```
bookwise segments create "Michael's parent companies" \\
    --rule 'csm is "michael@example.com" and company level is 1'
bookwise segments create "Michael's children companies" \\
    --rule 'company level is 0 and parent company is in segment “michael’s parent companies”'
bookwise assign --segment "Michael's children companies" --to michael@example.com --dry-run
```

The second segment has exactly the members of `is_child and parent.csm =
"michael@example.com"`, which needs no segment at all. Better still, bookwise does not need
the per-CSM segments: `bookwise inherit --default inherit` makes every child follow its
parent's CSMs (see [concepts](concepts.md#inheritance)).

**Natero's advanced filter.** "Accounts NOT assigned to rep" with a rule, then assign them:

```
bookwise accounts list --not-assigned-to ana@example.com --where 'tier = 1 and health_score < 50'
bookwise assign --where 'lifecycle_stage = "onboarding" and mrr > 5000' --to ana@example.com
```

**Renewals coming up outside EMEA and APAC:**

```
bookwise accounts list --where 'not (region in ("EMEA", "APAC")) or renewal_date < today + 60 days'
```

**Accounts of a strategic group's subsidiaries with middling health:**

```
bookwise segments create Strategic --rule 'tier = 1 and mrr > 20000'
bookwise accounts list --where 'ancestor in segment "Strategic" and health_score between 40 and 60'
```

## Segments

A segment is a saved, named rule. Its members are always current: `segments members NAME`
and `--segment NAME` evaluate the rule when they run. Segments may use other segments; a
cycle is refused when the segment is saved. A segment another segment uses cannot be deleted
(the error names the segments that use it), and renaming a segment rewrites the rules that
refer to it. Renaming a custom attribute (`bookwise attributes rename OLD NEW`) rewrites the
segment rules that use it, so no saved rule breaks.

`bookwise segments refresh` also keeps a materialised membership: for each segment, one
statement closes the stay of every account that left (its `left_at`) and one opens a stay for
every account that entered (its `entered_at`). This history is what "account enters segment"
playbook triggers read. `segments list` shows the members as of the last refresh;
`segments show` shows both that and the live count.

"""

COST = """\
## What a rule costs

A rule is one SQL statement, however many conditions and segment references it has: segment
references are compiled inline, `parent.` and `any child` become `IN` subqueries, and
`ancestor in segment` a recursive common table expression inside the same statement. Nothing
is evaluated per account in Python. Statement-count tests check this at 10 and at 1,000
accounts.

"""


if __name__ == "__main__":
    print(render_rule_reference(), end="")
