"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 11:07:28.943846
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import bookwise.models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_fold", sa.String(length=300), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("mrr", sa.BigInteger(), nullable=True),
        sa.Column("health_score", sa.Integer(), nullable=True),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=50), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("csm_rating", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=50), nullable=True),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("created_at", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("inherit_policy", sa.String(length=10), nullable=True),
        sa.Column("ownership_version", sa.Integer(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "inherit_policy = 'inherit' OR inherit_policy = 'own'",
            name=op.f("ck_accounts_inherit_policy"),
        ),
        sa.CheckConstraint("csm_rating BETWEEN 1 AND 5", name=op.f("ck_accounts_csm_rating")),
        sa.CheckConstraint("depth >= 0", name=op.f("ck_accounts_depth")),
        sa.CheckConstraint("health_score BETWEEN 0 AND 100", name=op.f("ck_accounts_health_score")),
        sa.CheckConstraint("nps BETWEEN -100 AND 100", name=op.f("ck_accounts_nps")),
        sa.CheckConstraint("parent_id <> id", name=op.f("ck_accounts_not_own_parent")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["accounts.id"], name=op.f("fk_accounts_parent_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("external_id", name=op.f("uq_accounts_external_id")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_mrr"), ["mrr"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_name_fold"), ["name_fold"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index("ix_accounts_stage_mrr", ["lifecycle_stage", "mrr"], unique=False)
        batch_op.create_index("ix_accounts_tier_health", ["tier", "health_score"], unique=False)

    op.create_table(
        "assignment_roles",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("inheritable", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_assignment_roles")),
    )
    op.create_table(
        "attribute_definitions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column(
            "choices",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            (
                "type = 'text' OR type = 'number' OR type = 'money' OR "
                "type = 'date' OR type = 'boolean' OR type = 'choice'"
            ),
            name=op.f("ck_attribute_definitions_type"),
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_attribute_definitions")),
    )
    op.create_table(
        "operation_items",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("operation_id", "position", name=op.f("pk_operation_items")),
    )
    op.create_table(
        "ownership_plan",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=5), nullable=False),
        sa.Column("phase", sa.SmallInteger(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "operation_id",
            "account_id",
            "user_id",
            "role",
            "action",
            name=op.f("pk_ownership_plan"),
        ),
    )
    op.create_table(
        "ownership_scope",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("operation_id", "account_id", name=op.f("pk_ownership_scope")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_fold", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("csm_seat", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_system", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.Column("deactivated_at", bookwise.models.base.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "role = 'admin' OR role = 'manager' OR role = 'viewer'", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email_fold", name=op.f("uq_users_email_fold")),
        sa.UniqueConstraint("external_id", name=op.f("uq_users_external_id")),
    )
    op.create_table(
        "operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.Column(
            "parameters",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("accounts_changed", sa.Integer(), nullable=False),
        sa.Column("undoes_id", sa.Integer(), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_operations_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["undoes_id"], ["operations.id"], name=op.f("fk_operations_undoes_id_operations")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["operations.id"], name=op.f("fk_operations_undone_by_id_operations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("ended_operation_id", sa.Integer(), nullable=True),
        sa.Column("started_at", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.Column("ended_at", bookwise.models.base.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            (
                "source = 'manual' OR source = 'rule' OR "
                "source = 'inherited' OR source = 'playbook' OR "
                "source = 'balancer' OR source = 'import' OR source = 'undo'"
            ),
            name=op.f("ck_assignments_source"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_assignments_period")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_assignments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_assignments_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ended_operation_id"],
            ["operations.id"],
            name=op.f("fk_assignments_ended_operation_id_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_assignments_operation_id_operations")
        ),
        sa.ForeignKeyConstraint(
            ["role"], ["assignment_roles.name"], name=op.f("fk_assignments_role_assignment_roles")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assignments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_account", ["account_id", "started_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assignments_ended_operation_id"), ["ended_operation_id"], unique=False
        )
        batch_op.create_index(
            "ix_assignments_open_by_user",
            ["user_id", "role", "account_id"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_assignments_operation_id"), ["operation_id"], unique=False
        )
        batch_op.create_index(
            "ix_assignments_user_period", ["user_id", "role", "started_at"], unique=False
        )
        batch_op.create_index(
            "uq_assignments_open",
            ["account_id", "user_id", "role"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.create_index(
            "uq_assignments_open_primary",
            ["account_id", "role"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL AND is_primary"),
            postgresql_where=sa.text("ended_at IS NULL AND is_primary"),
        )

    op.create_table(
        "ownership_changes",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ownership_changes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_ownership_changes_operation_id_operations"),
        ),
        sa.PrimaryKeyConstraint("account_id", "version", name=op.f("pk_ownership_changes")),
    )
    with op.batch_alter_table("ownership_changes", schema=None) as batch_op:
        batch_op.create_index(
            "uq_ownership_changes_operation", ["operation_id", "account_id"], unique=True
        )

    op.create_table(
        "policy_changes",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("old_policy", sa.String(length=10), nullable=True),
        sa.Column("new_policy", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_policy_changes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_policy_changes_operation_id_operations"),
        ),
        sa.PrimaryKeyConstraint("operation_id", "account_id", name=op.f("pk_policy_changes")),
    )

    _seed()


def _seed() -> None:
    """The built-in rows every installation starts with."""
    roles = sa.table(
        "assignment_roles",
        sa.column("name", sa.String),
        sa.column("inheritable", sa.Boolean),
        sa.column("description", sa.String),
    )
    op.bulk_insert(
        roles,
        [{"name": "csm", "inheritable": True, "description": "Customer Success Manager"}],
    )
    settings = sa.table(
        "settings",
        sa.column("key", sa.String),
        sa.column("value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    )
    op.bulk_insert(settings, [{"key": "default_inherit_policy", "value": "own"}])
    users = sa.table(
        "users",
        sa.column("email", sa.String),
        sa.column("email_fold", sa.String),
        sa.column("name", sa.String),
        sa.column("role", sa.String),
        sa.column("csm_seat", sa.Boolean),
        sa.column("active", sa.Boolean),
        sa.column("is_system", sa.Boolean),
        sa.column("created_at", bookwise.models.base.UTCDateTime()),
    )
    op.bulk_insert(
        users,
        [
            {
                "email": "cli@bookwise.invalid",
                "email_fold": "cli@bookwise.invalid",
                "name": "bookwise CLI",
                "role": "admin",
                "csm_seat": False,
                "active": True,
                "is_system": True,
                "created_at": bookwise.models.base.utcnow(),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("policy_changes")
    with op.batch_alter_table("ownership_changes", schema=None) as batch_op:
        batch_op.drop_index("uq_ownership_changes_operation")

    op.drop_table("ownership_changes")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_assignments_open_primary",
            sqlite_where=sa.text("ended_at IS NULL AND is_primary"),
            postgresql_where=sa.text("ended_at IS NULL AND is_primary"),
        )
        batch_op.drop_index(
            "uq_assignments_open",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index("ix_assignments_user_period")
        batch_op.drop_index(batch_op.f("ix_assignments_operation_id"))
        batch_op.drop_index(
            "ix_assignments_open_by_user",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_assignments_ended_operation_id"))
        batch_op.drop_index("ix_assignments_account")

    op.drop_table("assignments")
    op.drop_table("operations")
    op.drop_table("users")
    op.drop_table("settings")
    op.drop_table("ownership_scope")
    op.drop_table("ownership_plan")
    op.drop_table("operation_items")
    op.drop_table("attribute_definitions")
    op.drop_table("assignment_roles")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_tier_health")
        batch_op.drop_index("ix_accounts_stage_mrr")
        batch_op.drop_index(batch_op.f("ix_accounts_parent_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_name_fold"))
        batch_op.drop_index(batch_op.f("ix_accounts_mrr"))

    op.drop_table("accounts")
