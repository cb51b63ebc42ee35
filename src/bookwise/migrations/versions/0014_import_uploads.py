"""import_uploads: a file uploaded on the import page, between its preview and its apply

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00

The web import previews a file (a dry run) and imports exactly that file when the person
applies it. The file is kept in the database, in chunks, never under /tmp: applying or
cancelling deletes it, and an abandoned one is deleted by a later upload.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bookwise.models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("created_at", bookwise.models.base.UTCDateTime(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_import_uploads_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_uploads")),
        sa.UniqueConstraint("token", name=op.f("uq_import_uploads_token")),
    )
    op.create_index(op.f("ix_import_uploads_created_at"), "import_uploads", ["created_at"])
    op.create_index(op.f("ix_import_uploads_user_id"), "import_uploads", ["user_id"])
    op.create_table(
        "import_upload_chunks",
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=10), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("upload_id", "part", "seq", name=op.f("pk_import_upload_chunks")),
    )


def downgrade() -> None:
    op.drop_table("import_upload_chunks")
    op.drop_index(op.f("ix_import_uploads_user_id"), table_name="import_uploads")
    op.drop_index(op.f("ix_import_uploads_created_at"), table_name="import_uploads")
    op.drop_table("import_uploads")
