"""accounts.child_count: how many accounts have this one as their parent

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:30:00

``is_parent`` ("company level 1") becomes a column test instead of a search of the parent
index. As a subquery, ``id IN (SELECT parent_id …)`` builds the list of every child before it
probes it, and ``EXISTS (… WHERE parent_id = id)`` probes once per candidate; each is slow
where the other is fast (the benchmark's scenario 3b, docs/performance.md). The services that
change a parent keep the count in the same statement set (``accounts.hierarchy``), as they
keep ``depth``; ``bookwise recount`` checks and repairs it.

A plain ``ADD COLUMN`` (not a batch rebuild), so SQLite keeps the triggers of 0008.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE accounts ADD COLUMN child_count INTEGER DEFAULT 0 NOT NULL "
        "CONSTRAINT ck_accounts_child_count CHECK (child_count >= 0)"
    )
    op.execute(
        "UPDATE accounts SET child_count = "
        "(SELECT count(*) FROM accounts c WHERE c.parent_id = accounts.id) "
        "WHERE id IN (SELECT parent_id FROM accounts WHERE parent_id IS NOT NULL)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE accounts DROP COLUMN child_count")  # and its CHECK with it
