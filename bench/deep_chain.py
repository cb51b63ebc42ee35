"""A deep parent chain: how long setting every account of it to inherit takes.

Not a test: it measures. ``python -m bench.deep_chain --url sqlite:///deep.db --depth 5000``
builds a fresh chain (each account the child of the one before), gives the top a CSM, then
times one ``set_inherit_policy`` over the whole chain, which makes every account below the top
follow it. The walk that finds each account's source used to climb from every account to the
top: quadratic in the depth.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.concurrency import fresh_database
from bookwise.accounts.service import build_fields, create_account
from bookwise.assignments.inheritance import set_inherit_policy
from bookwise.assignments.predicates import account_ids
from bookwise.assignments.selection import AccountQuery, AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import make_engine, write_session
from bookwise.migrate import upgrade_database
from bookwise.models import Account
from bookwise.users.service import build_user, cli_user, create_user


def build_chain(session: Session, depth: int) -> None:
    """``depth`` accounts, each under the one before; the top owned by one CSM."""
    me = cli_user(session)
    csm = create_user(
        session, data=build_user(email="csm@example.com", name="CSM", csm_seat=True), actor=me
    )
    parent = None
    for n in range(depth):
        parent = create_account(
            session, fields=build_fields(name=f"Level {n}"), parent=parent, actor=me
        )
    top = session.scalar(select(Account.id).order_by(Account.id).limit(1))
    assign_accounts(session, selection=AccountRefs([f"#{top}"]), csms=[csm], actor=me)


def main() -> None:
    """Build the chain, then time the policy change over all of it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="sqlite:///FILE (removed first); default PostgreSQL")
    parser.add_argument("--depth", type=int, default=5000)
    args = parser.parse_args()
    if args.url:
        path = args.url.removeprefix("sqlite:///")
        import pathlib

        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(path + suffix).unlink(missing_ok=True)
        url = args.url
    else:
        url = fresh_database("postgresql://postgres@127.0.0.1:5432")
    engine = make_engine(url)
    upgrade_database(engine)
    with write_session(engine) as session:
        build_chain(session, args.depth)
    everyone = AccountQuery(ids=account_ids([]), description="the whole chain")
    with write_session(engine) as session:
        start = time.perf_counter()
        result = set_inherit_policy(
            session, selection=everyone, policy="inherit", actor=cli_user(session)
        )
        took = time.perf_counter() - start
    print(
        f"{engine.dialect.name}: depth {args.depth:,}: set-policy inherit over the chain took "
        f"{took:.2f} s ({result.accounts_changed:,} accounts changed)"
    )


if __name__ == "__main__":
    main()
