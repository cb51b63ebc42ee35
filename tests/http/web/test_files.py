"""Import and export on the web: upload → dry-run preview → apply exactly that file → result
with the error report; Download CSV on every list; post/redirect/get; roles; no file left."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.csvsafe import EXPORT_MARKER
from bookwise.db import read_session, write_session
from bookwise.exporting import write_accounts_csv
from bookwise.models import Account, Assignment, ImportUpload, ImportUploadChunk, User, utcnow
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.http.conftest import PASSWORD, SignedIn, sign_in
from tests.http.web.page import Page

ANA = "ana@example.com"
GOOD = (
    "Account ID,Account Name,MRR,Account Manager\n"
    "A-1,Acme,100,x\n"
    "A-2,Globex,12;5,x\n"  # a bad amount: the line fails
    "A-3,=1+1,300,x\n"
)


def upload(signed: SignedIn, text: str | bytes, *, kind: str = "accounts", **fields: str) -> object:
    """POST the import form as a browser does (multipart, the CSRF token in the form)."""
    body = text.encode() if isinstance(text, str) else text
    return signed.client.post(
        "/import",
        data={"csrf_token": signed.csrf, "kind": kind, **fields},
        files={"file": ("accounts.csv", body, "text/csv")},
        follow_redirects=False,
    )


def post_form(signed: SignedIn, url: str, **fields: str) -> object:
    """POST a page's form (CSRF token in the body)."""
    return signed.client.post(
        url, data={"csrf_token": signed.csrf, **fields}, follow_redirects=False
    )


def uploaded(engine: Engine) -> tuple[int, int]:
    """How many uploads and chunks the database keeps."""
    with read_session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(ImportUpload)) or 0,
            session.scalar(select(func.count()).select_from(ImportUploadChunk)) or 0,
        )


def account_names(engine: Engine) -> dict[str, str]:
    with read_session(engine) as session:
        return {a.external_id or "": a.name for a in session.scalars(select(Account))}


def test_upload_previews_then_apply_imports_exactly_that_file(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    manager = as_role("manager")
    response = upload(manager, GOOD)
    assert response.status_code == 303  # post/redirect/get
    preview_url = response.headers["location"]
    assert preview_url.startswith("/import/")
    assert account_names(engine) == {}  # nothing imported by the upload

    preview = Page.of(manager.client.get(preview_url))
    assert preview.status == 200
    text = preview.text()
    assert "Nothing has been imported yet" in text
    # The mapping, the ignored owner-like column and its warning, the dry run's counts.
    cells = [td.text() for td in preview.root.find_all("td")]
    assert cells[0:2] == ["Account ID", "external_id"]
    assert "Account Manager" in cells
    assert "looks like owners" in " ".join(cells)
    assert "owners unchanged: no owner column" in preview.error()
    assert "Account Manager=csms" in preview.error()
    counts = dict(
        zip(
            [dt.text() for dt in preview.root.find_all("dt")],
            [dd.text() for dd in preview.root.find_all("dd")],
            strict=False,
        )
    )
    assert counts["Would be created"] == "2"
    assert counts["Would fail"] == "1"
    assert "12;5" in text  # the first problems are listed
    # A refresh of the preview imports nothing either.
    assert manager.client.get(preview_url).status_code == 200
    assert account_names(engine) == {}

    applied = post_form(manager, preview_url + "/apply")
    assert applied.status_code == 303
    assert applied.headers["location"] == preview_url
    assert account_names(engine) == {"A-1": "Acme", "A-3": "=1+1"}
    result = Page.of(manager.client.get(preview_url))
    assert "Imported accounts from accounts.csv" in result.text()
    assert "2 created" in result.text()
    # The file is gone, only its report and error CSV are kept.
    with read_session(engine) as session:
        parts = set(session.scalars(select(ImportUploadChunk.part)))
    assert parts == {"errors"}

    # Applying again (a resubmitted form, a second click) imports nothing more.
    with write_session(engine) as session:
        session.execute(update(Account).values(name="renamed"))
    assert post_form(manager, preview_url + "/apply").status_code == 303
    assert set(account_names(engine).values()) == {"renamed"}


def test_error_report_is_every_problem_formula_safe(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    manager = as_role("manager")
    lines = ["external_id,name,mrr"] + [f'E-{n},=HYPERLINK("x"),bad{n}' for n in range(30)]
    location = upload(manager, "\n".join(lines) + "\n").headers["location"]
    # Before the apply: the dry run's problems.
    before = manager.client.get(location + "/errors.csv")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/csv")
    assert "attachment" in before.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(before.text)))
    assert rows[0] == ["line", "column", "value", "reason"]
    assert len(rows) == 31  # all 30, not only the 20 on the page
    post_form(manager, location + "/apply")
    after = manager.client.get(location + "/errors.csv")
    rows = list(csv.reader(io.StringIO(after.text)))
    assert len(rows) == 31
    assert all(not row[2].startswith(("=", "+", "-", "@")) for row in rows[1:])
    page = Page.of(manager.client.get(location))
    assert "The first 20 of 30" in page.text()


def test_cancel_deletes_the_file_and_a_gone_upload_is_a_clear_404(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    manager = as_role("manager")
    location = upload(manager, GOOD).headers["location"]
    assert uploaded(engine)[0] == 1
    cancelled = post_form(manager, location + "/cancel")
    assert cancelled.status_code == 303
    assert uploaded(engine) == (0, 0)
    assert "was not imported" in Page.of(manager.client.get(cancelled.headers["location"])).text()
    gone = Page.of(manager.client.get(location))
    assert gone.status == 404
    assert "upload the file again" in gone.text()
    assert post_form(manager, location + "/apply").status_code == 404
    assert account_names(engine) == {}


def test_an_abandoned_upload_is_deleted_by_the_next_one(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    manager = as_role("manager")
    old = upload(manager, GOOD).headers["location"]
    with write_session(engine) as session:
        session.execute(update(ImportUpload).values(created_at=utcnow() - timedelta(hours=3)))
    assert manager.client.get(old).status_code == 404  # expired already
    upload(manager, GOOD)
    assert uploaded(engine) == (1, 1)


def test_someone_elses_upload_is_not_found(as_role: Callable[..., SignedIn]) -> None:
    location = upload(as_role("manager"), GOOD).headers["location"]
    other = as_role("admin")
    assert other.client.get(location).status_code == 404
    assert post_form(other, location + "/apply").status_code == 404


def test_options_change_how_the_kept_file_is_read(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    manager = as_role("manager")
    with write_session(engine) as session:
        make_user(session, ANA, name="Ana Silva")
    location = upload(
        manager, "Account ID,Account Name,Account Manager\nA-1,Acme,ana@example.com\n"
    ).headers["location"]
    changed = post_form(manager, location + "/options", map="Account Manager=csms")
    assert changed.status_code == 303
    preview = Page.of(manager.client.get(location))
    assert "owners unchanged" not in preview.error()
    assert preview.form(location + "/options").data()["map"] == ["Account Manager=csms"]
    post_form(manager, location + "/apply")
    with read_session(engine) as session:
        owners = session.scalars(
            select(User.email)
            .join(Assignment, Assignment.user_id == User.id)
            .where(Assignment.ended_at.is_(None))
        ).all()
    assert owners == [ANA]
    result = Page.of(manager.client.get(location))
    assert "operation #" in result.text()


def test_unreadable_file_shows_why_and_offers_to_read_it_differently(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    manager = as_role("manager")
    location = upload(manager, "external_id,name\nA-1,Caf\xe9\n".encode("cp1252")).headers[
        "location"
    ]
    preview = Page.of(manager.client.get(location))
    assert "cp1252" in preview.error()
    assert "Import this file" not in preview.buttons()
    post_form(manager, location + "/options", encoding="cp1252")
    preview = Page.of(manager.client.get(location))
    assert "Import this file" in preview.buttons()
    post_form(manager, location + "/apply")
    assert account_names(engine) == {"A-1": "Café"}


def test_bad_options_or_no_file_keep_the_form(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    manager = as_role("manager")
    bad = Page.of(upload(manager, GOOD, encoding="base64"))
    assert bad.status == 422
    assert "base64" in bad.error()
    assert bad.form("/import").data()["encoding"] == ["base64"]
    none = manager.client.post(
        "/import", data={"csrf_token": manager.csrf, "kind": "accounts"}, follow_redirects=False
    )
    assert none.status_code == 422
    assert "choose the CSV file" in Page.of(none).error()
    assert uploaded(engine) == (0, 0)


def test_users_import_previews_and_applies(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    admin = as_role("admin")
    text = "Email,Name,Role\nnew@example.com,New Person,viewer\nbad,Bad,viewer\n"
    location = upload(admin, text, kind="users").headers["location"]
    preview = Page.of(admin.client.get(location))
    assert "Preview: import users" in preview.text()
    with read_session(engine) as session:
        assert session.scalar(select(User).where(User.email == "new@example.com")) is None
    post_form(admin, location + "/apply")
    with read_session(engine) as session:
        assert (
            session.scalar(select(User.name).where(User.email == "new@example.com")) == "New Person"
        )
    result = Page.of(admin.client.get(location))
    assert "1 created" in result.text()
    assert "1 failed" in result.text()
    errors = admin.client.get(location + "/errors.csv").text
    assert "bad" in errors


@pytest.mark.parametrize("role", ["viewer"])
def test_only_managers_import(as_role: Callable[..., SignedIn], role: str) -> None:
    viewer = as_role(role)
    assert viewer.client.get("/import").status_code == 403
    assert upload(viewer, GOOD).status_code == 403
    assert 'href="/import"' not in viewer.client.get("/accounts").text
    assert 'href="/import"' in as_role("manager").client.get("/accounts").text


def test_the_upload_limit_is_the_upload_one_not_the_body_one(
    as_role: Callable[..., SignedIn], monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """A file over BOOKWISE_MAX_BODY_MIB (1) but within BOOKWISE_MAX_UPLOAD_MIB is taken;
    one over the upload limit is a 413 and nothing is kept."""
    from bookwise.config import get_settings

    monkeypatch.setenv("BOOKWISE_MAX_UPLOAD_MIB", "2")
    get_settings.cache_clear()
    try:
        manager = as_role("manager")
        rows = "".join(f"X-{n},Account {n}\n" for n in range(70_000))  # about 1.5 MiB
        assert upload(manager, "external_id,name\n" + rows).status_code == 303
        assert uploaded(engine)[0] == 1
        refused = upload(manager, "external_id,name\n" + rows + rows)
        assert refused.status_code == 413
    finally:
        get_settings.cache_clear()
    assert uploaded(engine)[0] == 1


def make_book(engine: Engine) -> None:
    """Ana owns ACME and =EVIL (a formula-like name); INITECH is no-one's; a segment of tier 1."""
    from bookwise.segments.service import create_segment

    with write_session(engine) as session:
        make_user(session, ANA, name="Ana Silva")
        make_account(session, "Acme", external_id="ACME", tier=1)
        make_account(session, "=EVIL()", external_id="EVIL", tier=2)
        make_account(session, "Initech", external_id="INITECH", tier=1)
        assign_accounts(
            session,
            selection=AccountRefs(["ACME", "EVIL"]),
            csms=[get_user(session, ANA)],
            actor=actor(session),
        )
        create_segment(
            session, name="Tier one", rule="tier = 1", description="", actor=actor(session)
        )


def download(signed: SignedIn, link: str) -> list[list[str]]:
    """Follow a Download CSV link: a text/csv attachment, as rows (marker line dropped)."""
    response = signed.client.get(link)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    lines = response.text.splitlines()
    assert lines[0] == EXPORT_MARKER
    return list(csv.reader(lines[1:]))


def download_link(html: str) -> str:
    """The page's Download CSV link."""
    links = [
        a.attrs["href"]
        for a in Page.of(_Html(html)).root.find_all("a")
        if a.text() == "Download CSV"
    ]
    assert len(links) == 1, links
    return links[0]


def test_accounts_list_downloads_what_it_shows_as_the_cli_exports_it(
    as_role: Callable[..., SignedIn], engine: Engine, tmp_path: Path
) -> None:
    make_book(engine)
    viewer = as_role("viewer")
    page = viewer.client.get("/accounts", params={"where": "tier = 1", "sort": "-name"})
    link = download_link(page.text)
    assert link.startswith("/export/accounts.csv?")
    rows = download(viewer, link)
    assert [row[1] for row in rows[1:]] == ["Initech", "Acme"]  # the filter and the order
    # The same file as `bookwise export accounts --where 'tier = 1' --sort -name` writes.
    from bookwise.segments.selection import AccountFilter

    out = io.StringIO(newline="")
    with read_session(engine) as session:
        where, _ = AccountFilter(where="tier = 1").conditions(session)
        write_accounts_csv(session, out, where=where, sort="-name")
    assert viewer.client.get(link).text == out.getvalue()


def test_book_segment_and_my_book_download_their_accounts(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_book(engine)
    viewer = as_role("viewer")
    book = download(
        viewer, download_link(viewer.client.get("/assignment", params={"rep": ANA}).text)
    )
    assert sorted(row[0] for row in book[1:]) == ["ACME", "EVIL"]
    # Formula-safe: the name a spreadsheet would run is prefixed with '.
    assert "'=EVIL()" in [row[1] for row in book[1:]]
    with read_session(engine) as session:
        from bookwise.models import Segment

        segment_id = session.scalar(select(Segment.id))
    members = download(viewer, download_link(viewer.client.get(f"/segments/{segment_id}").text))
    assert sorted(row[0] for row in members[1:]) == ["ACME", "INITECH"]
    # My book: the signed-in CSM's own accounts, whatever the link says about anyone else.
    with write_session(engine) as session:
        from bookwise.auth.service import set_password
        from bookwise.users.service import cli_user

        set_password(
            session, user=get_user(session, ANA), password=PASSWORD, actor=cli_user(session)
        )
    ana = sign_in(viewer.client.app, ANA)  # type: ignore[arg-type]
    mine = download(ana, download_link(ana.client.get("/my-book").text))
    assert sorted(row[0] for row in mine[1:]) == ["ACME", "EVIL"]
    assert [row[0] for row in download(viewer, "/export/accounts.csv?mine=true")[1:]] == []


def test_download_needs_sign_in(client: object) -> None:
    response = client.get("/export/accounts.csv", follow_redirects=False)  # type: ignore[attr-defined]
    assert response.status_code in (303, 401)


class _Html:
    """A response-like holder of a page's HTML (for Page.of)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.status_code = 200
