"""Demo names: unique company names, ASCII slugs, distinct people."""

from __future__ import annotations

import random

from bookwise.demo.names import (
    COUNTRIES,
    FIRST_WORDS,
    INDUSTRIES,
    SECOND_WORDS,
    UNITS,
    CompanyNamer,
    ascii_slug,
    person_names,
)
from bookwise.demo.shape import MAX_CHILDREN, MAX_GRANDCHILDREN


def test_word_lists_have_no_duplicates_and_room_for_a_family() -> None:
    for words in (FIRST_WORDS, SECOND_WORDS, INDUSTRIES, COUNTRIES, UNITS):
        assert len(set(words)) == len(words)
    assert not set(FIRST_WORDS) & set(SECOND_WORDS)
    assert len(COUNTRIES) >= MAX_CHILDREN
    assert len(UNITS) >= MAX_GRANDCHILDREN


def test_company_names_do_not_repeat() -> None:
    namer = CompanyNamer(42)
    rng = random.Random(0)
    names = [namer.base(i, rng.random() < 0.5)[0] for i in range(200_000)]
    assert len(set(names)) == len(names)
    assert namer.size > 600_000  # room for the top-level accounts of a 1M book


def test_company_names_past_the_grid_get_a_number() -> None:
    namer = CompanyNamer(1)
    name, slug = namer.base(namer.size + 5, compound=False)
    assert name.endswith(" 2")
    assert slug.endswith("2")
    assert name != namer.base(5, compound=False)[0]


def test_seeds_give_different_names() -> None:
    assert CompanyNamer(1).base(0, True) != CompanyNamer(2).base(0, True)
    assert CompanyNamer(1).base(10, True) == CompanyNamer(1).base(10, True)


def test_ascii_slug() -> None:
    assert ascii_slug("Fjällbrook Data") == "fjallbrookdata"
    assert ascii_slug("Sofia Fernández", "-") == "sofia-fernandez"
    assert ascii_slug("Øster Søn", ".") == "oster.son"
    assert ascii_slug("Field Operations", "-") == "field-operations"


def test_people_are_distinct_with_ascii_emails() -> None:
    team = person_names(random.Random(3), 12)
    assert len({name.split()[0] for name, _ in team}) == 12
    big = person_names(random.Random(3), 200)
    emails = [email for _, email in big]
    assert len(set(emails)) == 200
    assert all(email.isascii() and email.endswith("@example.com") for email in emails)
