"""login_counters replace login_failures: the sign-in limit counts with one atomic upsert

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00

The sign-in limit read the failures, checked the password, then recorded a failure: parallel
guesses on PostgreSQL all read the same count, and 72 of 100 were checked against a limit of
10. Now one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per attempt adds it to a counter
per email and per address and returns the count, before any password is hashed.

A counter keeps the failures of a 15-minute window that starts with its first failure. The
failures recorded in ``login_failures`` are not carried over: at worst an address gets ten
more guesses, once, within the next 15 minutes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bookwise.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_counters",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_started", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_counters")),
    )
    op.create_index(op.f("ix_login_counters_window_started"), "login_counters", ["window_started"])
    op.drop_index("ix_login_failures_email_at", table_name="login_failures")
    op.drop_index("ix_login_failures_address_at", table_name="login_failures")
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"])
    op.create_index("ix_login_failures_email_at", "login_failures", ["email_key", "at"])
    op.drop_index(op.f("ix_login_counters_window_started"), table_name="login_counters")
    op.drop_table("login_counters")
