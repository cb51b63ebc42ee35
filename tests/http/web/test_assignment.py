"""The account assignment page: Natero's flow end to end, unassign, transfer, errors."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import Engine, select

from bookwise.accounts.service import get_account
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import read_session, write_session
from bookwise.models import Operation
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.helpers import open_csms
from tests.http.conftest import SignedIn
from tests.http.web.page import Element, Page

ANA, BEN, CHLOE = "ana@example.com", "ben@example.com", "chloe@example.com"


def make_team(engine: Engine) -> None:
    """Ana owns nothing; Ben owns B1 and B2; U1–U3 belong to no-one; T1 is tier 1, no-one's."""
    with write_session(engine) as session:
        make_user(session, ANA, name="Ana Silva")
        ben = make_user(session, BEN, name="Ben Okafor")
        make_user(session, CHLOE, name="Chloé Martin")
        for ref in ("U1", "U2", "U3"):
            make_account(session, f"Unowned {ref}", external_id=ref, mrr=1000, tier=2)
        make_account(session, "Tier one", external_id="T1", mrr=9000, tier=1)
        for ref in ("B1", "B2"):
            make_account(session, f"Ben's {ref}", external_id=ref, mrr=500, tier=3)
        assign_accounts(
            session, selection=AccountRefs(["B1", "B2"]), csms=[ben], actor=actor(session)
        )


def overview(page: Page) -> dict[str, int]:
    """Accounts per CSM email, as the CSM table shows them."""
    table = page.root.find("section", aria_labelledby="csms-title").find("tbody")
    counts = {}
    for row in table.find_all("tr"):
        cells = row.find_all("td")
        email = cells[0].find("span").text()
        counts[email] = int(cells[1].text().replace(",", ""))
    return counts


def badge(page: Page, heading_id: str) -> int:
    """The count beside a section's heading."""
    return int(page.root.find("h2", id=heading_id).find("span").text().replace(",", ""))


def apply_preview(signed: SignedIn, preview: Page) -> Page:
    """Press Apply on a preview page."""
    data = preview.form("/operations/apply").data()
    return Page.of(signed.client.post("/operations/apply", data=data))


def test_the_natero_flow_pick_rep_no_one_select_preview_apply_undo(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    start = Page.of(lead.client.get("/assignment"))
    assert start.status == 200
    assert overview(start) == {ANA: 0, BEN: 2, CHLOE: 0}
    assert "Select rep" in start.text()

    chosen = Page.of(lead.client.get("/assignment", params={"rep": ANA}))
    assert badge(chosen, "book-title") == 0
    assert badge(chosen, "others-title") == 4  # no-one's: U1, U2, U3, T1
    listed = chosen.values("refs")
    assert set(listed) == {"U1", "U2", "U3", "T1"}

    form = chosen.form("/assignment/preview", index=1)
    preview = Page.of(
        lead.client.post("/assignment/preview", data=form.data(action="assign", refs=["U1", "U3"]))
    )
    assert preview.status == 200
    assert "2 accounts would change" in preview.text()
    assert "Nothing has been changed yet" in preview.text()
    outcomes = [row.text() for row in preview.root.find_all("tr") if "U1" in row.text()]
    assert any("assigned" in text for text in outcomes)
    assert preview.root.find("input", name="fingerprint").attrs["value"]
    assert "Apply" in preview.buttons()
    assert overview(Page.of(lead.client.get("/assignment")))[ANA] == 0  # nothing changed yet

    done = apply_preview(lead, preview)
    assert done.status == 200
    assert "2 accounts changed" in done.text()
    undo_link = _undo_link(done)

    after = Page.of(lead.client.get("/assignment", params={"rep": ANA}))
    assert overview(after)[ANA] == 2
    assert badge(after, "book-title") == 2
    assert badge(after, "others-title") == 2
    assert set(after.form("/assignment/preview").data()["from_csm"]) == {ANA}

    undo_preview = Page.of(lead.client.get(undo_link))  # Undo… shows what it would do first
    assert "Preview: Undo operation" in undo_preview.text()
    undo_action = _undo_action(undo_preview)
    undone = Page.of(lead.client.post(undo_action, data=undo_preview.form(undo_action).data()))
    assert undone.status == 200
    assert "Undid operation" in undone.text()
    assert overview(Page.of(lead.client.get("/assignment")))[ANA] == 0


def _undo_action(page: Page) -> str:
    return next(a for a in page.actions() if re.fullmatch(r"/operations/\d+/undo", a))


def _undo_link(page: Page) -> str:
    """Where the result page's "Undo…" link goes: the preview of the undo."""
    links = [a for a in page.root.find("main").find_all("a") if a.text() == "Undo…"]
    assert links, "no Undo… link"
    return links[0].attrs["href"]


def test_assign_all_matching_an_advanced_filter(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    tab = Page.of(
        lead.client.get("/assignment", params={"rep": CHLOE, "who": "all", "where": "tier = 1"})
    )
    assert tab.root.find("textarea", name="where").attrs["data-rule-check"] == "where-status"
    assert badge(tab, "others-title") == 1
    data = tab.form("/assignment/preview", index=1).data(action="assign", scope="all")
    preview = Page.of(lead.client.post("/assignment/preview", data=data))
    assert "rule: tier = 1" in preview.text()
    assert "1 account would change" in preview.text()
    apply_preview(lead, preview)
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "T1")) == {CHLOE}


def test_other_csms_tab_lists_accounts_owned_by_someone_else(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    tab = Page.of(lead.client.get("/assignment", params={"rep": ANA, "who": "others"}))
    assert set(tab.values("refs")) == {"B1", "B2"}
    tabs = tab.root.find("nav", class_="tabs")
    assert tabs.find("a", aria_current="true").text() == "Other CSMs"


def test_unassign_selected_accounts_from_the_rep(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    book = Page.of(lead.client.get("/assignment", params={"rep": BEN}))
    data = book.form("/assignment/preview").data(action="unassign", refs=["B1"])
    preview = Page.of(lead.client.post("/assignment/preview", data=data))
    assert "Unassign Ben Okafor from 1 selected account" in preview.text()
    done = apply_preview(lead, preview)
    assert "1 account changed" in done.text()
    after = Page.of(lead.client.get("/assignment", params={"rep": BEN}))
    assert after.values("refs")[:1] == ["B2"]
    assert overview(after)[BEN] == 1


def test_transfer_the_whole_book_to_another_csm(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    book = Page.of(lead.client.get("/assignment", params={"rep": BEN}))
    choices = book.root.find("select", id="transfer-to").find_all("option")
    transfer_to = [o.attrs["value"] for o in choices]
    assert ANA in transfer_to
    assert BEN not in transfer_to
    data = book.form("/assignment/preview").data(action="transfer", scope="all", to=ANA)
    preview = Page.of(lead.client.post("/assignment/preview", data=data))
    assert (
        "Transfer all accounts (assigned to Ben Okafor) from Ben Okafor to Ana Silva"
        in preview.text()
    )
    done = apply_preview(lead, preview)
    assert "2 accounts changed" in done.text()
    counts = overview(Page.of(lead.client.get("/assignment")))
    assert counts[ANA] == 2
    assert counts[BEN] == 0
    # Shown by name (above); stored on the operation by email: names are not unique.
    with read_session(engine) as session:
        stored = session.scalars(select(Operation.parameters).order_by(Operation.id.desc()))
        assert stored.first()["filter"] == f"assigned to {BEN}"


def test_a_changed_selection_since_the_preview_is_a_conflict_with_a_new_preview(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    tab = Page.of(lead.client.get("/assignment", params={"rep": ANA}))
    data = tab.form("/assignment/preview", index=1).data(action="assign", scope="all")
    preview = Page.of(lead.client.post("/assignment/preview", data=data))
    assert "4 accounts would change" in preview.text()
    with write_session(engine) as session:  # someone else takes U1 meanwhile
        assign_accounts(
            session,
            selection=AccountRefs(["U1"]),
            csms=[get_user(session, CHLOE)],
            actor=actor(session),
        )
    again = apply_preview(lead, preview)
    assert again.status == 200
    assert "changed since your preview" in again.error()
    assert "3 accounts would change" in again.text()  # the fresh preview
    assert overview(Page.of(lead.client.get("/assignment")))[ANA] == 0
    done = apply_preview(lead, again)
    assert "3 accounts changed" in done.text()


def test_nothing_selected_re_renders_the_page_with_the_message(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    tab = Page.of(lead.client.get("/assignment", params={"rep": ANA}))
    data = tab.form("/assignment/preview", index=1).data(action="assign")
    answer = Page.of(lead.client.post("/assignment/preview", data=data))
    assert answer.status == 422
    assert "select at least one account" in answer.error()
    assert badge(answer, "others-title") == 4  # the page, not a stack trace


def test_a_bad_rule_shows_where_it_is_wrong(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    viewer = as_role("viewer")
    answer = Page.of(
        viewer.client.get("/assignment", params={"rep": ANA, "who": "all", "where": "tier = "})
    )
    assert answer.status == 422
    assert "invalid rule" in answer.error()
    assert answer.root.find("pre", class_="caret")
    unknown = Page.of(viewer.client.get("/assignment", params={"rep": "nobody@example.com"}))
    assert unknown.status == 404
    assert "no user with email nobody@example.com" in unknown.error()


def test_an_inactive_csm_is_refused_in_the_preview(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    with write_session(engine) as session:
        make_user(session, "gone@example.com", active=False)
    lead = as_role("manager")
    tab = Page.of(lead.client.get("/assignment", params={"rep": "gone@example.com"}))
    assert "is inactive" in tab.text()
    data = tab.form("/assignment/preview", index=1).data(action="assign", refs=["U1"])
    preview = Page.of(lead.client.post("/assignment/preview", data=data))
    assert "refused: the user is inactive" in preview.text()
    assert "Apply" not in preview.buttons()


def test_cancel_goes_back_to_the_page_and_never_to_another_site(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    tab = Page.of(
        lead.client.get(
            "/assignment", params={"rep": ANA, "who": "all", "where": "tier = 2", "page": "1"}
        )
    )
    form = tab.form("/assignment/preview", index=1)
    back = form.data()["back"][0]
    assert "who=all" in back
    assert "where=tier" in back
    preview = Page.of(
        lead.client.post("/assignment/preview", data=form.data(action="assign", refs=["U1"]))
    )
    assert _cancel(preview) == back
    assert ("back", back) in preview.form("/operations/apply").fields()
    for evil in ["//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example"]:
        tricked = Page.of(
            lead.client.post(
                "/assignment/preview", data=form.data(action="assign", refs=["U1"], back=evil)
            )
        )
        assert _cancel(tricked) == "/assignment", evil
        assert ("back", "/assignment") in tricked.form("/operations/apply").fields()


def _cancel(page: Page) -> str:
    return next(a for a in page.root.find("main").find_all("a") if a.text() == "Cancel").attrs[
        "href"
    ]


def test_a_transfer_preview_shows_following_children_moving_with_their_parent(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    """Issue 13, defect 9: a child that follows its parent moves with it; that is no
    refusal, whatever the Changes table shows."""
    with write_session(engine) as session:
        ben = make_user(session, BEN)
        make_user(session, CHLOE)
        parent = make_account(session, "Parent", external_id="P")
        for ref in ("K1", "K2"):
            make_account(
                session, f"Kid {ref}", external_id=ref, parent=parent, inherit_policy="inherit"
            )
        assign_accounts(session, selection=AccountRefs(["P"]), csms=[ben], actor=actor(session))
    lead = as_role("manager")
    book = Page.of(lead.client.get("/assignment", params={"rep": BEN}))
    data = book.form("/assignment/preview").data(
        action="transfer", scope="selected", refs=["P", "K1", "K2"], to=CHLOE
    )
    preview = Page.of(lead.client.post("/assignment/preview", data=data))
    outcomes = {
        row.find_all("td")[0].text(): row.find_all("td")[2]
        for row in preview.root.find("table", id="outcomes").find("tbody").find_all("tr")
    }
    assert outcomes["P"].text() == "transferred"
    for ref in ("K1", "K2"):
        assert "refused" not in outcomes[ref].text()
        assert "refused" not in outcomes[ref].find("span").attrs["class"]
    changes = preview.root.find("table", id="changes").text()
    assert re.search(
        r"Kid K1 K1 \S+ \d+ chloe@example.com \+ gets the account follows its parent", changes
    )
    counts = preview.root.find("table", id="counts").text()
    assert "refused" not in counts
    assert "follow their parent: owners added 2" in counts
    assert "follow their parent: owners removed 2" in counts
    whole = book.form("/assignment/preview").data(action="transfer", scope="all", to=CHLOE)
    book_preview = Page.of(lead.client.post("/assignment/preview", data=whole))
    counts = book_preview.root.find("table", id="counts").text()
    assert "refused" not in counts  # the whole book: the children move with their parent
    assert "follow their parent: owners added 2" in counts


# --- issue 15: landing on what changed, sorting, names, the live count, take over -----------


def section(page: Page, heading_id: str) -> Element:
    """The card whose heading has this id."""
    return page.root.find("section", aria_labelledby=heading_id)


def test_every_link_that_changes_a_list_lands_on_that_list(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    lead = as_role("manager")
    chosen = Page.of(lead.client.get("/assignment", params={"rep": BEN}))
    others = section(chosen, "others-title")
    assert others.attrs["id"] == "others"
    assert section(chosen, "book-title").attrs["id"] == "book"
    tabs = [a.attrs["href"] for a in others.find("nav", class_="tabs").find_all("a")]
    assert tabs
    assert all(link.endswith("#others") for link in tabs)
    headers = [a.attrs["href"] for a in others.find("thead").find_all("a")]
    assert headers
    assert all(link.endswith("#others") for link in headers)
    book_headers = [
        a.attrs["href"] for a in section(chosen, "book-title").find("thead").find_all("a")
    ]
    assert book_headers
    assert all(link.endswith("#book") for link in book_headers)
    assert chosen.form("/assignment/preview", index=1).data()["back"][0].endswith("#others")
    assert chosen.form("/assignment/preview").data()["back"][0].endswith("#book")
    advanced = Page.of(lead.client.get("/assignment", params={"rep": BEN, "who": "all"}))
    assert (
        advanced.root.find("form", method="get", class_="stack rule-form").attrs["action"]
        == "/assignment#others"
    )


def test_both_lists_sort_by_their_column_headers(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    with write_session(engine) as session:
        make_account(session, "Small", external_id="S1", mrr=10, tier=3)
    viewer = as_role("viewer")
    page = Page.of(
        viewer.client.get(
            "/assignment", params={"rep": ANA, "sort": "-mrr", "book_sort": "-external_id"}
        )
    )
    assert page.status == 200
    others = section(page, "others-title")
    rows = [row.find_all("td")[0].text() for row in others.find("tbody").find_all("tr")]
    assert (rows[0], rows[-1], len(rows)) == ("Tier one", "Small", 5)
    mrr = others.find("th", aria_sort="descending")
    assert "MRR" in mrr.text()
    assert "sort=mrr" in mrr.find("a").attrs["href"]  # the next click sorts ascending
    assert "book_sort=-external_id" in mrr.find("a").attrs["href"]  # the other list's order
    bad = Page.of(viewer.client.get("/assignment", params={"rep": ANA, "sort": "colour"}))
    assert bad.status == 422
    assert "colour" in section(bad, "others-title").text()


def test_owners_are_shown_by_name_with_the_email_secondary(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    viewer = as_role("viewer")
    page = Page.of(viewer.client.get("/assignment", params={"rep": ANA, "who": "others"}))
    owner = section(page, "others-title").find("span", class_="owner")
    assert owner.attrs["title"] == BEN
    assert owner.text() == f"Ben Okafor ({BEN})"  # the email for screen readers


def test_a_refused_assign_is_shown_beside_the_list_with_the_ticks_kept(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    with write_session(engine) as session:
        get_user(session, ANA).csm_seat = False
    lead = as_role("manager")
    tab = Page.of(lead.client.get("/assignment", params={"rep": ANA}))
    data = tab.form("/assignment/preview", index=1).data(
        action="assign", scope="all", refs=["U1", "U3"]
    )
    data["scope"] = ["selected"]
    answer = Page.of(lead.client.post("/assignment/preview", data=data))
    assert answer.status == 200  # a preview with the refusal in it
    nothing = Page.of(
        lead.client.post(
            "/assignment/preview",
            data=tab.form("/assignment/preview", index=1).data(action="assign", where="tier = "),
        )
    )
    assert nothing.status == 422
    others = section(nothing, "others-title")
    assert "data-land" in others.attrs
    assert others.find(role="alert")
    assert not section(nothing, "book-title").find_all(role="alert")
    assert len(nothing.root.find("main").find_all(role="alert")) == 1  # not at the top too
    ticked = Page.of(
        lead.client.get("/assignment", params={"rep": ANA, "who": "others", "ticked": ["U1"]})
    )
    assert ticked.status == 200
    again = Page.of(lead.client.get("/assignment", params={"rep": ANA, "ticked": ["U1", "U3"]}))
    boxes = {
        e.attrs["value"]: "checked" in e.attrs
        for e in section(again, "others-title").find_all("input", name="refs")
    }
    assert boxes == {"U1": True, "U2": False, "U3": True, "T1": False}


def test_the_live_count_under_the_advanced_filter_is_the_lists_count(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    viewer = as_role("viewer")
    rule = "mrr > 100"  # Ben's two accounts and the four no-one owns
    tab = Page.of(
        viewer.client.get("/assignment", params={"rep": BEN, "who": "all", "where": rule})
    )
    box = tab.root.find("textarea", name="where")
    listed = badge(tab, "others-title")
    assert listed == 4
    counted = viewer.client.get(box.attrs["data-count-url"] + "&where=" + rule)
    assert counted.status_code == 200
    assert counted.json()["matches"] == listed
    token = tab.root.find("meta", name="csrf-token").attrs["content"]
    everywhere = viewer.client.post(
        "/api/v1/rules/check", json={"rule": rule}, headers={"X-CSRF-Token": token}
    )
    assert everywhere.json()["matches"] == 6  # what the box used to show
    bad = viewer.client.get(box.attrs["data-count-url"] + "&where=tier%20%3D")
    assert bad.status_code == 422


def test_take_over_from_the_other_csms_tab_previews_then_applies(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    with write_session(engine) as session:
        assign_accounts(
            session,
            selection=AccountRefs(["B1"]),
            csms=[get_user(session, CHLOE)],
            actor=actor(session),
        )
    lead = as_role("manager")
    tab = Page.of(lead.client.get("/assignment", params={"rep": ANA, "who": "others"}))
    assert "Take over for Ana Silva…" in section(tab, "others-title").text()
    no_one = Page.of(lead.client.get("/assignment", params={"rep": ANA}))
    assert "Take over" not in section(no_one, "others-title").text()  # nothing to take
    data = tab.form("/assignment/preview", index=1).data(action="take_over", refs=["B1", "B2"])
    preview = Page.of(lead.client.post("/assignment/preview", data=data))
    assert preview.status == 200
    assert "Take over 2 selected accounts for Ana Silva" in preview.text()
    assert "2 accounts would change" in preview.text()
    data = preview.form("/operations/apply").data()
    applied = lead.client.post("/operations/apply", data=data, follow_redirects=False)
    assert applied.status_code == 303  # back to the list it came from, at that list
    assert applied.headers["location"].endswith("#others")
    done = Page.of(lead.client.get(applied.headers["location"]))
    assert "2 accounts changed" in done.text()
    with read_session(engine) as session:
        for ref in ("B1", "B2"):
            assert open_csms(session, get_account(session, ref)) == {ANA}


def test_the_live_rule_check_names_the_rep(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)
    viewer = as_role("viewer")
    response = viewer.client.get(
        "/assignment/count", params={"rep": BEN, "who": "no-one", "where": "tier = 2"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "matches": 3,
        "described": "not assigned to Ben Okafor (who: no-one), rule: tier = 2",
    }
