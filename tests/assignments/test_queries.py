"""The assignment screen: CSM overview and the assigned / not-assigned listings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.assignments.filters import OwnershipFilter
from bookwise.assignments.listing import (
    _ROW_COLUMNS,
    ACCOUNT_SORTING,
    SORT_COLUMNS,
    count_accounts,
    list_accounts,
)
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.overview import book_totals, csm_overview, not_assigned_total
from bookwise.assignments.roles import add_role
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.errors import InvalidInput, Refused
from bookwise.listing import fenced
from tests.factories import actor, make_account, make_user
from tests.helpers import count_statements, open_csms


def setup_book(session: Session):  # type: ignore[no-untyped-def]
    """x owns A and B (B shared with y), y owns C, nobody owns D and E."""
    me = actor(session)
    x = make_user(session, "x@example.com", name="Xavier")
    y = make_user(session, "y@example.com", name="Yasmin")
    make_user(session, "noseat@example.com", seat=False)
    make_user(session, "gone@example.com", active=False)
    accounts = {
        ref: make_account(session, f"Account {ref}", external_id=ref, mrr=mrr)
        for ref, mrr in (("A", "100.50"), ("B", "1000"), ("C", "7"), ("D", None), ("E", "1"))
    }
    assign_accounts(session, selection=AccountRefs(["A", "B"]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs(["B", "C"]), csms=[y], actor=me)
    return me, x, y, accounts


def refs(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [item.external_id for item in page.items]


def test_overview_gives_each_co_owner_full_credit_and_counts_the_team_once(
    session: Session,
) -> None:
    setup_book(session)
    overview = csm_overview(session)
    assert [(r.email, r.accounts, r.mrr) for r in overview.items] == [
        ("x@example.com", 2, Decimal("1100.50")),
        ("y@example.com", 2, Decimal("1007.00")),
    ]
    assert overview.team_accounts == 3
    assert overview.team_mrr == Decimal("1107.50")
    assert overview.unassigned_accounts == 2
    assert overview.model_dump(mode="json")["items"][0]["mrr"] == "1100.50"


def test_the_three_who_partitions_for_a_csm(session: Session) -> None:
    _, x, y, _ = setup_book(session)

    def listing(**kwargs: object) -> list[str]:
        page = list_accounts(session, where=OwnershipFilter(**kwargs).conditions(), sort="name")  # type: ignore[arg-type]
        return refs(page)

    assert listing(assigned_to=x) == ["A", "B"]
    assert listing(not_assigned_to=x, who="no-one") == ["D", "E"]
    assert listing(not_assigned_to=x, who="others") == ["C"]  # B is co-owned: assigned to x
    assert listing(not_assigned_to=x, who="all") == ["C", "D", "E"]
    assert listing(not_assigned_to=y, who="others") == ["A"]
    assert listing(unassigned=True) == ["D", "E"]


def test_accounts_kept_by_a_deactivated_csm_show_under_no_one_flagged(session: Session) -> None:
    me, x, y, _ = setup_book(session)
    with pytest.raises(Refused, match="--transfer-to"):
        deactivate_user(session, user=x, actor=me)
    deactivate_user(session, user=x, actor=me, keep=True)
    page = list_accounts(
        session, where=OwnershipFilter(not_assigned_to=y, who="no-one").conditions()
    )
    assert refs(page) == ["A", "D", "E"]
    assert [i.owner_inactive for i in page.items] == [True, False, False]
    assert [r.email for r in csm_overview(session).items] == ["y@example.com"]


def test_deactivating_with_transfer_moves_the_book(session: Session) -> None:
    me, x, y, accounts = setup_book(session)
    result = deactivate_user(session, user=x, actor=me, transfer_to=y)
    assert result is not None
    assert result.kind == "deactivate"
    assert open_csms(session, accounts["A"]) == {y.email}
    assert open_csms(session, accounts["B"]) == {y.email}
    assert not x.active


def test_sorting_paging_and_totals(session: Session) -> None:
    setup_book(session)
    page = list_accounts(session, where=[], sort="-mrr", limit=2, offset=0)
    assert refs(page) == ["B", "A"]
    assert page.total == 5
    page = list_accounts(session, where=[], sort="-mrr", limit=3, offset=2)
    assert refs(page) == ["C", "E", "D"]  # no MRR sorts last, both directions
    assert refs(list_accounts(session, where=[], sort="mrr"))[-1] == "D"
    assert page.items[0].csms == ["y@example.com"]
    assert page.model_dump(mode="json")["items"][0]["mrr"] == "7.00"


@pytest.mark.parametrize("sort", [f"{d}{key}" for key in SORT_COLUMNS for d in ("", "-")])
def test_a_fenced_page_sorts_the_same_way(session: Session, sort: str) -> None:
    """The fenced form (a subquery the planner may not flatten) gives the same rows in the
    same order, empty values last both ways, ties by id, at every offset."""
    setup_book(session)
    for i in range(6):  # ties on every column but id and names
        make_account(session, f"Account T{i % 2}", external_id=f"T{i}", mrr="7", tier=1)
    sqlite = session.get_bind().dialect.name == "sqlite"
    for offset in range(0, 12, 3):
        query = select(*_ROW_COLUMNS)
        shapes = (
            query.order_by(*ACCOUNT_SORTING.order_by(sort, sqlite=sqlite)),
            fenced(query, sorting=ACCOUNT_SORTING, sort=sort, sqlite=sqlite),
        )
        plain, fenced_rows = (
            session.execute(shape.limit(3).offset(offset)).scalars().all() for shape in shapes
        )
        assert fenced_rows == plain
        assert len(plain) == min(3, 11 - offset)


def test_a_page_of_one_book_is_fenced_on_postgresql_only(session: Session) -> None:
    _, x, _, _ = setup_book(session)
    where = OwnershipFilter(assigned_to=x).conditions()
    with count_statements(session.get_bind()) as log:
        page = list_accounts(session, where=where, expected=2)
    assert refs(page) == ["A", "B"]
    fenced = log.statements[0].count("OFFSET") == 2
    assert fenced == (session.get_bind().dialect.name == "postgresql")


def test_count_matches_the_listing(session: Session) -> None:
    _, x, _, _ = setup_book(session)
    where = OwnershipFilter(not_assigned_to=x, who="all").conditions()
    assert count_accounts(session, where=where) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sort": "colour"}, "cannot sort by 'colour'"),
        ({"limit": 0}, "limit must be between"),
        ({"offset": -1}, "offset must not be negative"),
    ],
)
def test_bad_listing_parameters_say_what_is_wrong(
    session: Session, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        list_accounts(session, where=[], **kwargs)  # type: ignore[arg-type]


def test_book_totals_count_and_mrr_with_full_credit_for_co_owners(session: Session) -> None:
    _, x, y, _ = setup_book(session)
    assert book_totals(session, user_id=x.id) == (2, Decimal("1100.50"))
    assert book_totals(session, user_id=y.id) == (2, Decimal("1007.00"))
    nobody = make_user(session, "z@example.com")
    assert book_totals(session, user_id=nobody.id) == (0, Decimal("0.00"))


def test_not_assigned_totals_equal_the_counts_of_the_lists(session: Session) -> None:
    _, x, y, _ = setup_book(session)
    gone = make_user(session, "left@example.com")
    assign_accounts(session, selection=AccountRefs(["C", "E"]), csms=[gone], actor=actor(session))
    deactivate_user(session, user=gone, actor=actor(session), keep=True)
    overview = csm_overview(session)
    for user in (x, y, gone):
        book = count_accounts(session, where=OwnershipFilter(assigned_to=user).conditions())
        for who in ("no-one", "others", "all"):
            listed = OwnershipFilter(not_assigned_to=user, who=who).conditions()  # type: ignore[arg-type]
            derived = not_assigned_total(overview, user=user, who=who, book=book)  # type: ignore[arg-type]
            if derived is not None:
                assert derived == count_accounts(session, where=listed), (user.email, who)
            else:
                assert not user.active
                assert who != "no-one"


def test_counted_totals_equal_the_counts_of_the_lists(session: Session) -> None:
    # The API and the web pages take these totals from the counters instead of counting:
    # each one must be the number the listing itself would count, or None (then it counts).
    _, x, y, _ = setup_book(session)
    gone = make_user(session, "left-team@example.com")
    assign_accounts(session, selection=AccountRefs(["C", "E"]), csms=[gone], actor=actor(session))
    deactivate_user(session, user=gone, actor=actor(session), keep=True)
    shapes = [OwnershipFilter(unassigned=True)]
    for user in (x, y, gone):
        shapes.append(OwnershipFilter(assigned_to=user))
        shapes.append(OwnershipFilter(assigned_to=user, unassigned=True))
        for who in ("no-one", "others", "all"):
            shapes.append(OwnershipFilter(not_assigned_to=user, who=who))  # type: ignore[arg-type]
            shapes.append(OwnershipFilter(not_assigned_to=user, who=who, unassigned=True))  # type: ignore[arg-type]
    answered = 0
    for shape in shapes:
        counted = shape.counted_total(session)
        if counted is not None:
            answered += 1
            assert counted == count_accounts(session, where=shape.conditions()), shape.describe()
    assert answered >= 12  # the counters answer most shapes; the rest are counted


def test_a_listing_in_another_role_shows_and_flags_the_owners_in_that_role(
    session: Session,
) -> None:
    """Issue 13, defect 3: the owners listed (and ``owner_inactive``) are those of the role
    the listing is about, not the CSMs."""
    me, x, _y, _ = setup_book(session)
    add_role(session, name="account_manager", actor=me)
    am = make_user(session, "am@example.com")
    gone = make_user(session, "gone-am@example.com")
    assign_accounts(
        session, selection=AccountRefs(["A", "C"]), csms=[am], actor=me, role="account_manager"
    )
    assign_accounts(
        session, selection=AccountRefs(["D"]), csms=[gone], actor=me, role="account_manager"
    )
    deactivate_user(session, user=gone, actor=me, keep=True)

    mine = OwnershipFilter(assigned_to=am, role="account_manager")
    page = list_accounts(session, where=mine.conditions(), role="account_manager")
    assert [(i.external_id, i.csms, i.owner_inactive) for i in page.items] == [
        ("A", ["am@example.com"], False),
        ("C", ["am@example.com"], False),
    ]
    nobody = OwnershipFilter(unassigned=True, role="account_manager")
    page = list_accounts(session, where=nobody.conditions(), role="account_manager")
    assert [(i.external_id, i.csms, i.owner_inactive) for i in page.items] == [
        ("B", [], False),
        ("D", ["gone-am@example.com"], True),
        ("E", [], False),
    ]
    # The CSM listing still shows the CSMs.
    csm_page = list_accounts(session, where=OwnershipFilter(assigned_to=x).conditions())
    assert [i.csms for i in csm_page.items] == [
        ["x@example.com"],
        ["x@example.com", "y@example.com"],
    ]
