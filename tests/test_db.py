"""The statement time limit of bookwise.db: a statement past it is cancelled on both
databases, and the connection goes on without the limit afterwards."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bookwise.db import TIMEOUT_OPTION, is_statement_timeout, read_session

# Some seconds of work on either database, whatever the data.
SLOW = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
    "SELECT count(*) FROM c"
)


def test_a_statement_past_the_limit_is_cancelled_and_the_connection_goes_on(
    engine: Engine,
) -> None:
    with engine.connect() as conn:
        conn.execution_options(**{TIMEOUT_OPTION: 50})
        started = time.monotonic()
        with pytest.raises(DBAPIError) as caught, conn.begin():
            conn.execute(SLOW)
        assert is_statement_timeout(caught.value)
        assert time.monotonic() - started < 1
        # The same connection, in a transaction without the limit: the query runs to its end.
        conn.execution_options(**{TIMEOUT_OPTION: None})
        with conn.begin():
            assert conn.execute(SLOW).scalar() == 3_000_000


def test_a_read_session_with_a_limit_cancels_and_one_without_runs(engine: Engine) -> None:
    with pytest.raises(DBAPIError) as caught, read_session(engine, timeout_ms=50) as session:
        session.execute(SLOW)
    assert is_statement_timeout(caught.value)
    with read_session(engine) as session:
        assert session.execute(SLOW).scalar() == 3_000_000


def test_other_errors_are_not_timeouts(engine: Engine) -> None:
    with pytest.raises(DBAPIError) as caught, read_session(engine, timeout_ms=50) as session:
        session.execute(text("SELECT * FROM no_such_table"))
    assert not is_statement_timeout(caught.value)
