"""The accounts list (filter, sort, columns, pages, Assign reps) and one account's page."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.accounts.service import declare_attribute, get_account
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.roles import add_role
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import read_session, write_session
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.helpers import open_csms, table_counts
from tests.http.conftest import SignedIn
from tests.http.web.page import Page

ANA, BEN = "ana@example.com", "ben@example.com"


def make_accounts_and_csms(engine: Engine) -> None:
    """Ana and Ben (CSMs); ACME (parent) with ACME-FR (inherits) and ACME-DE (own); others."""
    with write_session(engine) as session:
        make_user(session, ANA, name="Ana Silva")
        make_user(session, BEN, name="Ben Okafor")
        declare_attribute(session, name="plan", type="text", actor=actor(session))
        acme = make_account(session, "Acme", external_id="ACME", mrr=5000, tier=1)
        acme.custom = {"plan": "gold"}
        make_account(
            session,
            "Acme France",
            external_id="ACME-FR",
            parent=acme,
            mrr=100,
            inherit_policy="inherit",
        )
        make_account(
            session, "Acme Germany", external_id="ACME-DE", parent=acme, inherit_policy="own"
        )
        for n in range(1, 6):
            make_account(session, f"Zeta {n}", external_id=f"Z{n}", mrr=n * 100, tier=2)


def test_the_list_filters_sorts_and_remembers_the_columns(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    viewer = as_role("viewer")
    listing = Page.of(
        viewer.client.get(
            "/accounts",
            params={"where": "tier = 2", "sort": "-mrr", "cols": ["mrr", "region"]},
        )
    )
    assert listing.status == 200
    names = [a.text() for a in listing.root.find("tbody").find_all("a")]
    assert names == ["Zeta 5", "Zeta 4", "Zeta 3", "Zeta 2", "Zeta 1"]
    headers = [th.text() for th in listing.root.find("thead").find_all("th")]
    assert headers == ["Account", "MRR ▼", "Region"]
    mrr_link = listing.root.find("th", aria_sort="descending").find("a").attrs["href"]
    assert "sort=mrr" in mrr_link
    assert "cols=mrr" in mrr_link
    assert "cols=region" in mrr_link
    assert "where=tier+%3D+2" in mrr_link
    chooser = listing.form("/accounts", index=1)
    assert ("cols", "mrr") in chooser.fields()
    assert ("cols", "tier") not in chooser.fields()
    rule_box = listing.root.find("textarea", name="where")
    assert rule_box.attrs["data-rule-check"] == "where-status"
    assert rule_box.text() == "tier = 2"


def test_pages_of_the_list(as_role: Callable[..., SignedIn], engine: Engine) -> None:
    with write_session(engine) as session:
        for n in range(55):
            make_account(session, f"Account {n:02}", external_id=f"P{n:02}")
    viewer = as_role("viewer")
    first = Page.of(viewer.client.get("/accounts"))
    assert "1–50 of 55" in first.root.find("nav", class_="pager").text()
    second = Page.of(viewer.client.get(first.root.find("a", rel="next").attrs["href"]))
    assert len(second.root.find("tbody").find_all("tr")) == 5
    assert "51–55 of 55" in second.text()


def test_a_bad_rule_or_sort_is_shown_on_the_page(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    viewer = as_role("viewer")
    bad = Page.of(viewer.client.get("/accounts", params={"where": "tier >> 2"}))
    assert bad.status == 422
    assert "invalid rule" in bad.error()
    assert "Traceback" not in bad.html
    assert bad.root.find("textarea", name="where").text() == "tier >> 2"
    sort = Page.of(viewer.client.get("/accounts", params={"sort": "colour"}))
    assert sort.status == 422
    assert "cannot sort by 'colour'" in sort.error()


def test_assign_reps_pop_up_assigns_to_two_csms(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    lead = as_role("manager")
    listing = Page.of(lead.client.get("/accounts", params={"where": "tier = 2"}))
    dialog = listing.root.find("dialog", id="assign-reps")
    assert {box.attrs["value"] for box in dialog.find_all("input", name="to")} == {ANA, BEN}
    opener = listing.root.find("button", data_open_dialog="assign-reps")
    assert opener.text() == "Assign reps…"
    data = listing.form("/accounts/preview").data(refs=["Z1", "Z2"], to=[ANA, BEN])
    preview = Page.of(lead.client.post("/accounts/preview", data=data))
    assert preview.status == 200
    assert "Assign 2 selected accounts to Ana Silva, Ben Okafor" in preview.text()
    assert "4 accounts would change" not in preview.text()  # 2 accounts, 4 owner rows
    assert "2 accounts would change" in preview.text()
    done = Page.of(
        lead.client.post("/operations/apply", data=preview.form("/operations/apply").data())
    )
    assert "2 accounts changed" in done.text()
    with read_session(engine) as session:
        for ref in ("Z1", "Z2"):
            assert open_csms(session, get_account(session, ref)) == {ANA, BEN}
        assert open_csms(session, get_account(session, "Z3")) == set()
    again = Page.of(lead.client.get("/accounts", params={"where": "tier = 2", "cols": "csms"}))
    rows = {r.find("a").text(): r.text() for r in again.root.find("tbody").find_all("tr")}
    assert ANA in rows["Zeta 1"]
    assert BEN in rows["Zeta 1"]


def test_assign_reps_to_every_matching_account(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    lead = as_role("manager")
    listing = Page.of(lead.client.get("/accounts", params={"where": "tier = 2"}))
    data = listing.form("/accounts/preview").data(scope="all", to=[BEN])
    preview = Page.of(lead.client.post("/accounts/preview", data=data))
    assert "5 accounts would change" in preview.text()
    assert "rule: tier = 2" in preview.text()


def test_assign_reps_without_a_csm_re_renders_the_list(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    lead = as_role("manager")
    listing = Page.of(lead.client.get("/accounts"))
    data = listing.form("/accounts/preview").data(refs=["Z1"])
    answer = Page.of(lead.client.post("/accounts/preview", data=data))
    assert answer.status == 422
    assert "choose at least one CSM" in answer.error()
    assert "Z1" in [
        box.attrs["value"] for box in answer.root.find_all("input", name="refs", checked="")
    ]


def test_the_account_page_shows_attributes_hierarchy_and_owners(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    with write_session(engine) as session:
        assign_accounts(
            session,
            selection=AccountRefs(["ACME"]),
            csms=[get_user(session, ANA)],
            actor=actor(session),
        )
    viewer = as_role("viewer")
    page = Page.of(viewer.client.get("/accounts/ACME"))
    assert page.status == 200
    text = page.text()
    assert "MRR 5,000.00" in text
    assert "plan gold" in text
    children = page.root.find("section", aria_labelledby="hierarchy-title")
    rows = {r.find("a").text(): r.text() for r in children.find("tbody").find_all("tr")}
    assert ANA in rows["Acme France"]  # inherits
    assert ANA not in rows["Acme Germany"]  # owns its own
    assert "top-level account" in text
    child = Page.of(viewer.client.get("/accounts/ACME-FR"))
    assert "follows its parent" in child.text()
    assert "Acme" in child.root.find("section", aria_labelledby="hierarchy-title").text()
    timeline = child.root.find("section", aria_labelledby="timeline-title").text()
    assert "inherited" in timeline
    by_id = Page.of(viewer.client.get(f"/accounts/%23{_id(engine, 'ACME')}"))
    assert by_id.root.find("h1").text().startswith("Acme")
    missing = Page.of(viewer.client.get("/accounts/NOPE"))
    assert missing.status == 404
    assert "no account" in missing.error()


def _id(engine: Engine, ref: str) -> int:
    with read_session(engine) as session:
        return get_account(session, ref).id


def test_add_and_remove_a_csm_on_the_account_page(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    lead = as_role("manager")
    page = Page.of(lead.client.get("/accounts/ACME"))
    added = Page.of(
        lead.client.post("/accounts/ACME/csms", data=page.form("/accounts/ACME/csms").data(csm=BEN))
    )
    assert added.status == 200
    assert "Ben Okafor: assigned" in added.text()
    assert "owner changes on children" in added.text()  # Acme France follows
    assert "Undo…" in [link.text() for link in added.root.find("main").find_all("a")]
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ACME")) == {BEN}
        assert open_csms(session, get_account(session, "ACME-FR")) == {BEN}
    remove = added.form("/accounts/ACME/csms/remove")
    assert remove.data()["csm"] == [BEN]
    removed = Page.of(lead.client.post("/accounts/ACME/csms/remove", data=remove.data()))
    assert "Ben Okafor: unassigned" in removed.text()
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ACME")) == set()
    unknown = Page.of(
        lead.client.post(
            "/accounts/ACME/csms", data=page.form("/accounts/ACME/csms").data(csm="x@y.z")
        )
    )
    assert unknown.status == 404
    assert "no user with email x@y.z" in unknown.error()


def preview_policy(signed: SignedIn, page: Page, ref: str, policy: str) -> Page:
    """Choose a policy on the account page and press "Preview the change…"."""
    action = f"/accounts/{ref}/policy/preview"
    form = page.form(action)
    return Page.of(signed.client.post(action, data=form.data(policy=policy)))


def apply_policy(signed: SignedIn, preview: Page, ref: str) -> Page:
    """Press Apply on a policy change's preview (it posts the fingerprint)."""
    action = f"/accounts/{ref}/policy"
    return Page.of(signed.client.post(action, data=preview.form(action).data()))


def change_policy(signed: SignedIn, page: Page, ref: str, policy: str) -> tuple[Page, Page]:
    """Preview a policy change from the account page, then Apply it: (preview, result)."""
    preview = preview_policy(signed, page, ref, policy)
    return preview, apply_policy(signed, preview, ref)


def test_switch_a_child_between_inherit_and_own(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    with write_session(engine) as session:
        assign_accounts(
            session,
            selection=AccountRefs(["ACME"]),
            csms=[get_user(session, ANA)],
            actor=actor(session),
        )
    lead = as_role("manager")
    page = Page.of(lead.client.get("/accounts/ACME-FR"))
    assert "/accounts/ACME-FR/csms" not in page.actions()  # it follows its parent
    preview, own = change_policy(lead, page, "ACME-FR", "own")
    assert "No owner would change" in preview.text()
    assert "Apply" in preview.buttons()  # the policy itself changes
    assert "Policy set to own." in own.text()
    assert "/accounts/ACME-FR/csms" in own.actions()  # now its CSMs can be changed here
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ACME-FR")) == {ANA}  # kept as its own
        assert get_account(session, "ACME-FR").inherit_policy == "own"
    _, back = change_policy(lead, own, "ACME-FR", "inherit")
    assert "Policy set to inherit." in back.text()
    form = back.form("/accounts/ACME-FR/policy/preview")
    bad = Page.of(
        lead.client.post("/accounts/ACME-FR/policy/preview", data=form.data(policy="maybe"))
    )
    assert bad.status == 422
    assert "policy must be inherit, own or default" in bad.error()


def test_setting_inherit_is_previewed_and_says_what_changes_here_and_below(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    """Issue 13, defect 12: no owner is removed without a preview, and the message counts
    this account's changes apart from its followers' (none here: no children)."""
    make_accounts_and_csms(engine)
    with write_session(engine) as session:
        for ref, csm in (("ACME", ANA), ("ACME-DE", BEN)):
            assign_accounts(
                session,
                selection=AccountRefs([ref]),
                csms=[get_user(session, csm)],
                actor=actor(session),
            )
        before = table_counts(session)
    lead = as_role("manager")
    page = Page.of(lead.client.get("/accounts/ACME-DE"))
    assert "/accounts/ACME-DE/policy" not in page.actions()  # only through the preview
    preview = preview_policy(lead, page, "ACME-DE", "inherit")
    assert "Preview: Set Acme Germany to inherit" in preview.text()
    assert "1 account would change" in preview.text()
    facts = preview.root.find("ul", class_="facts").text()
    assert "This account: Ben Okafor loses it, Ana Silva gets it." in facts
    assert "Children" not in facts
    with read_session(engine) as session:
        assert table_counts(session) == before  # the preview wrote nothing
    done = apply_policy(lead, preview, "ACME-DE")
    message = done.root.find("div", role="status").text()
    assert "Policy set to inherit. This account: Ben Okafor loses it, Ana Silva gets it." in message
    assert "children" not in message.lower()
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ACME-DE")) == {ANA}

    blind = Page.of(
        lead.client.post(
            "/accounts/ACME-DE/policy", data={"csrf_token": lead.csrf, "policy": "default"}
        )
    )
    assert blind.error() == ""  # no fingerprint: sent to the preview, nothing applied
    assert "Preview: Set Acme Germany to the installation default" in blind.text()
    with read_session(engine) as session:
        assert get_account(session, "ACME-DE").inherit_policy == "inherit"


def test_setting_inherit_counts_the_children_that_follow_apart(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    with write_session(engine) as session:
        germany = get_account(session, "ACME-DE")
        make_account(
            session, "Acme Berlin", external_id="ACME-BER", parent=germany, inherit_policy="inherit"
        )
        for ref, csm in (("ACME", ANA), ("ACME-DE", BEN)):
            assign_accounts(
                session,
                selection=AccountRefs([ref]),
                csms=[get_user(session, csm)],
                actor=actor(session),
            )
    lead = as_role("manager")
    page = Page.of(lead.client.get("/accounts/ACME-DE"))
    preview, done = change_policy(lead, page, "ACME-DE", "inherit")
    assert "2 accounts would change" in preview.text()
    facts = preview.root.find("ul", class_="facts").text()
    assert "This account: Ben Okafor loses it, Ana Silva gets it." in facts
    assert "Children that follow it: 1 owner added, 1 removed." in facts
    message = done.root.find("div", role="status").text()
    assert "Children that follow it: 1 owner added, 1 removed." in message
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ACME-BER")) == {ANA}


def test_a_policy_change_after_the_owners_changed_shows_a_fresh_preview(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_accounts_and_csms(engine)
    with write_session(engine) as session:
        assign_accounts(
            session,
            selection=AccountRefs(["ACME"]),
            csms=[get_user(session, ANA)],
            actor=actor(session),
        )
    lead = as_role("manager")
    page = Page.of(lead.client.get("/accounts/ACME-DE"))
    form = page.form("/accounts/ACME-DE/policy/preview")
    preview = Page.of(
        lead.client.post("/accounts/ACME-DE/policy/preview", data=form.data(policy="inherit"))
    )
    with write_session(engine) as session:  # meanwhile Ben is added to the parent
        assign_accounts(
            session,
            selection=AccountRefs(["ACME"]),
            csms=[get_user(session, BEN)],
            actor=actor(session),
        )
    stale = Page.of(
        lead.client.post(
            "/accounts/ACME-DE/policy", data=preview.form("/accounts/ACME-DE/policy").data()
        )
    )
    assert "changed since your preview" in stale.error()
    assert "This account: Ana Silva gets it, Ben Okafor gets it." in stale.text()
    with read_session(engine) as session:
        assert get_account(session, "ACME-DE").inherit_policy == "own"
        assert open_csms(session, get_account(session, "ACME-DE")) == set()


def test_the_list_in_another_role_shows_the_owners_in_that_role(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    """Issue 13, defect 3: ``role=account_manager`` shows (and flags) account managers."""
    make_accounts_and_csms(engine)
    with write_session(engine) as session:
        me = actor(session)
        add_role(session, name="account_manager", actor=me)
        mo = make_user(session, "mo@example.com")
        gone = make_user(session, "gone-am@example.com")
        ana = get_user(session, ANA)
        assign_accounts(session, selection=AccountRefs(["Z1", "Z2"]), csms=[ana], actor=me)
        assign_accounts(
            session, selection=AccountRefs(["Z1"]), csms=[mo], actor=me, role="account_manager"
        )
        assign_accounts(
            session, selection=AccountRefs(["Z2"]), csms=[gone], actor=me, role="account_manager"
        )
        deactivate_user(session, user=gone, actor=me, keep=True)
    viewer = as_role("viewer")
    listing = Page.of(
        viewer.client.get(
            "/accounts",
            params={"where": "tier = 2", "role": "account_manager", "cols": ["csms"]},
        )
    )
    assert listing.status == 200
    headers = [th.text() for th in listing.root.find("thead").find_all("th")]
    assert headers[-1] == "Owners (account_manager)"
    rows = {r.find("a").text(): r.text() for r in listing.root.find("tbody").find_all("tr")}
    assert "mo@example.com" in rows["Zeta 1"]
    assert ANA not in rows["Zeta 1"]
    assert "gone-am@example.com" in rows["Zeta 2"]
    assert "owner inactive" in rows["Zeta 2"]
    assert "owner inactive" not in rows["Zeta 1"]
    next_sort = listing.root.find("thead").find("a").attrs["href"]
    assert "role=account_manager" in next_sort
    unknown = Page.of(viewer.client.get("/accounts", params={"role": "nope"}))
    assert unknown.status == 404
    assert "no assignment role 'nope'" in unknown.error()
