"""A small, fixed book for the browser tests and the screenshots: same rows on every run.

``make_book(engine)`` commits a lead who can sign in, four CSMs, a viewer, two families whose
parents Michael owns (for the Custify recipe), a family of Ana's, Ben's book, and accounts
that no one owns. Every name, number and date is fixed, so screenshots do not churn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from playwright.sync_api import Page
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.auth.service import set_password
from bookwise.db import write_session
from bookwise.models import Account, User
from bookwise.users.service import build_user, cli_user, create_user, find_user
from tests.factories import make_account

PASSWORD = "correct horse battery"
LEAD = "priya@example.com"
VIEWER = "victor@example.com"
CSMS = {
    "michael@example.com": "Michael Chen",
    "ana@example.com": "Ana Silva",
    "ben@example.com": "Ben Okafor",
    "chloe@example.com": "Chloé Martin",
}

# (external id, name, parent, mrr, tier, health, region, renewal, owner)
Row = tuple[str, str, str | None, int, int, int, str, date, str | None]
ACCOUNTS: tuple[Row, ...] = (
    ("GLOBEX", "Globex Holdings", None, 12000, 1, 82, "EMEA", date(2027, 3, 31), "michael"),
    ("GLOBEX-FR", "Globex France", "GLOBEX", 3000, 2, 74, "EMEA", date(2027, 3, 31), None),
    ("GLOBEX-ES", "Globex Spain", "GLOBEX", 2500, 2, 61, "EMEA", date(2027, 3, 31), None),
    ("UMBRELLA", "Umbrella Group", None, 9400, 1, 55, "NA", date(2027, 1, 15), "michael"),
    ("UMBRELLA-LABS", "Umbrella Labs", "UMBRELLA", 1800, 3, 47, "NA", date(2027, 1, 15), None),
    ("INITRODE", "Initrode Corp", None, 7200, 1, 90, "NA", date(2027, 6, 30), "ana"),
    ("INITRODE-UK", "Initrode UK", "INITRODE", 1500, 2, 88, "EMEA", date(2027, 6, 30), "ana"),
    ("STARK", "Stark Industries", None, 15500, 1, 93, "NA", date(2027, 9, 1), "ana"),
    ("WAYNE", "Wayne Enterprises", None, 11000, 1, 68, "NA", date(2027, 2, 28), "ben"),
    ("TYRELL", "Tyrell Corporation", None, 6400, 2, 39, "APAC", date(2027, 4, 30), "ben"),
    ("WONKA", "Wonka Industries", None, 2100, 3, 77, "EMEA", date(2027, 5, 31), "ben"),
    ("INITECH", "Initech", None, 800, 3, 52, "NA", date(2027, 2, 1), None),
    ("HOOLI", "Hooli", None, 5300, 2, 44, "NA", date(2027, 8, 15), None),
    ("SOYLENT", "Soylent", None, 950, 3, 71, "APAC", date(2027, 7, 1), None),
    ("ACME", "Acme Corp", None, 4100, 2, 66, "NA", date(2027, 10, 31), None),
    ("CYBERDYNE", "Cyberdyne Systems", None, 3700, 2, 58, "NA", date(2027, 11, 30), None),
    ("VANDELAY", "Vandelay Industries", None, 650, 3, 81, "NA", date(2027, 12, 31), None),
    ("PIEDPIPER", "Pied Piper", None, 1200, 3, 35, "NA", date(2027, 3, 1), None),
)
UNOWNED = tuple(row[0] for row in ACCOUNTS if row[8] is None and row[2] is None)


@dataclass(frozen=True)
class Book:
    """What ``make_book`` committed: who signs in, and who owns what."""

    lead: str
    password: str
    csms: dict[str, str]

    def csm_name(self, first: str) -> str:
        """The display name of a CSM by their email's local part (``"michael"``)."""
        return self.csms[f"{first}@example.com"]


def _user(session: Session, email: str, name: str, *, role: str, seat: bool) -> User:
    data = build_user(email=email, name=name, role=role, csm_seat=seat)
    return create_user(session, data=data, actor=cli_user(session))


def make_book(engine: Engine) -> Book:
    """Commit the fixed book (users, passwords, accounts, owners) into ``engine``'s database."""
    with write_session(engine) as session:
        lead = _user(session, LEAD, "Priya Natarajan", role="admin", seat=False)
        set_password(session, user=lead, password=PASSWORD, actor=cli_user(session))
        _user(session, VIEWER, "Victor Hale", role="viewer", seat=False)
        for email, name in CSMS.items():
            _user(session, email, name, role="manager", seat=True)
        made: dict[str, Account] = {}
        for ref, name, parent, mrr, tier, health, region, renewal, _ in ACCOUNTS:
            made[ref] = make_account(
                session,
                name,
                parent=made[parent] if parent else None,
                external_id=ref,
                mrr=mrr,
                tier=tier,
                health_score=health,
                region=region,
                renewal_date=renewal,
            )
        for first in ("michael", "ana", "ben"):
            owned = [row[0] for row in ACCOUNTS if row[8] == first]
            csm = find_user(session, f"{first}@example.com")
            assert csm is not None
            assign_accounts(session, selection=AccountRefs(owned), csms=[csm], actor=lead)
    return Book(lead=LEAD, password=PASSWORD, csms=dict(CSMS))


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would, and wait for the start page."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
