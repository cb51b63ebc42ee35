"""The pages' writes of issue 15 send as many SQL statements for 200 accounts as for 10.

Take over, account create, edit and move (re-parent), the inheritance controls (a selection's
policy, the installation default) and the import's apply: each is timed in statements, never
in seconds, once with 10 accounts selected (or moved, or imported) and once with 200.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.assignments.inheritance import reconcile_inheritance
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_family_tree, make_user
from tests.helpers import count_statements
from tests.http.conftest import SignedIn
from tests.http.web.page import Page

ANA, BEN = "ana@example.com", "ben@example.com"


def build(engine: Engine, prefix: str, n: int) -> dict[str, list[str]]:
    """``n`` loose accounts Ben owns; a parent of Ben's with ``n`` inheriting children; a
    parent with ``n`` children of no policy (for the default); a second parent of Ana's."""
    with write_session(engine) as session:
        me, ana, ben = actor(session), get_user(session, ANA), get_user(session, BEN)
        loose, _ = make_family_tree(session, parents=n, children_each=0, prefix=f"{prefix}A")
        (family,), children = make_family_tree(
            session, parents=1, children_each=n, prefix=f"{prefix}F"
        )
        make_family_tree(session, parents=1, children_each=n, inherit=False, prefix=f"{prefix}D")
        make_account(session, f"{prefix} other parent", external_id=f"{prefix}Q")
        tops = [a.external_id or "" for a in loose] + [family.external_id or ""]
        assign_accounts(session, selection=AccountRefs(tops), csms=[ben], actor=me)
        assign_accounts(session, selection=AccountRefs([f"{prefix}Q"]), csms=[ana], actor=me)
        assign_accounts(session, selection=AccountRefs([f"{prefix}DP0"]), csms=[ana], actor=me)
        reconcile_inheritance(session, actor=me)
        return {
            "loose": [a.external_id or "" for a in loose],
            "family": [family.external_id or ""],
            "children": [c.external_id or "" for c in children],
        }


def counted(engine: Engine, send: Callable[[], object]) -> tuple[int, object]:
    """The statements ``send`` made the app run, and its answer."""
    with count_statements(engine) as log:
        answer = send()
    return log.count, answer


def preview_then_apply(
    engine: Engine, signed: SignedIn, url: str, data: dict[str, object], apply_url: str
) -> tuple[int, int]:
    """Statements of a preview and of pressing its Apply (which must then succeed)."""
    previewed, answer = counted(engine, lambda: signed.post(url, data=data))
    preview = Page.of(answer)
    assert preview.status == 200, preview.error()
    form = preview.form(apply_url).data()
    applied, done = counted(engine, lambda: signed.post(apply_url, data=form))
    assert "Done" in Page.of(done).text() or "changed" in Page.of(done).text(), url
    return previewed, applied


def writes(engine: Engine, signed: SignedIn, prefix: str, n: int) -> dict[str, object]:
    """The statements of every write path, on a world of size ``n``."""
    refs = build(engine, prefix, n)
    family = refs["family"][0]
    counts: dict[str, object] = {}
    counts["take over"] = preview_then_apply(
        engine,
        signed,
        "/assignment/preview",
        {"action": "take_over", "to": [ANA], "scope": "selected", "refs": refs["loose"]},
        "/operations/apply",
    )
    counts["move a subtree"] = preview_then_apply(
        engine,
        signed,
        f"/accounts/{family}/parent",
        {"parent": f"{prefix}Q"},
        f"/accounts/{family}/parent",
    )
    counts["selection's policy"] = preview_then_apply(
        engine,
        signed,
        "/accounts/policy",
        {"policy": "own", "scope": "selected", "refs": refs["children"]},
        "/accounts/policy",
    )
    counts["default"] = [
        preview_then_apply(
            engine,
            signed,
            "/accounts/default-policy",
            {"policy": policy},
            "/accounts/default-policy",
        )
        for policy in ("inherit", "own")
    ]
    edit = Page.of(signed.client.get(f"/accounts/{family}/edit")).form(f"/accounts/{family}/edit")
    counts["edit"], saved = counted(
        engine,
        lambda: signed.client.post(
            f"/accounts/{family}/edit",
            data=edit.data(name=f"{prefix} renamed", region="EMEA"),
            follow_redirects=False,
        ),
    )
    assert saved.headers["location"].endswith("done=saved")  # type: ignore[attr-defined]
    new = Page.of(signed.client.get("/accounts/new")).form("/accounts/new")
    counts["create under a parent"], added = counted(
        engine,
        lambda: signed.client.post(
            "/accounts/new",
            data=new.data(
                name=f"{prefix} new child",
                external_id=f"{prefix}NEW",
                parent=family,
                inherit_policy="inherit",
            ),
            follow_redirects=False,
        ),
    )
    assert added.status_code == 303  # type: ignore[attr-defined]
    counts["import apply"] = import_apply(engine, signed, prefix, n)
    return counts


def import_apply(engine: Engine, signed: SignedIn, prefix: str, n: int) -> int:
    """Statements of applying an uploaded file of ``n`` accounts, each given to Ana."""
    lines = "".join(f"{prefix}IMP{i},Imported {prefix} {i},{ANA}\n" for i in range(n))
    uploaded = signed.client.post(
        "/import",
        data={"csrf_token": signed.csrf, "kind": "accounts"},
        files={"file": ("accounts.csv", f"external_id,name,csms\n{lines}".encode(), "text/csv")},
        follow_redirects=False,
    )
    location = uploaded.headers["location"]
    assert signed.client.get(location).status_code == 200  # the preview
    applied, answer = counted(
        engine,
        lambda: signed.client.post(
            location + "/apply", data={"csrf_token": signed.csrf}, follow_redirects=False
        ),
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert f"{n:,} created" in Page.of(signed.client.get(location)).text()
    return applied


def test_web_writes_send_as_many_statements_for_200_accounts_as_for_10(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        make_user(session, ANA, name="Ana Silva")
        make_user(session, BEN, name="Ben Okafor")
    manager = as_role("manager")
    writes(engine, manager, "W", 3)  # warm: caches, templates and first-use queries
    small = writes(engine, manager, "S", 10)
    assert writes(engine, manager, "L", 200) == small
