"""account_values: the effective-dated history of the report fields (issue 16)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-11 10:00:00

One row per (account, field, period) for the fields reports read as of a past date (mrr,
health_score, tier, lifecycle_stage, nps, csm_rating, region, renewal_date, parent_id). Every
existing account's current non-empty values become its first rows, valid from its
``created_at``, with source ``backfill`` and no actor; the indexes are built after that load.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bookwise.models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = (
    "mrr",
    "health_score",
    "tier",
    "lifecycle_stage",
    "nps",
    "csm_rating",
    "region",
    "renewal_date",
    "parent_id",
)
SOURCES = ("backfill", "create", "edit", "api", "import", "move", "undo", "demo", "survey")
TEXT_FIELDS = ("lifecycle_stage", "region")
OPEN = sa.text("valid_to IS NULL")


def _one_of(column: str, values: Sequence[str]) -> str:
    return " OR ".join(f"{column} = '{value}'" for value in values)


def _as_text(field: str, dialect: str) -> str:
    """The SQL of a column's value as the history stores it (what accounts.history writes)."""
    if field in TEXT_FIELDS:
        return field
    if field == "renewal_date":
        return field if dialect == "sqlite" else "to_char(renewal_date, 'YYYY-MM-DD')"
    return f"CAST({field} AS VARCHAR(50))"


def upgrade() -> None:
    op.create_table(
        "account_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=50), nullable=True),
        sa.Column("previous", sa.String(length=50), nullable=True),
        sa.Column("valid_from", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.Column("valid_to", bookwise.models.base.UTCDateTime(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(_one_of("field", FIELDS), name=op.f("ck_account_values_field")),
        sa.CheckConstraint(_one_of("source", SOURCES), name=op.f("ck_account_values_source")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_account_values_period")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_values_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_account_values_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_account_values_operation_id_operations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_values")),
    )
    dialect = op.get_bind().dialect.name
    first_values = " UNION ALL ".join(
        f"SELECT id, '{f}', {_as_text(f, dialect)}, created_at, 'backfill' FROM accounts"
        f" WHERE {f} IS NOT NULL"
        for f in FIELDS
    )
    op.execute(
        "INSERT INTO account_values (account_id, field, value, valid_from, source) " + first_values
    )
    op.create_index(
        "ix_account_values_account", "account_values", ["account_id", "field", "valid_from"]
    )
    op.create_index("ix_account_values_changed", "account_values", ["field", "valid_from"])
    op.create_index(
        "uq_account_values_open",
        "account_values",
        ["account_id", "field"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_table("account_values")
