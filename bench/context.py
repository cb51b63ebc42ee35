"""One benchmark target: a demo database, bookwise's engine on it, the floor's connection,
and the CSMs the scenarios act for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench.floor import FloorConnection
from bookwise.db import make_engine, read_session, write_session
from bookwise.models import User


@dataclass
class Target:
    """A database with demo data and everything the scenarios need to act on it."""

    url: str
    engine: Engine
    floor: FloorConnection
    accounts: int
    csm: str  # X: the CSM the per-CSM pages are for (a book of about accounts/200)
    other: str  # Y: the CSM a transfer moves X's book to
    csm_id: int
    other_id: int
    actor_id: int
    read_repeat: int
    write_repeat: int

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.floor.dialect

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read session on bookwise's engine."""
        with read_session(self.engine) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One committed write transaction on bookwise's engine."""
        with write_session(self.engine) as session:
            yield session

    def user(self, session: Session, user_id: int) -> User:
        """A user loaded in ``session``."""
        found = session.get(User, user_id)
        assert found is not None
        return found

    def close(self) -> None:
        """Release both connections."""
        self.floor.close()
        self.engine.dispose()


def open_target(url: str, *, read_repeat: int, write_repeat: int) -> Target:
    """Connect to a demo database and pick the CSMs: X's book is the one nearest
    accounts/200 (5,000 at 1M: the book a transfer moves), Y the smallest other book."""
    floor = FloorConnection(url)
    accounts = int(floor.value("SELECT count(*) FROM accounts"))
    books = floor.rows(
        "SELECT u.id, u.email, count(*) FROM users u JOIN assignments a ON a.user_id = u.id "
        "AND a.role = 'csm' AND a.ended_at IS NULL WHERE u.active AND u.csm_seat "
        "GROUP BY u.id, u.email ORDER BY count(*), u.id"
    )
    x = min(books, key=lambda book: (abs(book[2] - accounts / 200), book[0]))
    y = next(book for book in books if book[0] != x[0])
    actor = floor.value("SELECT id FROM users WHERE email = 'cli@bookwise.invalid'")
    return Target(
        url=url,
        engine=make_engine(url),
        floor=floor,
        accounts=accounts,
        csm=str(x[1]),
        other=str(y[1]),
        csm_id=int(x[0]),
        other_id=int(y[0]),
        actor_id=int(actor),
        read_repeat=read_repeat,
        write_repeat=write_repeat,
    )


def param(**values: Any) -> dict[str, Any]:
    """Parameters for floor SQL (a readable alias for dict)."""
    return values
