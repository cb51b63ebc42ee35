"""Scenario 4: bulk ownership writes, bookwise's services beside hand-written SQL.

Each floor writes what bookwise writes, so the ratio compares equal work: the operation row,
the assignment rows opened and closed (with source, reason, actor, operation and time), the
same change for every inheriting descendant (recursive CTE), one version bump and one
``ownership_changes`` row per account changed. It plans into a temporary table first and
then applies: of the shapes written by hand while bookwise was designed, the fastest. After a
run both sides are checked to leave the same ownership state (``ownership_digest``) and
everything is put back (``Checkpoint.restore``, not timed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.context import Target
from bench.floor import Checkpoint, ownership_digest
from bench.harness import Pair
from bookwise.assignments.inheritance import reconcile_inheritance
from bookwise.assignments.plan import default_policy
from bookwise.assignments.predicates import account_ids
from bookwise.assignments.selection import AccountQuery
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.demo.generator import storage_timestamp
from bookwise.models import utcnow
from bookwise.segments.rules import compile_where

RULE = "tier = 1 and health_score < 50"
RULE_SQL = "c.tier = 1 AND c.health_score < 50"
OPEN_CSM = "role = 'csm' AND ended_at IS NULL"
INHERIT_REASON = "inherited from parent"


def inherits(alias: str) -> str:
    """SQL: ``alias`` follows its parent (the floor's spelling of ``plan.inherits``)."""
    return (
        f"({alias}.parent_id IS NOT NULL AND coalesce({alias}.inherit_policy, :policy) = 'inherit')"
    )


CHANGES_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS f_change (account_id INTEGER NOT NULL, "
    "user_id INTEGER NOT NULL, action VARCHAR(5) NOT NULL, source VARCHAR(20) NOT NULL, "
    "reason VARCHAR(500) NOT NULL, assignment_id INTEGER, is_primary BOOLEAN NOT NULL)"
)
SCOPE_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS f_scope (account_id INTEGER PRIMARY KEY, "
    "source_id INTEGER NOT NULL)"
)


def descendants(start: str) -> str:
    """A recursive CTE ``d(id)``: the accounts of ``start`` and their inheriting descendants."""
    return (
        f"WITH RECURSIVE d(id) AS ({start} UNION "
        f"SELECT k.id FROM accounts k JOIN d ON k.parent_id = d.id WHERE {inherits('k')})"
    )


class Floor:
    """The hand-written write path: begin, plan into f_change, apply, version, commit."""

    def __init__(self, t: Target) -> None:
        self.t = t
        with t.reading() as session:
            self.policy = default_policy(session)
        t.floor.write([CHANGES_TABLE, SCOPE_TABLE])

    def run(self, kind: str, plan: Callable[[Callable[..., Any], dict[str, Any]], None]) -> None:
        """One operation: ``plan`` fills f_change; the rest is the same for every kind."""
        now = utcnow()
        stamp: Any = storage_timestamp(now) if self.t.floor.sqlite else now
        json_cast = "" if self.t.floor.sqlite else "::jsonb"
        with self.t.floor.transaction() as run:
            op = run(
                "INSERT INTO operations (kind, actor_id, created_at, parameters, counts, "
                f"accounts_changed) VALUES (:kind, :actor, :now, :params{json_cast}, "
                f"'{{}}'{json_cast}, 0) RETURNING id",
                {"kind": kind, "actor": self.t.actor_id, "now": stamp, "params": "{}"},
            ).fetchone()[0]
            p = {"op": op, "now": stamp, "actor": self.t.actor_id, "policy": self.policy}
            run("DELETE FROM f_change")
            plan(run, p)
            run(
                "UPDATE assignments SET ended_at = :now, ended_operation_id = :op WHERE id IN "
                "(SELECT assignment_id FROM f_change WHERE action = 'close')",
                p,
            )
            run(
                "INSERT INTO assignments (account_id, user_id, role, is_primary, source, reason,"
                " actor_id, operation_id, started_at) SELECT account_id, user_id, 'csm', "
                "is_primary, source, reason, :actor, :op, :now FROM f_change "
                "WHERE action = 'open'",
                p,
            )
            changed = "SELECT DISTINCT account_id FROM f_change"
            run(
                "UPDATE accounts SET ownership_version = ownership_version + 1 "
                f"WHERE id IN ({changed})",
                p,
            )
            run(
                "INSERT INTO ownership_changes (account_id, version, operation_id, changed_at) "
                f"SELECT id, ownership_version, :op, :now FROM accounts WHERE id IN ({changed})",
                p,
            )
            counts = run(
                "SELECT count(DISTINCT account_id), sum(CASE WHEN action = 'open' THEN 1 "
                "ELSE 0 END), sum(CASE WHEN action = 'close' THEN 1 ELSE 0 END) FROM f_change"
            ).fetchone()
            run(
                f"UPDATE operations SET counts = :counts{json_cast}, accounts_changed = :n "
                "WHERE id = :op",
                {
                    "op": op,
                    "n": counts[0],
                    "counts": json.dumps({"opened": counts[1] or 0, "closed": counts[2] or 0}),
                },
            )
            run("DELETE FROM f_change")


def plan_assign(t: Target) -> Callable[[Callable[..., Any], dict[str, Any]], None]:
    """Open X on every matching account that does not inherit and lacks X, then on every
    inheriting descendant of those."""

    def plan(run: Callable[..., Any], p: dict[str, Any]) -> None:
        p = {**p, "x": t.csm_id}
        run(
            "INSERT INTO f_change (account_id, user_id, action, source, reason, is_primary) "
            f"SELECT c.id, :x, 'open', 'manual', '', false FROM accounts c WHERE {RULE_SQL} "
            f"AND NOT {inherits('c')} AND NOT EXISTS (SELECT 1 FROM assignments a "
            f"WHERE a.account_id = c.id AND a.user_id = :x AND a.{OPEN_CSM})",
            p,
        )
        run(
            "INSERT INTO f_change (account_id, user_id, action, source, reason, is_primary) "
            f"{descendants('SELECT account_id FROM f_change')} "
            f"SELECT d.id, :x, 'open', 'inherited', '{INHERIT_REASON}', false FROM d "
            "WHERE d.id NOT IN (SELECT account_id FROM f_change) AND NOT EXISTS (SELECT 1 "
            f"FROM assignments a WHERE a.account_id = d.id AND a.user_id = :x AND a.{OPEN_CSM})",
            p,
        )

    return plan


def close_with_descendants(
    run: Callable[..., Any], p: dict[str, Any], direct: str, user: str = ":x"
) -> None:
    """Close ``user``'s rows on the ``direct`` accounts (a SELECT of account ids, not
    inheriting) and the inherited rows of their inheriting descendants."""
    run(
        "INSERT INTO f_change (account_id, user_id, action, source, reason, assignment_id, "
        "is_primary) SELECT a.account_id, a.user_id, 'close', 'manual', '', a.id, a.is_primary "
        f"FROM assignments a JOIN accounts c ON c.id = a.account_id WHERE a.user_id = {user} "
        f"AND a.{OPEN_CSM} AND NOT {inherits('c')} AND a.account_id IN ({direct})",
        p,
    )
    run(
        "INSERT INTO f_change (account_id, user_id, action, source, reason, assignment_id, "
        f"is_primary) {descendants('SELECT account_id FROM f_change')} "
        f"SELECT a.account_id, a.user_id, 'close', 'inherited', '{INHERIT_REASON}', a.id, "
        f"a.is_primary FROM d JOIN assignments a ON a.account_id = d.id AND a.user_id = {user} "
        f"AND a.{OPEN_CSM} WHERE d.id NOT IN (SELECT account_id FROM f_change)",
        p,
    )


def plan_unassign(t: Target) -> Callable[[Callable[..., Any], dict[str, Any]], None]:
    """Close X on every matching account that does not inherit, and below them."""

    def plan(run: Callable[..., Any], p: dict[str, Any]) -> None:
        direct = f"SELECT c.id FROM accounts c WHERE {RULE_SQL}"
        close_with_descendants(run, {**p, "x": t.csm_id}, direct)

    return plan


def plan_transfer(t: Target) -> Callable[[Callable[..., Any], dict[str, Any]], None]:
    """Close X's whole book (and below), open Y wherever Y does not already own."""

    def plan(run: Callable[..., Any], p: dict[str, Any]) -> None:
        p = {**p, "x": t.csm_id, "y": t.other_id}
        book = f"SELECT account_id FROM assignments WHERE user_id = :x AND {OPEN_CSM}"
        close_with_descendants(run, p, book)
        run(
            "INSERT INTO f_change (account_id, user_id, action, source, reason, is_primary) "
            "SELECT f.account_id, :y, 'open', CASE f.source WHEN 'manual' THEN 'manual' "
            "ELSE 'inherited' END, f.reason, f.is_primary FROM f_change f "
            "WHERE f.action = 'close' AND NOT EXISTS (SELECT 1 FROM assignments a "
            f"WHERE a.account_id = f.account_id AND a.user_id = :y AND a.{OPEN_CSM})",
            p,
        )

    return plan


def plan_reconcile(run: Callable[..., Any], p: dict[str, Any]) -> None:
    """Every inheriting account owns exactly what its nearest owning ancestor owns."""
    run("DELETE FROM f_scope")
    run(
        "INSERT INTO f_scope (account_id, source_id) WITH RECURSIVE w(account_id, source_id) "
        f"AS (SELECT n.id, n.id FROM accounts n WHERE NOT {inherits('n')} AND EXISTS "
        f"(SELECT 1 FROM accounts k WHERE k.parent_id = n.id AND {inherits('k')}) UNION ALL "
        "SELECT b.id, w.source_id FROM accounts b JOIN w ON b.parent_id = w.account_id "
        f"WHERE {inherits('b')}) SELECT account_id, source_id FROM w "
        "WHERE account_id <> source_id",
        p,
    )
    run(
        "INSERT INTO f_change (account_id, user_id, action, source, reason, assignment_id, "
        "is_primary) SELECT a.account_id, a.user_id, 'close', 'inherited', "
        f"'{INHERIT_REASON}', a.id, a.is_primary FROM f_scope s JOIN assignments a "
        f"ON a.account_id = s.account_id AND a.{OPEN_CSM} WHERE NOT EXISTS (SELECT 1 "
        "FROM assignments r WHERE r.account_id = s.source_id AND r.user_id = a.user_id "
        f"AND r.{OPEN_CSM})",
        p,
    )
    run(
        "INSERT INTO f_change (account_id, user_id, action, source, reason, is_primary) "
        f"SELECT s.account_id, r.user_id, 'open', 'inherited', '{INHERIT_REASON}', "
        f"r.is_primary FROM f_scope s JOIN assignments r ON r.account_id = s.source_id "
        f"AND r.{OPEN_CSM} JOIN users u ON u.id = r.user_id AND u.active AND u.csm_seat "
        "WHERE NOT EXISTS (SELECT 1 FROM assignments a WHERE a.account_id = s.account_id "
        f"AND a.user_id = r.user_id AND a.{OPEN_CSM})",
        p,
    )


def plan_undo(operation: Callable[[], int]) -> Callable[[Callable[..., Any], dict[str, Any]], None]:
    """Refuse if a later version touched the same accounts; close what the operation opened."""

    def plan(run: Callable[..., Any], p: dict[str, Any]) -> None:
        p = {**p, "u": operation()}
        later = run(
            "SELECT count(*) FROM ownership_changes m JOIN ownership_changes l "
            "ON l.account_id = m.account_id AND l.version > m.version WHERE m.operation_id = :u",
            p,
        ).fetchone()[0]
        assert later == 0, "the floor's undo found later changes"
        run(
            "INSERT INTO f_change (account_id, user_id, action, source, reason, assignment_id, "
            "is_primary) SELECT account_id, user_id, 'close', 'undo', '', id, is_primary "
            "FROM assignments WHERE operation_id = :u AND ended_at IS NULL",
            p,
        )
        run("UPDATE operations SET undone_by_id = :op WHERE id = :u", p)
        run("UPDATE operations SET undoes_id = :u WHERE id = :op", p)

    return plan


DRIFT_TABLE = "CREATE TABLE IF NOT EXISTS bench_drift (account_id INTEGER PRIMARY KEY)"


def bulk_pairs(t: Target) -> list[Pair]:
    """Scenario 4: assign a rule's matches, unassign them, transfer a book, reconcile, undo."""
    floor = Floor(t)
    base = Checkpoint(t.floor)

    def accounts_changed(outcome: tuple[Any, Any]) -> int:
        return int(outcome[1])

    last_assign: list[int] = []

    def selection() -> AccountQuery:
        with t.reading() as session:
            where = compile_where(session, RULE).where
        return AccountQuery(ids=account_ids([where]), description=f"rule: {RULE}")

    def assign() -> int:
        with t.writing() as session:
            me = t.user(session, t.actor_id)
            x = t.user(session, t.csm_id)
            result = assign_accounts(session, selection=selection(), csms=[x], actor=me)
        assert result.operation_id is not None
        last_assign[:] = [result.operation_id]
        return result.accounts_changed

    def unassign() -> int:
        with t.writing() as session:
            me, x = t.user(session, t.actor_id), t.user(session, t.csm_id)
            result = unassign_accounts(session, selection=selection(), csm=x, actor=me)
        return result.accounts_changed

    def transfer() -> int:
        with t.writing() as session:
            me, x = t.user(session, t.actor_id), t.user(session, t.csm_id)
            y = t.user(session, t.other_id)
            result = transfer_accounts(session, from_csm=x, to_csm=y, actor=me)
        return result.accounts_changed

    def reconcile() -> int:
        with t.writing() as session:
            result = reconcile_inheritance(session, actor=t.user(session, t.actor_id))
        return result.accounts_changed

    def undo() -> int:
        with t.writing() as session:
            me = t.user(session, t.actor_id)
            result = undo_operation(session, operation_id=last_assign[0], actor=me)
        return result.accounts_changed

    def drift() -> None:
        # Half of the children that keep their own CSMs start inheriting without the
        # propagation an operation would do: reconcile has ~all of them to repair.
        t.floor.write(
            [
                DRIFT_TABLE,
                "DELETE FROM bench_drift",
                "INSERT INTO bench_drift SELECT id FROM accounts WHERE parent_id IS NOT NULL "
                "AND inherit_policy IS NULL AND id % 2 = 0",
                "UPDATE accounts SET inherit_policy = 'inherit' "
                "WHERE id IN (SELECT account_id FROM bench_drift)",
            ]
        )
        t.floor.settle()

    def undrift() -> None:
        base.restore(
            [
                "UPDATE accounts SET inherit_policy = NULL "
                "WHERE id IN (SELECT account_id FROM bench_drift)",
                "DELETE FROM bench_drift",
            ]
        )

    def last_operation() -> int:
        return last_assign[0]

    # The ownership state a write leaves is read after the timing stops, then compared.
    same = {
        "answer": lambda outcome: outcome[0],
        "rows": accounts_changed,
        "after": lambda changed: (ownership_digest(t.floor), changed),
    }
    return [
        Pair(
            "4a bulk assign a rule's matches",
            "bulk",
            assign,
            lambda: floor.run("assign", plan_assign(t)),
            restore=base.restore,
            **same,
        ),
        Pair(
            "4b bulk unassign them",
            "bulk",
            unassign,
            lambda: floor.run("unassign", plan_unassign(t)),
            setup=assign,
            restore=base.restore,
            **same,
        ),
        Pair(
            "4c transfer a whole book",
            "bulk",
            transfer,
            lambda: floor.run("transfer", plan_transfer(t)),
            restore=base.restore,
            **same,
        ),
        Pair(
            "4d inherit reconciliation, whole hierarchy",
            "bulk",
            reconcile,
            lambda: floor.run("inherit", plan_reconcile),
            setup=drift,
            restore=undrift,
            **same,
        ),
        Pair(
            "4e undo of the bulk assign",
            "bulk",
            undo,
            lambda: floor.run("undo", plan_undo(last_operation)),
            setup=assign,
            restore=base.restore,
            **same,
        ),
    ]
