"""bookwise.listing: the shared sort / window / page helper every listing uses."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.errors import InvalidInput
from bookwise.listing import Page, Sorting, check_window, fetch_page
from bookwise.models import Account
from tests.factories import make_account
from tests.helpers import count_statements

SORTING = Sorting(
    columns={"name": Account.name_fold, "mrr": Account.mrr, "id": Account.id},
    default="name",
    tiebreak=Account.id,
)


def _names(page: Page[str]) -> list[str]:
    return list(page.items)


def _listing(session: Session, **options: object) -> Page[str]:
    return fetch_page(
        session,
        select(Account.name).where(Account.external_id.like("L%")),
        sorting=SORTING,
        convert=lambda row: str(row[0]),
        **options,  # type: ignore[arg-type]
    )


def test_sort_text_default_tiebreak_and_empty_values_last(session: Session) -> None:
    for ref, name, mrr in [("L1", "b", "5"), ("L2", "a", None), ("L3", "c", "5"), ("L4", "d", "1")]:
        make_account(session, name, external_id=ref, mrr=mrr)
    assert _names(_listing(session)) == ["a", "b", "c", "d"]  # the default: name
    assert _names(_listing(session, sort="mrr")) == ["d", "b", "c", "a"]  # ties by id
    assert _names(_listing(session, sort="-mrr")) == ["c", "b", "d", "a"]  # empty last both ways
    with pytest.raises(InvalidInput, match="cannot sort by 'colour'; sortable: name, mrr, id"):
        _listing(session, sort="colour")


def test_the_window_is_sql_and_the_total_one_count(session: Session) -> None:
    for n in range(7):
        make_account(session, f"n{n}", external_id=f"L{n}")
    session.flush()
    with count_statements(session.get_bind()) as log:
        page = _listing(session, limit=3, offset=2)
    assert (_names(page), page.total, page.limit, page.offset) == (["n2", "n3", "n4"], 7, 3, 2)
    assert log.count == 2
    assert "LIMIT" in log.statements[0]
    assert _listing(session, total=99).total == 99
    assert _listing(session, total=lambda: 42).total == 42
    assert _listing(session, counted=False).total is None


@pytest.mark.parametrize(
    ("limit", "offset", "message"),
    [(0, 0, "limit must be between 1 and 1000"), (1001, 0, "between"), (1, -1, "negative")],
)
def test_the_window_is_checked(limit: int, offset: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_window(limit, offset)


def test_a_default_outside_the_columns_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="default sort"):
        Sorting(columns={"id": Account.id}, default="name", tiebreak=Account.id)
