"""import_rows: an index on (import_id, parent_key); the parent_id column goes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00

The import merge now writes a new account's id, parent, depth and child count in the insert
itself (``importing.merge.insert_new``): it walks the file's own hierarchy down from its
top rows and counts each new row's children, both by ``parent_key``. The staged ``parent_id``
the old two-step insert needed is no longer written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_import_rows_parent", "import_rows", ["import_id", "parent_key"])
    with op.batch_alter_table("import_rows") as batch:
        batch.drop_column("parent_id")


def downgrade() -> None:
    with op.batch_alter_table("import_rows") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
    op.drop_index("ix_import_rows_parent", table_name="import_rows")
