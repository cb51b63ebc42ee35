"""Scenario 6: refresh 10 segments, recording who entered and who left.

Before each run, 5 % of the accounts change health (``health_score = 100 - health_score``,
its own inverse, so the restore applies it again): the refresh has members to let in and
to let out, as after a nightly CRM sync. The floor per segment is what bookwise does —
close the stays of accounts that left, open stays for those that entered, stamp the
segment — with each rule written by hand.
"""

from __future__ import annotations

from typing import Any

from bench.context import Target
from bench.floor import Checkpoint, ownership_digest
from bench.harness import Pair
from bookwise.demo.generator import storage_timestamp
from bookwise.errors import NotFound
from bookwise.models import utcnow
from bookwise.segments.service import create_segment, get_segment, refresh_segments

OWN = "a.role = 'csm' AND a.ended_at IS NULL"
ACTIVE_OWNER = (
    "EXISTS (SELECT 1 FROM assignments a JOIN users u ON u.id = a.user_id "
    f"WHERE a.account_id = c.id AND {OWN} AND u.active)"
)
OWNED_BY_X = f"c.id IN (SELECT a.account_id FROM assignments a WHERE a.user_id = :x AND {OWN})"


def segment_rules(t: Target) -> list[tuple[str, str, str]]:
    """(name, rule, the same rule as SQL on ``accounts c``) for the ten segments."""
    return [
        (
            "bench: at-risk tier 1",
            "tier = 1 and health_score < 50",
            "c.tier = 1 AND c.health_score < 50",
        ),
        (
            "bench: big onboarding",
            'lifecycle_stage = "onboarding" and mrr > 5000',
            "c.lifecycle_stage = 'onboarding' AND c.mrr > 500000",
        ),
        ("bench: no CSM", "csm is empty", f"NOT {ACTIVE_OWNER}"),
        ("bench: very unhealthy", "health_score < 30", "c.health_score < 30"),
        ("bench: detractors", "nps < 0", "c.nps < 0"),
        ("bench: X's book", f'csm = "{t.csm}"', OWNED_BY_X),
        (
            "bench: X's unhealthy",
            f'csm = "{t.csm}" and health_score < 60',
            f"{OWNED_BY_X} AND c.health_score < 60",
        ),
        ("bench: children", "is_child", "c.parent_id IS NOT NULL"),
        (
            "bench: parents with a sick child",
            "any child (health_score < 30)",
            "c.id IN (SELECT k.parent_id FROM accounts k WHERE k.parent_id IS NOT NULL "
            "AND k.health_score < 30)",
        ),
        (
            "bench: renewal stage, low rating",
            'lifecycle_stage = "renewal" and csm_rating <= 2',
            "c.lifecycle_stage = 'renewal' AND c.csm_rating <= 2",
        ),
    ]


def segment_pairs(t: Target) -> list[Pair]:
    """Scenario 6, after creating the segments and refreshing them once (untimed)."""
    rules = segment_rules(t)
    with t.writing() as session:
        actor = t.user(session, t.actor_id)
        for name, rule, _ in rules:
            try:
                get_segment(session, name)
            except NotFound:
                create_segment(session, name=name, rule=rule, actor=actor)
    names = [name for name, _, _ in rules]
    with t.writing() as session:
        refresh_segments(session, names=names, actor=t.user(session, t.actor_id))
    ids = dict(
        t.floor.rows(
            "SELECT name, id FROM segments WHERE name IN ("
            + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}'" for n in names)
            + ")"
        )
    )
    base = Checkpoint(t.floor)
    change = "UPDATE accounts SET health_score = 100 - health_score WHERE id % 20 = 7"

    def shake() -> None:
        t.floor.write([change])

    def restore() -> None:
        base.restore([change])

    def ours() -> tuple[Any, ...]:
        with t.writing() as session:
            results = refresh_segments(session, names=names, actor=t.user(session, t.actor_id))
        return tuple(sorted((r.segment, r.entered, r.left, r.members) for r in results))

    def floor() -> tuple[Any, ...]:
        now = utcnow()
        stamp: Any = storage_timestamp(now) if t.floor.sqlite else now
        counts = []
        with t.floor.transaction() as run:
            for name, _, where in rules:
                p = {"s": ids[name], "now": stamp, "x": t.csm_id}
                left = run(
                    "UPDATE segment_memberships SET left_at = :now WHERE segment_id = :s "
                    "AND left_at IS NULL AND NOT EXISTS (SELECT 1 FROM accounts c "
                    f"WHERE c.id = segment_memberships.account_id AND {where})",
                    p,
                ).rowcount
                entered = run(
                    "INSERT INTO segment_memberships (segment_id, account_id, entered_at) "
                    f"SELECT :s, c.id, :now FROM accounts c WHERE {where} AND NOT EXISTS "
                    "(SELECT 1 FROM segment_memberships m WHERE m.segment_id = :s "
                    "AND m.account_id = c.id AND m.left_at IS NULL)",
                    p,
                ).rowcount
                run("UPDATE segments SET refreshed_at = :now WHERE id = :s", p)
                members = run(
                    "SELECT count(*) FROM segment_memberships WHERE segment_id = :s "
                    "AND left_at IS NULL",
                    p,
                ).fetchone()[0]
                counts.append((name, entered, left, members))
        return tuple(sorted(counts))

    return [
        Pair(
            "6 refresh 10 segments",
            "bulk",
            ours,
            floor,
            setup=shake,
            restore=restore,
            rows=lambda result: sum(e + lft for _, e, lft, _ in result[0]),
            after=lambda counts: (counts, ownership_digest(t.floor)),
        )
    ]
