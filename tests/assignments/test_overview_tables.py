"""The overview reads its columns by name, without the models (so `bookwise csms` starts
without the ORM): each name must be a column of the model's table, of the same kind of type."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, TableClause

from bookwise.assignments import overview
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import read_connection, read_session, write_session
from bookwise.models import ACCOUNT_COUNT_ID, Base
from tests.factories import actor, make_accounts, make_user

CLAUSES = [
    overview.USERS,
    overview.BOOK_COUNTS,
    overview.COVERAGE_COUNTS,
    overview.ACCOUNT_COUNT,
]


@pytest.mark.parametrize("clause", CLAUSES, ids=lambda clause: clause.name)
def test_each_column_read_is_a_column_of_the_model(clause: TableClause) -> None:
    table = Base.metadata.tables[clause.name]
    for column in clause.c:
        assert column.name in table.c, f"{clause.name}.{column.name} is not in the models"
        model_type = table.c[column.name].type
        assert column.type._type_affinity is model_type._type_affinity, (
            f"{clause.name}.{column.name}: {column.type!r} here, {model_type!r} in the models"
        )


def test_the_account_count_row_is_the_models_one() -> None:
    assert overview.ACCOUNT_COUNT_ID == ACCOUNT_COUNT_ID


def test_the_overview_reads_through_a_bare_connection(engine: Engine) -> None:
    # What `bookwise csms` does: the same figures as through a session, the ORM not involved.
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com", name="Ana Silva")
        make_user(session, "ben@example.com", name="Ben Okafor")
        accounts = make_accounts(session, 3, mrr="100")
        assign_accounts(
            session,
            selection=AccountRefs([a.id for a in accounts[:2]]),
            csms=[ana],
            actor=actor(session),
        )
    with read_connection(engine) as connection:
        counted = overview.csm_overview(connection)
    with read_session(engine) as session:
        assert overview.csm_overview(session) == counted
    books = {row.email: (row.accounts, row.mrr) for row in counted.items}
    assert books["ana@example.com"] == (2, Decimal("200.00"))
    assert books["ben@example.com"] == (0, Decimal("0.00"))
    assert (counted.team_accounts, counted.team_mrr) == (2, Decimal("200.00"))
    assert counted.unassigned_accounts == 1
