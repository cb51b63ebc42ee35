"""``generate_demo``: a realistic, seeded book of accounts, CSMs and owners in one transaction.

The rows keep every invariant of the normal ownership write path: all assignments belong to
one ``demo`` operation by the built-in CLI user and start at its time; each owned account has
``ownership_version = 1`` and one ``ownership_changes`` row; an inheriting child owns exactly
its parent's CSMs (source ``inherited``), so ``bookwise inherit`` finds nothing to change.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, exists, func, insert, select, text, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bookwise.accounts.hierarchy import recount_children
from bookwise.accounts.history import record_value_changes
from bookwise.assignments.counters import recount_book_totals
from bookwise.assignments.plan import default_policy
from bookwise.dates import today as local_today
from bookwise.db import is_sqlite
from bookwise.demo.names import person_names
from bookwise.demo.past import (
    OwnershipPast,
    past_start,
    write_ownership_past,
    write_value_past,
)
from bookwise.demo.shape import (
    ACCOUNT_COLUMNS,
    ASSIGNMENT_COLUMNS,
    CHANGE_COLUMNS,
    TWO_CSM_RATE,
    TWO_CSM_RATE_BENCHMARK,
    BookBuilder,
    BookSpec,
    Tally,
)
from bookwise.demo.writer import (
    bulk_load,
    bulk_writer,
    finish_load,
    indexes_deferred,
    load_session,
)
from bookwise.errors import Conflict, InvalidInput
from bookwise.models import Account, Operation, User
from bookwise.models.user import fold_name
from bookwise.money import currency_decimals
from bookwise.users.service import cli_user

BATCH_SIZE = 25_000
STANDARD_CSMS = 12
BENCHMARK_USERS = 200  # 190 active with a seat, 5 active without, 5 inactive
BENCHMARK_NO_SEAT_ROLES = ("admin", "viewer", "manager", "manager", "viewer")
USERS_SINCE = datetime(2019, 1, 1, tzinfo=UTC)
OPEN_VALUE_INDEX = "uq_account_values_open"


class DemoSummary(BaseModel):
    """What ``generate_demo`` wrote and how long it took."""

    accounts: int
    users: int
    assignments: int
    seconds: float


@dataclass(frozen=True)
class DemoUser:
    """A person in the demo team."""

    name: str
    email: str
    role: str
    csm_seat: bool
    active: bool


def generate_demo(
    engine: Engine,
    *,
    accounts: int,
    seed: int = 42,
    benchmark: bool = False,
    progress: Callable[[int, int], None] | None = None,
    today: date | None = None,
) -> DemoSummary:
    """Fill an initialised, empty database with a seeded demo book (Conflict if not empty)."""
    if accounts < 1:
        raise InvalidInput(f"accounts: {accounts} is too few; generate at least 1 account")
    started = time.perf_counter()
    with load_session(engine) as session:
        refuse_non_empty(session)
        actor = cli_user(session)
        day = today or local_today()
        # The demo's book was loaded when its past year began; its later moves follow.
        now = past_start(day)
        team = demo_team(random.Random(f"bookwise-demo-users-{seed}"), benchmark=benchmark)
        csm_ids = insert_users(session, team)
        leaver_ids = list(
            session.scalars(
                select(User.id)
                .where(User.active.is_(False), User.csm_seat.is_(True), User.is_system.is_(False))
                .order_by(User.id)
            )
        )
        parameters = {"accounts": accounts, "seed": seed, "benchmark": benchmark}
        operation_id = insert_operation(
            session, actor=actor, now=now, kind="demo", parameters=parameters
        )
        spec = BookSpec(
            accounts=accounts,
            seed=seed,
            csm_ids=csm_ids,
            two_csm_rate=TWO_CSM_RATE_BENCHMARK if benchmark else TWO_CSM_RATE,
            operation_id=operation_id,
            actor_id=actor.id,
            started_at=storage_timestamp(now),
            today=day,
            minor_per_unit=10 ** currency_decimals(),
            child_policy="own" if default_policy(session) == "inherit" else None,
        )

        def new_operation(kind: str, at: datetime, details: dict[str, object]) -> int:
            return insert_operation(session, actor=actor, now=at, kind=kind, parameters=details)

        def past() -> OwnershipPast:
            return write_ownership_past(
                session,
                seed=seed,
                today=day,
                actor_id=actor.id,
                demo_operation_id=operation_id,
                csm_ids=csm_ids,
                leaver_ids=leaver_ids,
                new_operation=new_operation,
            )

        tally, moved = write_book(session, spec, progress, past)
        # A year of health, MRR and lifecycle changes ending in today's values (demo.past),
        # then every other field's history starts at its account's creation, in one
        # statement (it skips the fields that already have an open row, a look-up in the
        # open-row index, which is kept; the other two are built once afterwards).
        with indexes_deferred(session, ("account_values",), keep=(OPEN_VALUE_INDEX,)):
            write_value_past(
                session, seed=seed, today=spec.today, actor_id=actor.id, operation_id=operation_id
            )
            record_value_changes(
                session,
                accounts=None,
                actor_id=actor.id,
                source="demo",
                now=None,
                operation_id=operation_id,
            )
        record_counts(session, operation_id, tally, moved, users=len(team))
        # The load wrote no child counts: count them before ANALYZE, whose statistics would
        # otherwise say that no account has children (is_parent then planned for 1 row).
        recount_children(session, actor=actor)
        finish_load(session)
        # The load ran without the counter triggers: count once, set-based (after ANALYZE,
        # so PostgreSQL plans the grouping with the loaded tables' statistics).
        recount_book_totals(session, actor=actor)
    return DemoSummary(
        accounts=tally.accounts,
        users=len(team),
        assignments=tally.assignments,
        seconds=round(time.perf_counter() - started, 3),
    )


def refuse_non_empty(session: Session) -> None:
    """Raise Conflict when the database already holds accounts (after locking the table)."""
    if not is_sqlite(session):
        # Two concurrent demo runs: the second waits here, then sees the first one's accounts.
        session.execute(text("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE"))
    if session.scalar(select(exists().where(Account.id.is_not(None)))):
        raise Conflict(
            "the database already holds accounts; demo data goes only into an empty database "
            "(point BOOKWISE_DATABASE_URL at a new file or database and run `bookwise init`)"
        )


def demo_team(rng: random.Random, *, benchmark: bool) -> list[DemoUser]:
    """The demo's people: CSMs, plus an admin, a viewer and former CSMs (benchmark: 200)."""
    if benchmark:
        people = person_names(rng, BENCHMARK_USERS)
        seats = [DemoUser(n, e, "manager", True, True) for n, e in people[:190]]
        no_seat = [
            DemoUser(n, e, role, False, True)
            for (n, e), role in zip(people[190:195], BENCHMARK_NO_SEAT_ROLES, strict=True)
        ]
        former = [DemoUser(n, e, "manager", True, False) for n, e in people[195:]]
        return [*seats, *no_seat, *former]
    people = person_names(rng, STANDARD_CSMS + 3)
    csms = [DemoUser(n, e, "manager", True, True) for n, e in people[:STANDARD_CSMS]]
    admin, viewer, leaver = people[STANDARD_CSMS:]
    return [
        *csms,
        DemoUser(*admin, role="admin", csm_seat=False, active=True),
        DemoUser(*viewer, role="viewer", csm_seat=False, active=True),
        DemoUser(*leaver, role="manager", csm_seat=True, active=False),
    ]


def insert_users(session: Session, team: list[DemoUser]) -> list[int]:
    """Insert the team (Conflict on an email already taken); return the ids of active CSMs."""
    emails = [person.email.casefold() for person in team]
    taken = list(session.scalars(select(User.email).where(User.email_fold.in_(emails))))
    if taken:
        raise Conflict(f"demo users already exist: {', '.join(sorted(taken))}")
    first_id = next_id(session, User.id)
    rng = random.Random(len(team))  # join dates: deterministic, independent of the seed
    rows: list[dict[str, Any]] = []
    for offset, person in enumerate(team):
        joined = USERS_SINCE + timedelta(days=rng.randrange(1500))
        rows.append(
            {
                "id": first_id + offset,
                "email": person.email,
                "email_fold": person.email.casefold(),
                "name": person.name,
                "name_fold": fold_name(person.name),
                "role": person.role,
                "csm_seat": person.csm_seat,
                "active": person.active,
                "is_system": False,
                "created_at": joined,
                "deactivated_at": None if person.active else joined + timedelta(days=400),
            }
        )
    session.execute(insert(User), rows)
    return [row["id"] for row in rows if row["active"] and row["csm_seat"]]


def insert_operation(
    session: Session,
    *,
    actor: User,
    now: datetime,
    kind: str,
    parameters: Mapping[str, object],
) -> int:
    """An operation of the demo: the ``demo`` load, or a move of its past year."""
    operation_id = next_id(session, Operation.id)
    session.execute(
        insert(Operation).values(
            id=operation_id,
            kind=kind,
            actor_id=actor.id,
            created_at=now,
            parameters=dict(parameters),
            counts={},
            accounts_changed=0,
        )
    )
    return operation_id


def write_book(
    session: Session,
    spec: BookSpec,
    progress: Callable[[int, int], None] | None,
    past: Callable[[], OwnershipPast],
) -> tuple[Tally, OwnershipPast]:
    """Stream the book into the database batch by batch (parents always precede children),
    then give its owners their past, still inside the load (no counter triggers)."""
    builder = BookBuilder(spec)
    write = bulk_writer(session)
    with bulk_load(session):
        for batch in builder.batches(BATCH_SIZE):
            write("accounts", ACCOUNT_COLUMNS, batch.accounts)
            write("assignments", ASSIGNMENT_COLUMNS, batch.assignments)
            write("ownership_changes", CHANGE_COLUMNS, batch.changes)
            if progress is not None:
                progress(builder.tally.accounts, spec.accounts)
        moved = past()
    return builder.tally, moved


def record_counts(
    session: Session, operation_id: int, tally: Tally, moved: OwnershipPast, *, users: int
) -> None:
    """Store on each operation what it opened and closed, as the normal write path does."""
    session.execute(
        update(Operation)
        .where(Operation.id == operation_id)
        .values(
            accounts_changed=tally.owned,
            counts={
                "opened": tally.assignments + moved.predecessors,
                "closed": 0,
                "accounts_created": tally.accounts,
                "users_created": users,
            },
        )
    )
    for move_id, (accounts, opened, closed) in moved.moves.items():
        session.execute(
            update(Operation)
            .where(Operation.id == move_id)
            .values(accounts_changed=accounts, counts={"opened": opened, "closed": closed})
        )


def next_id(session: Session, id_column: InstrumentedAttribute[int]) -> int:
    """One past the largest id (ids are chosen here, so every database gets the same ones)."""
    return int(session.scalar(select(func.coalesce(func.max(id_column), 0))) or 0) + 1


def storage_timestamp(moment: datetime) -> str:
    """``moment`` as naive UTC text in SQLAlchemy's SQLite format (PostgreSQL parses it too)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
