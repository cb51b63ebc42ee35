"""What a person does in the web app, in a real browser: sign in, assign, undo, policies,
segments."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.users.service import get_user
from tests.browser.book import PASSWORD, make_book, sign_in
from tests.browser.layout import layout_problems
from tests.factories import actor

pytestmark = pytest.mark.browser


def test_a_new_user_signs_in_with_the_login_form(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(book.lead)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
    sign_in(page, book.lead, PASSWORD)
    expect(page).to_have_url(re.compile(r"/assignment"))
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_title(book.lead)).to_have_text("Priya Natarajan · admin")


def test_keyboard_only_sign_in(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    page.goto("/login")
    # The skip link comes first; the email field has the focus (autofocus) on arrival.
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(book.lead)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/assignment"))


def csm_row(page: Page, name: str) -> Locator:
    """The CSM overview's row of one CSM."""
    overview = page.get_by_role("table", name="Active CSM-seat users with the accounts they own")
    return overview.get_by_role("row").filter(has_text=name)


def expect_book_size(page: Page, name: str, accounts: int) -> None:
    """The overview counts ``accounts`` for the CSM, and so does the rep picker."""
    expect(csm_row(page, name).get_by_role("cell").nth(1)).to_have_text(str(accounts))
    expect(page.get_by_label("Select rep").locator("option", has_text=name)).to_have_text(
        f"{name} ({accounts})"
    )


def choose_rep(page: Page, email: str) -> None:
    """Pick a rep with the "Select rep" control, as Natero's page does."""
    page.get_by_label("Select rep").select_option(email)
    page.get_by_role("button", name="Show").click()


def test_natero_flow_assign_no_ones_accounts_then_undo(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    michael = book.csm_name("michael")
    sign_in(page, book.lead)
    page.goto("/assignment")
    expect_book_size(page, michael, 2)
    choose_rep(page, "michael@example.com")
    expect(page).to_have_url(re.compile(r"rep=michael%40example.com"))
    mine = page.get_by_role("region", name=f"Accounts assigned to {michael}")
    expect(mine.get_by_role("link", name="Globex Holdings")).to_be_visible()
    others = page.get_by_role("region", name=f"Accounts NOT assigned to {michael}")
    tabs = others.get_by_role("navigation", name=f"Which accounts not assigned to {michael}")
    tabs.get_by_role("link", name="No-one").click()
    expect(tabs.get_by_role("link", name="No-one")).to_have_attribute("aria-current", "true")
    expect(others.get_by_role("link", name="Wayne Enterprises")).to_have_count(0)  # Ben's

    others.get_by_label("Select Initech").check()
    others.get_by_label("Select Hooli").check()
    others.get_by_role("button", name=f"Assign to {michael}").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Preview")
    expect(page.get_by_text("2 accounts would change")).to_be_visible()
    changes = page.get_by_role("table", name="The first changes, by account")
    expect(changes.get_by_role("link", name="Initech")).to_be_visible()
    page.get_by_role("button", name="Apply").click()

    done = page.get_by_role("status")
    expect(done).to_contain_text(re.compile(r"Assigned .*: 2 accounts changed"))
    operation = re.search(r"Operation #(\d+)", done.inner_text())
    assert operation is not None
    expect(page).to_have_url(re.compile(r"/assignment\?rep=michael%40example.com"))  # PRG
    expect_book_size(page, michael, 4)
    expect(mine.get_by_role("link", name="Initech")).to_be_visible()

    page.goto("/operations")
    page.get_by_role("link", name=f"Undo operation {operation.group(1)}…", exact=True).click()
    undo_preview_then_undo(page, operation.group(1), changed=2)
    page.goto("/assignment?rep=michael%40example.com")
    expect_book_size(page, michael, 2)
    expect(others.get_by_role("link", name="Initech")).to_be_visible()


def test_natero_flow_other_csms_and_an_advanced_filter_for_all_matching(
    page: Page, engine: Engine
) -> None:
    book = make_book(engine)
    michael = book.csm_name("michael")
    sign_in(page, book.lead)
    page.goto("/assignment?rep=michael%40example.com")
    others = page.get_by_role("region", name=f"Accounts NOT assigned to {michael}")
    others.get_by_role("link", name="Other CSMs").click()
    expect(others.get_by_role("link", name="Wayne Enterprises")).to_be_visible()  # Ben's
    expect(others.get_by_role("link", name="Initech")).to_have_count(0)  # no-one's

    others.get_by_role("link", name="Advanced filter").click()
    rule = others.get_by_label("Advanced filter (a rule)")
    rule.fill("tier = 3 and health_score <")
    others.get_by_role("button", name="Apply filter").click()
    expect(others.get_by_role("alert")).to_contain_text("invalid rule")
    rule.fill("tier = 3 and health_score < 50")
    others.get_by_role("button", name="Apply filter").click()
    for name in ("Pied Piper", "Umbrella Labs"):
        expect(others.get_by_role("link", name=name)).to_be_visible()
    others.get_by_label("all 2 matching accounts").check()
    others.get_by_role("button", name=f"Assign to {michael}").click()
    preview_then_apply(page, "to Michael Chen", 2)
    expect_book_size(page, michael, 4)
    expect(page).to_have_url(re.compile(r"who=all"))  # back on the filtered tab


def preview_then_apply(page: Page, headline: str, changed: int, *, back: bool = True) -> None:
    """On a preview page: check what it says would change, Apply, and see it done on the
    page the change came from (post/redirect/get: no Back to press)."""
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Preview: ")
    expect(heading).to_contain_text(headline)
    plural = "s" if changed != 1 else ""
    expect(page.get_by_text(f"{changed} account{plural} would change")).to_be_visible()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text(f"{changed} account{plural} changed")
    if back:
        expect(page.get_by_role("heading", level=1)).not_to_contain_text("Preview")


def undo_preview_then_undo(page: Page, operation: str | None, *, changed: int) -> None:
    """On an undo's preview: check it, press Undo, see it done (no browser confirm)."""
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"Preview: Undo operation #{operation or ''}")
    plural = "s" if changed != 1 else ""
    expect(page.get_by_text(f"{changed} account{plural} would change")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel")).to_be_visible()
    page.get_by_role("button", name="Undo", exact=True).click()
    done = page.get_by_role("status")
    expect(done).to_contain_text(f"Undid operation #{operation or ''}")
    expect(done).to_contain_text(f"{changed} account{plural} changed")
    expect(done.get_by_role("link", name="Undo…")).to_have_count(0)  # an undo is not undone here


def test_unassign_ticked_accounts_from_a_rep_then_undo_on_the_result(
    page: Page, engine: Engine
) -> None:
    book = make_book(engine)
    ana = book.csm_name("ana")
    sign_in(page, book.lead)
    page.goto("/assignment")
    choose_rep(page, "ana@example.com")
    expect_book_size(page, ana, 3)
    mine = page.get_by_role("region", name=f"Accounts assigned to {ana}")
    mine.get_by_label("Select Stark Industries").check()
    mine.get_by_role("button", name="Unassign").click()
    preview_then_apply(page, "Unassign Ana Silva from 1 selected account", 1, back=False)

    second_tab = page.context.new_page()  # the same person, looking from another tab
    second_tab.goto("/assignment?rep=ana%40example.com")
    expect_book_size(second_tab, ana, 2)
    others = second_tab.get_by_role("region", name=f"Accounts NOT assigned to {ana}")
    expect(others.get_by_role("link", name="Stark Industries")).to_be_visible()  # no-one's now
    second_tab.close()

    page.get_by_role("link", name="Undo…").click()
    undo_preview_then_undo(page, None, changed=1)
    expect_book_size(page, ana, 3)
    expect(mine.get_by_role("link", name="Stark Industries")).to_be_visible()


def test_undo_from_the_operations_page_is_previewed_first(page: Page, engine: Engine) -> None:
    """Issue 13, defect 11: Undo shows what it would put back; Cancel changes nothing."""
    book = make_book(engine)
    ana = book.csm_name("ana")
    sign_in(page, book.lead)
    page.goto("/operations")
    latest = page.get_by_role("table", name="Operations, newest first")
    newest = latest.get_by_role("row").nth(1)
    expect(newest).to_contain_text("ben@example.com")  # make_book assigns Ben's book last
    number = newest.get_by_role("cell").first.inner_text()
    newest.get_by_role("link", name=f"Undo operation {number}…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Preview: Undo operation #{number} (assign)"
    )
    expect(page.get_by_text("3 accounts would change")).to_be_visible()
    changes = page.get_by_role("table", name="The first changes, by account")
    expect(changes.get_by_role("link", name="Wayne Enterprises")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    assert overflow_problems(page) == []
    expect(page.get_by_role("button", name="Undo", exact=True)).to_be_in_viewport()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/operations$"))
    expect(latest.get_by_role("row").nth(1)).not_to_contain_text("undone by")  # nothing done

    latest.get_by_role("link", name=f"Undo operation {number}…").click()
    undo_preview_then_undo(page, number, changed=3)
    expect(page).to_have_url(re.compile(r"/operations$"))
    expect(latest.get_by_role("row").filter(has_text="undone by #")).to_have_count(1)
    page.goto("/assignment")
    expect_book_size(page, book.csm_name("ben"), 0)
    expect_book_size(page, ana, 3)


def test_setting_a_child_to_inherit_is_previewed_first(page: Page, engine: Engine) -> None:
    """Issue 13, defect 12: the CSM a child loses by inheriting is shown before it goes."""
    book = make_book(engine)
    with write_session(engine) as session:  # Chloé owns Globex Spain herself
        assign_accounts(
            session,
            selection=AccountRefs(["GLOBEX-ES"]),
            csms=[get_user(session, "chloe@example.com")],
            actor=actor(session),
        )
    sign_in(page, book.lead)
    page.goto("/accounts/GLOBEX-ES")
    policy = page.get_by_role("region", name="Inherit or own")
    policy.get_by_label("inherit (follow Globex Holdings)").check()
    policy.get_by_role("button", name="Preview the change…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Preview: Set Globex Spain to inherit (follow its parent's CSMs)"
    )
    expect(page.get_by_text("1 account would change")).to_be_visible()
    facts = page.get_by_role("list").filter(has_text="This account:")
    expect(facts).to_contain_text("This account: Chloé Martin loses it, Michael Chen gets it.")
    expect(facts).not_to_contain_text("Children")  # it has none
    page.set_viewport_size({"width": 390, "height": 844})
    assert overflow_problems(page) == []
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"/accounts/GLOBEX-ES$"))  # post/redirect/get
    notice = page.get_by_role("status")
    expect(notice).to_contain_text("Policy set to inherit.")
    expect(notice).not_to_contain_text("children")
    owners = page.get_by_role("table", name="Current owners of Globex Spain")

    def owner(name: str, email: str) -> Locator:  # the name first, the email below it
        return owners.get_by_role("cell", name=f"{name} {email}", exact=True)

    expect(owner("Michael Chen", "michael@example.com")).to_be_visible()
    expect(owner("Chloé Martin", "chloe@example.com")).to_have_count(0)
    notice.get_by_role("link", name="Undo…").click()  # the undo is previewed too
    undo_preview_then_undo(page, None, changed=1)
    expect(owner("Chloé Martin", "chloe@example.com")).to_be_visible()


def test_transfer_a_whole_book(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    ben, chloe = book.csm_name("ben"), book.csm_name("chloe")
    sign_in(page, book.lead)
    page.goto("/assignment?rep=ben%40example.com")
    expect_book_size(page, ben, 3)
    mine = page.get_by_role("region", name=f"Accounts assigned to {ben}")
    mine.get_by_label("all 3 matching accounts").check()
    mine.get_by_label("Transfer to").select_option(label=chloe)
    mine.get_by_role("button", name="Transfer…").click()
    preview_then_apply(page, "from Ben Okafor to Chloé Martin", 3)
    expect_book_size(page, ben, 0)
    expect_book_size(page, chloe, 3)


def test_assign_from_the_accounts_list_to_two_csms_with_the_pop_up(
    page: Page, engine: Engine
) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/accounts")
    page.get_by_label("Filter (a rule)").fill("csm is empty and is_parent = false")
    page.get_by_role("button", name="Apply filter").click()
    listing = page.get_by_role("table", name="Accounts")
    expect(listing.get_by_role("link", name="Initech")).to_be_visible()
    expect(listing.get_by_role("link", name="Stark Industries")).to_have_count(0)  # Ana's
    listing.get_by_label("Select Initech").check()
    listing.get_by_label("Select Soylent").check()

    pop_up = page.get_by_role("dialog", name="Assign reps")
    expect(pop_up).to_be_hidden()
    page.get_by_role("button", name="Assign reps…").click()
    expect(pop_up).to_be_visible()
    pop_up.get_by_label(book.csm_name("ana")).check()
    pop_up.get_by_label(book.csm_name("chloe")).check()
    pop_up.get_by_role("button", name="Preview").click()

    preview_then_apply(page, "to Ana Silva, Chloé Martin", 2)
    expect(page).to_have_url(re.compile(r"/accounts\?where="))
    expect(listing.get_by_role("link", name="Initech")).to_have_count(0)  # owned now
    page.goto("/accounts/INITECH")
    owners = page.get_by_role("table", name="Current owners of Initech")
    for name, email in (("Ana Silva", "ana@example.com"), ("Chloé Martin", "chloe@example.com")):
        # the owner's name first, the email below it
        expect(owners.get_by_role("cell", name=f"{name} {email}", exact=True)).to_be_visible()


def test_the_pop_up_closes_with_cancel_and_changes_nothing(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/accounts")
    page.get_by_role("button", name="Assign reps…").click()
    pop_up = page.get_by_role("dialog", name="Assign reps")
    expect(pop_up).to_be_visible()
    pop_up.get_by_role("button", name="Cancel").click()
    expect(pop_up).to_be_hidden()
    page.get_by_role("button", name="Assign reps…").press("Enter")  # and by keyboard
    expect(pop_up).to_be_visible()
    page.keyboard.press("Escape")
    expect(pop_up).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/accounts$"))


def test_accounts_list_sorts_and_chooses_columns(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/accounts")
    listing = page.get_by_role("table", name="Accounts")
    listing.get_by_role("link", name="MRR").click()
    expect(listing.get_by_role("columnheader", name="MRR")).to_have_attribute(
        "aria-sort", "ascending"
    )
    listing.get_by_role("link", name="MRR").click()
    expect(listing.get_by_role("columnheader", name="MRR")).to_have_attribute(
        "aria-sort", "descending"
    )
    first = listing.get_by_role("row").nth(1)
    expect(first).to_contain_text("Stark Industries")  # the largest MRR
    page.get_by_text("Columns", exact=True).click()
    page.get_by_label("Region", exact=True).check()
    page.get_by_label("Health", exact=True).uncheck()
    page.get_by_role("button", name="Show columns").click()
    expect(listing.get_by_role("columnheader", name="Region")).to_be_visible()
    expect(listing.get_by_role("columnheader", name="Health")).to_have_count(0)
    expect(listing.get_by_role("row").nth(1)).to_contain_text("Stark Industries")  # sort kept


def test_segments_with_the_custify_recipe(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/segments")
    page.get_by_role("link", name="New segment").click()
    expect(page.get_by_role("heading", name="New segment")).to_be_visible()
    page.get_by_label("Name").fill("Michael's parent companies")
    rule = page.get_by_label("Rule")
    rule.fill("csm is michael@example.com and company level is 2")
    expect(rule).to_have_attribute("aria-invalid", "true")  # checked as you type
    expect(page.locator("#rule-status")).to_contain_text("(column")
    rule.fill("csm is michael@example.com and company level is 1")
    expect(page.locator("#rule-status")).to_contain_text("2 matching")
    expect(rule).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview: 2 matching accounts")
    expect(preview.get_by_role("link", name="Globex Holdings")).to_be_visible()
    expect(preview.get_by_role("link", name="Umbrella Group")).to_be_visible()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Michael's parent companies 2 members now"
    )
    page.goto("/segments/new")
    page.get_by_label("Name").fill("Michael's children companies")
    page.get_by_label("Rule").fill(
        "company level is 0 and parent company is in segment “michael’s parent companies”"
    )
    page.get_by_role("button", name="Save").click()
    members = page.get_by_role("region", name="Members right now")
    for name in ("Globex France", "Globex Spain", "Umbrella Labs"):
        expect(members.get_by_role("link", name=name)).to_be_visible()
    expect(members.get_by_role("row")).to_have_count(4)  # the header and three children

    page.goto("/segments")
    segments = page.get_by_role("table", name="Saved segments")
    expect(
        segments.get_by_role("link", name="Michael's parent companies", exact=True)
    ).to_be_visible()
    page.get_by_role("link", name="Edit Michael's children companies").click()
    expect(page.get_by_label("Rule")).to_have_value(re.compile("parent"))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview: 3 matching accounts")).to_be_visible()


def test_an_admin_adds_a_user_who_then_signs_in(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/users")
    add = page.get_by_role("region", name="Add a user")
    add.get_by_label("Email", exact=True).fill("dana@example.com")
    add.get_by_label("Full name").fill("Dana Scully")
    add.get_by_label("Role", exact=True).select_option("manager")
    add.get_by_label("can own accounts").check()
    add.get_by_label("Initial password").fill("a long enough password")
    add.get_by_role("button", name="Add user").click()
    people = page.get_by_role("table", name="Users with their role, CSM seat, status and accounts")
    expect(people.get_by_role("row").filter(has_text="dana@example.com")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))

    sign_in(page, "dana@example.com", "a long enough password")
    who = page.get_by_text("Dana Scully · manager")  # the name, the email as its title
    expect(who).to_be_visible()
    expect(who).to_have_attribute("title", "dana@example.com")
    expect(page.get_by_role("link", name="Users")).to_have_count(0)  # admins only


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => !e.closest(".table-wrap, .sr-only, dialog:not([open])"))
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + e.className);
  const tables = [...document.querySelectorAll("table")].map((table) => {
    let box = table.parentElement;
    while (box && !["auto", "scroll"].includes(getComputedStyle(box).overflowX)) {
      box = box.parentElement;
    }
    return box && box.getBoundingClientRect().right <= width + 1;
  });
  const hidden = [...document.querySelectorAll(".sr-only")];
  const shown = hidden
    .filter((e) => e.getBoundingClientRect().width > 1)
    .map((e) => e.textContent.trim());
  // Absolutely positioned, so a table's scrolling wrapper does not clip them unless it is
  // their containing block: off to the right, they widen the whole page.
  const outside = hidden
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .map((e) => e.textContent.trim());
  return {
    scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, width,
    wide: wide.slice(0, 5), tables, shown: shown.slice(0, 5), outside: outside.slice(0, 3),
  };
}"""


PHONE_PAGES = (
    "/assignment?rep=michael%40example.com",
    "/accounts",
    "/accounts/GLOBEX",
    "/segments/new",
    "/operations",
    "/users",
)


def overflow_problems(page: Page) -> list[str]:
    """What makes this page scroll sideways, clips a value, or shows hidden text, in words
    (none: fine). ``layout.layout_problems`` does the work; OVERFLOW stays for reference."""
    return layout_problems(page)


def _page_scroll_problems(page: Page) -> list[str]:
    """The first, page-level check alone (page scroll, tables wrapped, hidden text)."""
    found = page.evaluate(OVERFLOW)
    problems = []
    if max(found["scroll"], found["body"]) > found["width"]:
        problems.append(f"the page is {found['scroll']}px wide in {found['width']}px")
    if found["wide"]:
        problems.append(f"these stick out: {found['wide']}")
    if not all(found["tables"]):
        problems.append("a table is not inside a scrolling wrapper (.table-wrap)")
    if found["shown"]:
        problems.append(f"screen-reader-only text takes room: {found['shown']}")
    if found["outside"]:
        problems.append(f"screen-reader-only text lies off to the right: {found['outside']}")
    return problems


def test_a_phone_wide_page_does_not_scroll_sideways(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/login")
    problems = {"/login": overflow_problems(page)}
    sign_in(page, book.lead)
    for path in PHONE_PAGES:
        page.goto(path)
        problems[path] = overflow_problems(page)
    assert not {path: found for path, found in problems.items() if found}


def test_deactivating_a_csm_previews_the_move_of_their_book(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/users")
        row = page.get_by_role("row").filter(has_text="ben@example.com")
        row.get_by_label("What happens to the accounts of ben@example.com").select_option(
            "ana@example.com"
        )
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Deactivate ben@example.com").click()
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_contain_text("Deactivate Ben Okafor and move their accounts to Ana")
        expect(page.get_by_text("3 accounts would change")).to_be_visible()
        assert not overflow_problems(page), overflow_problems(page)
        page.screenshot(path=f"/tmp/deactivate-preview-{width}.png", full_page=True)
        if width == 1280:
            page.get_by_role("link", name="Cancel").click()
    page.get_by_role("button", name="Deactivate", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        "Deactivated Ben Okafor (ben@example.com): 3 accounts moved to Ana Silva (ana@example.com)."
    )


def test_take_over_from_other_csms_lands_back_on_the_list(page: Page, engine: Engine) -> None:
    """Issue 15: Other CSMs offers Take over (previewed), and every step lands on the list."""
    book = make_book(engine)
    michael = book.csm_name("michael")
    sign_in(page, book.lead)
    page.goto("/assignment?rep=michael%40example.com")
    others = page.get_by_role("region", name=f"Accounts NOT assigned to {michael}")
    others.get_by_role("link", name="Other CSMs").click()
    expect(page).to_have_url(re.compile(r"who=others.*#others$"))
    expect(others).to_be_in_viewport()
    wayne = others.get_by_role("row").filter(has_text="Wayne Enterprises")
    expect(wayne.get_by_role("cell", name="Ben Okafor")).to_be_visible()  # a name, not an email
    others.get_by_role("link", name="MRR").click()  # sorted by a header, still on the list
    expect(page).to_have_url(re.compile(r"sort=mrr.*#others$"))
    others.get_by_role("link", name="MRR").click()
    expect(others.get_by_role("row").nth(1)).to_contain_text("Stark Industries")

    others.get_by_label("Select Wayne Enterprises").check()
    others.get_by_role("button", name=f"Take over for {michael}…").click()
    preview_then_apply(page, f"Take over 1 selected account for {michael}", 1)
    expect(page).to_have_url(re.compile(r"#others$"))
    expect(others).to_be_in_viewport()
    expect(others.get_by_role("link", name="Wayne Enterprises")).to_have_count(0)
    mine = page.get_by_role("region", name=f"Accounts assigned to {michael}")
    expect(mine.get_by_role("link", name="Wayne Enterprises")).to_be_visible()
    expect_book_size(page, book.csm_name("ben"), 2)


def test_a_refused_assign_is_shown_beside_the_list_with_the_ticks_kept(
    page: Page, engine: Engine
) -> None:
    book = make_book(engine)
    with write_session(engine) as session:  # a long book pushes the list below the fold
        assign_accounts(
            session,
            selection=AccountRefs(["INITECH", "HOOLI", "SOYLENT", "ACME", "CYBERDYNE"]),
            csms=[get_user(session, "michael@example.com")],
            actor=actor(session),
        )
    michael = book.csm_name("michael")
    sign_in(page, book.lead)
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto("/assignment?rep=michael%40example.com")
    others = page.get_by_role("region", name=f"Accounts NOT assigned to {michael}")
    others.get_by_role("link", name="Advanced filter").click()
    others.get_by_label("Select Pied Piper").check()
    rule = others.get_by_label("Advanced filter (a rule)")
    rule.fill("tier = 3")
    # The live check counts what the list will show (6 accounts are tier 3; 2 are Michael's).
    expect(page.locator("#where-status")).to_contain_text(f"4 matching, not assigned to {michael}")
    others.get_by_role("button", name="Apply filter").click()
    expect(page).to_have_url(re.compile(r"#others$"))
    expect(others.get_by_role("heading", level=2)).to_have_text(
        f"Accounts NOT assigned to {michael} 4"
    )
    expect(others.get_by_label("Select Pied Piper")).to_be_checked()  # the tick survived
    expect(others.get_by_label("Select Vandelay Industries")).not_to_be_checked()
    others.get_by_label("Select Pied Piper").uncheck()
    others.get_by_role("button", name=f"Assign to {michael}").click()  # nothing ticked
    alert = others.get_by_role("alert")
    expect(alert).to_contain_text("select at least one account")
    expect(alert).to_be_in_viewport()
    page.set_viewport_size({"width": 1280, "height": 800})


def test_the_assign_reps_pop_up_shows_books_and_searches(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/accounts")
    page.get_by_role("button", name="Assign reps…").click()
    pop_up = page.get_by_role("dialog", name="Assign reps")
    expect(pop_up.get_by_text("ana@example.com · now 3 accounts, MRR 24,200.00")).to_be_visible()
    search = pop_up.get_by_label("Search")
    search.fill("chlo")
    expect(pop_up.get_by_label(book.csm_name("chloe"))).to_be_visible()
    expect(pop_up.get_by_label(book.csm_name("ana"))).to_be_hidden()
    search.press("Enter")  # does not submit the form
    expect(pop_up).to_be_visible()
    search.fill("")
    expect(pop_up.get_by_label(book.csm_name("ana"))).to_be_visible()
