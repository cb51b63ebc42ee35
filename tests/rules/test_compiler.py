"""The rule compiler: units, case, dates, and the errors a person sees for a wrong rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.config import get_settings
from bookwise.dates import today
from bookwise.errors import InvalidRule
from bookwise.models import Account, Assignment
from bookwise.rules.compiler import compile_rule, shift
from bookwise.rules.parser import parse_rule
from bookwise.rules.registry import Catalog
from bookwise.segments.rules import compile_where
from bookwise.segments.service import create_segment
from tests.factories import actor, make_account, make_user


def refs(session: Session, rule: str) -> set[str | None]:
    """External ids of the accounts the rule selects."""
    where = compile_where(session, rule).where
    return set(session.scalars(select(Account.external_id).where(where)))


def error(session: Session, rule: str) -> InvalidRule:
    with pytest.raises(InvalidRule) as caught:
        compile_where(session, rule)
    return caught.value


def at(rule: str, part: str) -> tuple[int, int]:
    """The span of ``part`` in ``rule``."""
    start = rule.index(part)
    return start, start + len(part)


# --- money -----------------------------------------------------------------------------------


def test_money_in_rules_is_in_currency_units(session: Session) -> None:
    make_account(session, external_id="fifty", mrr="50.00")  # 5000 minor units
    make_account(session, external_id="five-k", mrr="5000")  # 500000 minor units
    make_account(session, external_id="cents", mrr="4999.99")

    assert refs(session, "mrr > 5000") == set()
    assert refs(session, "mrr >= 5000") == {"five-k"}
    assert refs(session, "mrr = 50") == {"fifty"}
    assert refs(session, "mrr > 50") == {"five-k", "cents"}
    assert refs(session, "mrr between 4999.99 and 5000") == {"five-k", "cents"}
    assert refs(session, 'mrr > "1,000"') == {"five-k", "cents"}
    assert refs(session, "mrr in (50, 4999.99)") == {"fifty", "cents"}


def test_money_with_more_decimals_than_the_currency_is_an_error(session: Session) -> None:
    rule = "mrr > 10.005"
    problem = error(session, rule)
    assert "more than 2 decimals" in problem.reason
    assert "Decimal(" not in problem.reason
    assert problem.span == at(rule, "10.005")


def test_a_decimal_comma_in_money_is_refused_not_read_as_thousands(session: Session) -> None:
    rule = 'mrr > "1797,19"'
    problem = error(session, rule)
    assert "',' only between thousands" in problem.reason
    assert problem.span == at(rule, '"1797,19"')


def test_text_where_money_is_expected_points_at_the_value(session: Session) -> None:
    rule = 'mrr > "abc"'
    problem = error(session, rule)
    assert problem.reason == 'mrr is an amount of money, not "abc"'
    assert problem.span == at(rule, '"abc"')
    assert "^^^^^" in problem.caret()


# --- numbers beyond what a column holds --------------------------------------------------------


def test_numbers_beyond_the_column_range_compare_instead_of_crashing(session: Session) -> None:
    make_account(session, external_id="scored", health_score=50, mrr="10")
    make_account(session, external_id="blank")
    huge = "99999999999999999999"

    assert refs(session, "health_score < 3000000000") == {"scored"}
    assert refs(session, f"health_score > -{huge}") == {"scored"}
    assert refs(session, f"health_score = {huge}") == set()
    assert refs(session, f"health_score != {huge}") == {"scored", "blank"}
    assert refs(session, f"mrr < {huge}") == {"scored"}
    assert refs(session, f"not mrr < {huge}") == {"blank"}
    assert refs(session, f"csm count < {huge}") == {"scored", "blank"}
    assert refs(session, f"health_score in (50, {huge})") == {"scored"}


def test_fractions_on_whole_number_fields_are_exact(session: Session) -> None:
    make_account(session, external_id="h49", health_score=49)
    make_account(session, external_id="h50", health_score=50)

    # PostgreSQL casts list parameters to the column type: 49.5 must not become 50.
    assert refs(session, "health_score in (49.5, 7)") == set()
    assert refs(session, "health_score not in (49.5)") == {"h49", "h50"}
    assert refs(session, "health_score = 49.5") == set()
    assert refs(session, "health_score < 49.5") == {"h49"}
    assert refs(session, "health_score >= 49.5") == {"h50"}
    # 49.99999999999999999999 is 50.0 as a float: compared exactly, 50 is not at most that
    assert refs(session, "health_score <= 49.99999999999999999999") == {"h49"}
    assert refs(session, "csm count between 0.5 and 1.5") == set()
    assert refs(session, "csm count between -0.5 and 0.5") == {"h49", "h50"}


# --- text ------------------------------------------------------------------------------------


def test_lifecycle_stage_and_region_ignore_case(session: Session) -> None:
    make_account(session, external_id="a", lifecycle_stage="Adoption", region="Emea")
    make_account(session, external_id="b", lifecycle_stage="RENEWAL", region="Äsia")
    make_account(session, external_id="c")

    assert refs(session, 'lifecycle_stage = "ADOPTION"') == {"a"}
    assert refs(session, "lifecycle_stage in (adoption, Renewal)") == {"a", "b"}
    assert refs(session, 'lifecycle_stage != "adoption"') == {"b", "c"}
    assert refs(session, 'region = "EMEA"') == {"a"}
    assert refs(session, 'region = "äSIA"') == {"b"}
    assert refs(session, 'region contains "SI"') == {"b"}
    assert refs(session, 'region starts with "ä"') == {"b"}


def test_text_always_matches_itself_whatever_the_letters(session: Session) -> None:
    # Python's lower() and PostgreSQL's differ for a final sigma and a dotted capital I: the
    # rule's value is folded by the same SQL function as the column, so equal text is equal.
    for word in ("ΟΔΟΣ", "İSTANBUL"):
        make_account(session, external_id=word, region=word, domain=word)
        assert refs(session, f'region = "{word}"') == {word}
        assert refs(session, f'region in ("{word}", "x")') == {word}
        assert refs(session, f'domain contains "{word}"') == {word}
        assert refs(session, f'domain starts with "{word}"') == {word}


def test_external_id_is_compared_exactly_also_by_contains(session: Session) -> None:
    # SQLite's LIKE ignores ASCII case; an exact field must not go through it.
    make_account(session, external_id="AB-1")
    make_account(session, external_id="ab-2")

    assert refs(session, 'external_id = "ab-1"') == set()
    assert refs(session, 'external_id contains "ab"') == {"ab-2"}
    assert refs(session, 'external_id starts with "AB"') == {"AB-1"}
    assert refs(session, 'not external_id starts with "AB"') == {"ab-2"}
    assert refs(session, 'external_id contains "-"') == {"AB-1", "ab-2"}


def test_like_wildcards_in_a_value_are_plain_characters(session: Session) -> None:
    make_account(session, external_id="pct", name="100% Zeta_co")
    make_account(session, external_id="plain", name="1000 Zetaxco")

    assert refs(session, 'name contains "0%"') == {"pct"}
    assert refs(session, 'name contains "a_c"') == {"pct"}
    assert refs(session, 'name starts with "100%"') == {"pct"}


# --- names a rule refers to ---------------------------------------------------------------------


def test_an_unknown_field_suggests_the_nearest(session: Session) -> None:
    rule = "helth_score > 5"
    problem = error(session, rule)
    assert problem.reason == "unknown field 'helth_score'; did you mean 'health_score'?"
    assert problem.span == at(rule, "helth_score")


def test_an_operator_that_does_not_apply_to_the_type_is_an_error(session: Session) -> None:
    rule = 'region > "a"'
    problem = error(session, rule)
    assert problem.reason.startswith("'>' does not apply to region (text); use one of =, !=")
    assert "contains" in problem.reason

    assert "does not apply to name" in error(session, "name is empty").reason
    assert "does not apply to created_at" in error(session, "created_at is empty").reason


def test_an_unknown_csm_is_an_error(session: Session) -> None:
    rule = "csm = nobody@example.com"
    problem = error(session, rule)
    assert problem.reason == "no user with email or name 'nobody@example.com'"
    assert problem.span == at(rule, "nobody@example.com")


def test_an_ambiguous_full_name_lists_every_candidate(session: Session) -> None:
    make_user(session, "sam.lee@example.com", name="Sam Lee")
    make_user(session, "slee@example.com", name="Sam Lee")

    problem = error(session, 'csm = "Sam Lee"')

    assert "sam.lee@example.com" in problem.reason
    assert "slee@example.com" in problem.reason
    assert "use an email" in problem.reason


def test_a_unique_full_name_resolves_to_the_user(session: Session) -> None:
    kim = make_user(session, "kim@example.com", name="Kim Park")
    make_user(session, "other@example.com", name="Kim Parker")
    make_account(session, external_id="K")
    make_account(session, external_id="N")
    assign_accounts(session, selection=AccountRefs(["K"]), csms=[kim], actor=actor(session))

    assert refs(session, 'csm = "Kim Park"') == {"K"}
    assert refs(session, 'csm is "kim  park"') == {"K"}
    assert refs(session, 'csm != "Kim Park"') == {"N"}


def test_one_user_named_by_email_and_by_full_name_in_one_rule(session: Session) -> None:
    kim = make_user(session, "kim@example.com", name="Kim Park")
    make_account(session, external_id="K")
    make_account(session, external_id="N")
    assign_accounts(session, selection=AccountRefs(["K"]), csms=[kim], actor=actor(session))

    assert refs(session, 'csm = kim@example.com and csm = "Kim Park"') == {"K"}


def test_an_unknown_segment_suggests_the_nearest(session: Session) -> None:
    create_segment(session, name="Enterprise EMEA", rule="tier = 1", actor=actor(session))
    rule = 'in segment "Enterprise EMAE"'

    problem = error(session, rule)

    assert problem.reason == ("no segment named 'Enterprise EMAE'; did you mean 'Enterprise EMEA'?")
    assert problem.span == (0, len(rule))


# --- hierarchy --------------------------------------------------------------------------------


def test_company_level_other_than_0_or_1_points_to_depth(session: Session) -> None:
    rule = "company level is 2"
    problem = error(session, rule)
    assert "use depth" in problem.reason
    assert problem.span == at(rule, "2")


def test_company_level_is_is_parent_and_is_child(session: Session) -> None:
    top = make_account(session, external_id="top")
    middle = make_account(session, external_id="middle", parent=top)
    make_account(session, external_id="bottom", parent=middle)
    make_account(session, external_id="alone")

    assert refs(session, "company level is 1") == {"top", "middle"}
    assert refs(session, "company level is 0") == {"middle", "bottom"}
    assert refs(session, "company level != 1") == {"bottom", "alone"}
    assert refs(session, "depth = 2") == {"bottom"}


# --- dates ------------------------------------------------------------------------------------


def test_today_plus_days_is_relative_to_the_installation_today(session: Session) -> None:
    now = today()
    make_account(session, external_id="in60", renewal_date=now + timedelta(days=60))
    make_account(session, external_id="in61", renewal_date=now + timedelta(days=61))
    make_account(session, external_id="past", renewal_date=now - timedelta(days=1))

    assert refs(session, "renewal_date <= today + 60 days") == {"in60", "past"}
    assert refs(session, "renewal_date between today and today + 60 days") == {"in60"}
    assert refs(session, "renewal_date < today") == {"past"}


def test_a_catalog_today_fixes_what_today_means(session: Session) -> None:
    make_account(session, external_id="feb28", renewal_date=date(2026, 2, 28))
    make_account(session, external_id="mar1", renewal_date=date(2026, 3, 1))
    catalog = Catalog(today=date(2026, 1, 31))

    where = compile_rule(parse_rule("renewal_date <= today + 1 month"), catalog)

    assert set(session.scalars(select(Account.external_id).where(where))) == {"feb28"}


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2026, 1, 15), -13, date(2024, 12, 15)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
    ],
)
def test_months_clamp_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    assert shift(day, months, "months") == expected


def test_a_date_beyond_the_calendar_is_an_error_not_a_crash(session: Session) -> None:
    rule = "renewal_date > today + 100000 months"
    problem = error(session, rule)
    assert "outside the calendar" in problem.reason
    assert problem.span == at(rule, "today + 100000 months")


def test_created_at_is_compared_by_calendar_day(session: Session) -> None:
    zone = get_settings().zone
    now = today()
    moments = {
        "late-yesterday": datetime.combine(now - timedelta(days=1), time(23, 59, 59), zone),
        "midnight": datetime.combine(now, time(0), zone),
        "late-today": datetime.combine(now, time(23, 59, 59, 999_999), zone),
    }
    for ref, moment in moments.items():
        make_account(session, external_id=ref).created_at = moment.astimezone(UTC)
    session.flush()

    assert refs(session, "created_at = today") == {"midnight", "late-today"}
    assert refs(session, "created_at != today") == {"late-yesterday"}
    assert refs(session, "created_at < today") == {"late-yesterday"}
    assert refs(session, "created_at <= today - 1 days") == {"late-yesterday"}
    assert refs(session, "created_at > today - 1 days") == {"midnight", "late-today"}
    assert refs(session, "created_at >= today") == {"midnight", "late-today"}
    assert refs(session, "created_at between today - 1 days and today - 1 days") == {
        "late-yesterday"
    }
    # the first and the last day of the calendar have no day before or after them
    assert refs(session, "created_at < 0001-01-01") == set()
    assert refs(session, "created_at <= 9999-12-31") == set(moments)
    assert refs(session, "created_at != 9999-12-31") == set(moments)


# --- the condition inside a bigger statement ---------------------------------------------------


def test_owner_conditions_stay_correct_in_a_statement_that_joins_assignments(
    session: Session,
) -> None:
    me = actor(session)
    x, y = make_user(session, "x@example.com"), make_user(session, "y@example.com")
    make_account(session, external_id="both")
    make_account(session, external_id="x-only")
    assign_accounts(session, selection=AccountRefs(["both"]), csms=[x, y], actor=me)
    assign_accounts(session, selection=AccountRefs(["x-only"]), csms=[x], actor=me)

    def joined(rule: str) -> set[str | None]:
        where = compile_where(session, rule).where
        query = (
            select(Account.external_id)
            .join(Assignment, Assignment.account_id == Account.id)
            .where(where)
        )
        return set(session.scalars(query))

    assert joined("csm count = 2") == {"both"}
    assert joined("csm != x@example.com") == set()
    assert joined("csm = y@example.com") == {"both"}
    assert joined("csm is empty") == set()
