"""audit_events.subject_key holds a whole email (320 characters)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "subject_key",
            existing_type=sa.String(length=100),
            type_=sa.String(length=320),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "subject_key",
            existing_type=sa.String(length=320),
            type_=sa.String(length=100),
            existing_nullable=False,
        )
