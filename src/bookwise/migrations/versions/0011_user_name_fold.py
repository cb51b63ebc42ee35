"""users.name_fold; users' Salesforce ids in 18 characters; import_owners.written

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00

A user may be named by their unique full name wherever an email is accepted (CLI, API,
pages, import owner cells), matched on ``name_fold`` as ``models.user.fold_name`` folds it:
casefolded, spacing collapsed, which SQL ``lower()`` does not reproduce, so the existing
names are folded here in Python (one executemany over the users, a team).

A user's external id that is a 15-character Salesforce id is stored in its 18-character
form from now on (``models.user``), the form the import gives ``OwnerId`` cells; the stored
15-character ids are turned into it here, unless another user already holds that form (then
it is left as typed). The downgrade keeps the 18-character ids: both forms name the same user.

``import_owners.written`` keeps an owner cell as written, for error messages.

Plain ``ADD COLUMN`` statements (not a batch rebuild), so SQLite keeps the triggers of 0008.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
USERS = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("name_fold", sa.String),
    sa.column("external_id", sa.String),
)


def _fold_name(text: str) -> str:
    # models.user.fold_name as of this revision (a migration keeps its own copy).
    return " ".join(text.split()).casefold()


def _salesforce_18(value: str) -> str:
    if len(value) != 15 or not value.isalnum():
        return value
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, ch in enumerate(value[start : start + 5]) if "A" <= ch <= "Z")
        suffix += _CHECKSUM[bits]
    return value + suffix


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("name_fold", sa.String(length=200), server_default="", nullable=False)
    )
    op.create_index(op.f("ix_users_name_fold"), "users", ["name_fold"], unique=False)
    op.add_column(
        "import_owners",
        sa.Column("written", sa.String(length=320), server_default="", nullable=False),
    )
    connection = op.get_bind()
    users = connection.execute(sa.select(USERS.c.id, USERS.c.name, USERS.c.external_id)).all()
    folds = [{"uid": uid, "name_fold": _fold_name(name)} for uid, name, _ in users if name]
    if folds:
        connection.execute(USERS.update().where(USERS.c.id == sa.bindparam("uid")), folds)
    taken = {external for _, _, external in users if external}
    longer = [
        {"uid": uid, "external_id": _salesforce_18(external)}
        for uid, _, external in users
        if external
        and _salesforce_18(external) != external
        and _salesforce_18(external) not in taken
    ]
    if longer:
        connection.execute(USERS.update().where(USERS.c.id == sa.bindparam("uid")), longer)


def downgrade() -> None:
    op.drop_column("import_owners", "written")
    op.drop_index(op.f("ix_users_name_fold"), table_name="users")
    op.drop_column("users", "name_fold")
