"""import staging

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Scratch rows never outlive their transaction: on PostgreSQL skip the WAL for them.
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "import_rows",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("name_fold", sa.String(length=300), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("mrr", sa.BigInteger(), nullable=True),
        sa.Column("health_score", sa.Integer(), nullable=True),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=50), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("csm_rating", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=50), nullable=True),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("inherit_policy", sa.String(length=10), nullable=True),
        sa.Column("parent_ref", sa.String(length=100), nullable=True),
        sa.Column("custom", sa.Text(), nullable=True),
        sa.Column("has_owners", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("node_key", sa.Integer(), nullable=True),
        sa.Column("parent_key", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("moved", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("error_column", sa.String(length=200), nullable=True),
        sa.Column("error_value", sa.Text(), nullable=True),
        sa.Column("error_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("import_id", "line", name=op.f("pk_import_rows")),
        prefixes=unlogged,
    )
    op.create_index("ix_import_rows_account", "import_rows", ["import_id", "account_id"])
    op.create_index("ix_import_rows_external", "import_rows", ["import_id", "external_id", "line"])
    op.create_index("ix_import_rows_node", "import_rows", ["import_id", "node_key"])
    op.create_table(
        "import_owners",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=320), nullable=False),
        sa.Column("by_email", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("import_id", "line", "position", name=op.f("pk_import_owners")),
        prefixes=unlogged,
    )
    op.create_table(
        "import_problems",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_import_problems")),
        prefixes=unlogged,
    )


def downgrade() -> None:
    op.drop_table("import_problems")
    op.drop_table("import_owners")
    op.drop_index("ix_import_rows_node", table_name="import_rows")
    op.drop_index("ix_import_rows_external", table_name="import_rows")
    op.drop_index("ix_import_rows_account", table_name="import_rows")
    op.drop_table("import_rows")
