"""Forms, messages and empty lists on the pages (issue 15).

Post/redirect/get: every form that changes something or asks for a preview answers 303 with
the address of a page that only reads, so a refresh never submits it again and the address
bar holds a page one can reload or share. What the form did is said once, by the page it
redirects to, in one style (sentence case, a closing full stop). An empty list says why it is
empty and what to do next, never "none of 0 · page 1 of 1".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, func, select

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import read_session, write_session
from bookwise.http.web.messages import FLASH_COOKIE, sentence
from bookwise.models import Assignment, Operation
from bookwise.segments.service import create_segment
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.http.conftest import SignedIn
from tests.http.web.page import Page

ANA, BEN = "ana@example.com", "ben@example.com"


def _book(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, ANA, name="Ana Silva")
        ben = make_user(session, BEN, name="Ben Okafor")
        for ref in ("A1", "A2", "A3"):
            make_account(session, f"Account {ref}", external_id=ref)
        assign_accounts(session, selection=AccountRefs(["A3"]), csms=[ben], actor=actor(session))


def _rows(engine: Engine) -> tuple[int, int]:
    with read_session(engine) as session:
        operations = session.scalar(select(func.count()).select_from(Operation)) or 0
        owners = session.scalar(select(func.count()).select_from(Assignment)) or 0
    return operations, owners


def _post(signed: SignedIn, path: str, data: dict[str, object]) -> str:
    """POST a form as the page does; it must answer 303 to a local GET address."""
    response = signed.client.post(
        path, data={**data, "csrf_token": signed.csrf}, follow_redirects=False
    )
    assert response.status_code == 303, (path, response.status_code, response.text[:300])
    location = response.headers["location"]
    assert location.startswith("/"), location
    return location


def _flash(page: Page) -> str:
    found = page.root.find_all("div", class_="flash done")
    return found[0].find("span").text() if found else ""


def test_a_preview_is_an_address_one_can_reload_and_applying_redirects_back(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _book(engine)
    lead = as_role("manager")
    back = "/assignment?rep=ana%40example.com#others"
    form = {"action": "assign", "to": ANA, "not_assigned_to": ANA, "who": "no-one"}
    form |= {"scope": "selected", "refs": ["A1", "A2"], "back": back}
    before = _rows(engine)

    location = _post(lead, "/assignment/preview", form)

    assert urlsplit(location).path == "/assignment/preview"
    assert parse_qs(urlsplit(location).query)["refs"] == ["A1", "A2"]
    first, again = Page.of(lead.client.get(location)), Page.of(lead.client.get(location))
    assert first.status == again.status == 200
    assert "Preview: Assign 2 selected accounts to Ana Silva" in first.text()
    assert first.root.find("h1").text() == again.root.find("h1").text()
    assert _rows(engine) == before  # previewing, twice, wrote nothing

    applied = _post(lead, "/operations/apply", first.form("/operations/apply").data())
    assert applied == back
    done = Page.of(lead.client.get(applied))
    assert _flash(done) == (
        "Assigned 2 selected accounts to Ana Silva: 2 accounts changed (assigned: 2)."
    )
    assert done.root.find("div", class_="flash done").find("a").text().startswith("Operation #")
    after = _rows(engine)
    reloaded = Page.of(lead.client.get(applied))
    assert _flash(reloaded) == ""  # said once; a refresh shows the page and submits nothing
    assert _rows(engine) == after


def test_a_stale_apply_redirects_to_the_fresh_preview_which_says_why(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _book(engine)
    lead = as_role("manager")
    form = {"action": "assign", "to": ANA, "not_assigned_to": ANA, "who": "no-one"}
    form |= {"scope": "all", "back": "/assignment?rep=ana%40example.com#others"}
    preview = Page.of(lead.client.get(_post(lead, "/assignment/preview", form)))
    with write_session(engine) as session:
        make_account(session, "Late", external_id="A4")

    location = _post(lead, "/operations/apply", preview.form("/operations/apply").data())

    assert urlsplit(location).path == "/assignment/preview"
    assert parse_qs(urlsplit(location).query)["changed"] == ["1"]
    fresh = Page.of(lead.client.get(location))
    assert "changed since your preview" in fresh.error()
    assert "3 accounts would change" in fresh.text()


def test_a_refused_form_is_shown_beside_its_control_at_the_preview_address(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _book(engine)
    lead = as_role("manager")
    form = {"action": "unassign", "from_csm": BEN, "assigned_to": BEN, "scope": "selected"}
    location = _post(
        lead, "/assignment/preview", {**form, "back": "/assignment?rep=ben%40example.com#book"}
    )
    refused = Page.of(lead.client.get(location))
    assert refused.status == 422
    book = refused.root.find("section", id="book")
    assert "choose" in book.find(role="alert").text().lower()


def test_the_other_forms_redirect_and_say_what_they_did_by_name(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _book(engine)
    with write_session(engine) as session:
        segment = create_segment(session, name="Tier", rule="tier = 1", actor=actor(session))
        segment_id = segment.id
    admin = as_role("admin")
    said: list[str] = []

    def did(path: str, data: dict[str, object]) -> str:
        page = Page.of(admin.client.get(_post(admin, path, data)))
        assert page.status == 200, (path, page.error())
        said.append(_flash(page))
        return said[-1]

    assert did("/accounts/A1/csms", {"csm": ANA}) == "Ana Silva: assigned."
    assert did("/accounts/A1/csms/remove", {"csm": ANA}) == "Ana Silva: unassigned."
    assert did("/users/role", {"email": BEN, "role": "viewer"}) == (
        "Ben Okafor (ben@example.com) is now a viewer."
    )
    assert did("/users/seat", {"email": ANA, "seat": "false"}).startswith("Ana Silva (")
    did("/users/seat", {"email": ANA, "seat": "true"})
    assert did("/segments/refresh", {}).startswith("Refreshed 1 segments")
    assert did(f"/segments/{segment_id}/edit", {"name": "Tier one", "rule": "tier = 1"}) == (
        "Saved segment “Tier one”."
    )
    assert did(f"/segments/{segment_id}/delete", {}) == "Deleted segment “Tier one”."
    policy = _post(admin, "/accounts/A2/policy/preview", {"policy": "own"})
    assert urlsplit(policy).path == "/accounts/A2/policy"
    typed = _post(admin, "/segments/new", {"name": "Big", "rule": "mrr >", "intent": "preview"})
    assert urlsplit(typed).path == "/segments/new"
    shown = Page.of(admin.client.get(typed))
    assert shown.root.find("input", name="name").attrs["value"] == "Big"  # the form as typed
    assert "invalid rule" in shown.error()

    users = Page.of(admin.client.get("/users"))
    owners = [o.text() for o in users.root.find("select", id="token-user").find_all("option")]
    assert "Ana Silva (ana@example.com)" in owners  # a token's owner is chosen by name

    # One style: sentence case, a closing full stop; people by name.
    for message in said:
        assert message == sentence(message), message
        assert message[0].isupper(), message
        assert message.endswith("."), message
        assert not re.search(r"(?<![(\w.])[\w.]+@example\.com(?!\))", message), message


def test_a_flash_from_another_session_is_ignored(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _book(engine)
    first, second = as_role("admin"), as_role("admin")
    _post(first, "/users/role", {"email": BEN, "role": "viewer"})
    planted = first.client.cookies.get(FLASH_COOKIE)
    assert planted
    second.client.cookies.set(FLASH_COOKIE, planted)
    assert _flash(Page.of(second.client.get("/users"))) == ""  # signed for the first session
    assert _flash(Page.of(first.client.get("/users"))).startswith("Ben Okafor")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("choose at least one CSM", "Choose at least one CSM."),
        ("Policy set to own.", "Policy set to own."),
        ("ana@example.com is inactive", "ana@example.com is inactive."),
        ("what now?", "What now?"),
    ],
)
def test_sentence_case_and_a_full_stop(text: str, shown: str) -> None:
    assert sentence(text) == shown


def test_every_empty_list_says_why_and_what_to_do_next(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        make_user(session, ANA, name="Ana Silva")
        segment = create_segment(session, name="Nobody", rule="tier = 9", actor=actor(session))
        segment_id = segment.id
    lead = as_role("admin", csm_seat=True)
    with read_session(engine) as session:
        lead_email = get_user(session, "admin0@example.com").email
    expected = {
        "/accounts": "No accounts yet. Add an account or import a CSV file",
        "/accounts?where=tier+%3D+1": "No account matches this filter.",
        "/assignment?rep=ana%40example.com": "Ana Silva owns no accounts yet. Assign some",
        "/assignment?rep=ana%40example.com&who=others": "No other CSM owns an account",
        "/assignment?rep=ana%40example.com&who=all&where=tier+%3D+1": "matches this rule",
        "/my-book": "You own no accounts yet. A manager assigns them",
        f"/segments/{segment_id}": "No account matches this segment's rule right now.",
        "/operations": "No ownership change yet. Assign accounts",
        "/operations?kind=transfer": "No operation matches these filters.",
        f"/csms/book?csm={ANA}&on=2000-01-01": "Choose another day or CSM above.",
    }
    for path, words in expected.items():
        page = Page.of(lead.client.get(path))
        assert page.status == 200, (path, page.error())
        text = page.text()
        assert words in text, (path, text[-400:])
        assert "none of 0" not in text, path
        assert "page 1 of 1" not in text, path
    assert lead_email  # the lead owns nothing: My book above was empty
