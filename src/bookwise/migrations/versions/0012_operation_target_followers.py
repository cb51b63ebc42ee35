"""operation_targets: a follower flag for the inheriting descendants locked with the targets

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:40:00

On PostgreSQL an operation now locks its selected accounts and their inheriting descendants in
one statement, in ascending id order, and records both in ``operation_targets``: the
descendants with ``follower`` true. Locking them in two passes (targets, then descendants)
let two operations take the same rows in opposite orders and deadlock.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operation_targets") as batch:
        batch.add_column(
            sa.Column("follower", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("operation_targets") as batch:
        batch.drop_column("follower")
