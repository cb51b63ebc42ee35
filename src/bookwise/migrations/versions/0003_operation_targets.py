"""operation targets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:56:44.618181
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operation_targets",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("operation_id", "account_id", name=op.f("pk_operation_targets")),
    )


def downgrade() -> None:
    op.drop_table("operation_targets")
