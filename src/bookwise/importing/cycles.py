"""The import's cycle check: one walk down the future hierarchy, linear in what it visits.

The hierarchy after the import takes each good moved row's parent from the file and every
other account's stored parent. A moved row is kept only when its chain reaches the top;
those on a cycle, or whose chain runs into one, are refused. The stored hierarchy has no
cycle, so every cycle passes through a moved row.

Walking up from every moved row (what the check did until issue 14) costs the sum of their
depths: a 5,000-deep chain of new accounts walked 12.5 million steps. This walks *down*
instead, from the points whose chain is known to reach the top, and visits each account at
most once:

- ``below``: every moved existing account and its stored subtree. A stored account outside
  it keeps its stored chain whole, so it reaches the top.
- ``grounded`` starts at the rows whose parent is none (new tops, and accounts moved to the
  top) and at the stored parents, outside ``below``, that moved rows name. It goes down the
  file's parents (``import_rows.parent_key``) and, inside ``below``, the stored parents of
  accounts the file does not move (``accounts.parent_id``): both by index.
- A moved row that the walk never reaches is refused.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from bookwise.db import is_sqlite

_MOVED = "import_id = :i AND moved AND NOT failed"

_COMMON = f"""
WITH RECURSIVE below(id) AS (
    SELECT node_key FROM import_rows WHERE {_MOVED} AND node_key > 0
    UNION
    SELECT a.id FROM accounts a JOIN below b ON a.parent_id = b.id
), grounded(node, inside) AS (
    SELECT node_key, node_key > 0 FROM import_rows
    WHERE import_id = :i AND NOT failed AND parent_key IS NULL AND (node_key < 0 OR moved)
    UNION
    SELECT DISTINCT parent_key, FALSE FROM import_rows
    WHERE {_MOVED} AND parent_key > 0 AND parent_key NOT IN (SELECT id FROM below)
    UNION
    {{step}}
)
UPDATE import_rows SET failed = TRUE, error_column = :col, error_value = parent_ref,
    error_reason = 'this parent would make a cycle in the hierarchy'
WHERE import_id = :i AND node_key IN (
    SELECT node_key FROM import_rows WHERE {_MOVED} EXCEPT SELECT node FROM grounded
)
"""

# The file does not move this stored child (else the walk reaches it by its new parent).
_NOT_MOVED = """NOT EXISTS (SELECT 1 FROM import_rows m
    WHERE m.import_id = :i AND m.node_key = a.id AND m.moved AND NOT m.failed)"""

# SQLite (3.34+) takes two recursive selects, each joined to the walk by its own index.
_SQLITE_STEP = f"""SELECT r.node_key, r.node_key > 0 FROM grounded g
    JOIN import_rows r ON r.import_id = :i AND r.parent_key = g.node
    WHERE r.moved AND NOT r.failed
    UNION
    SELECT a.id, TRUE FROM grounded g JOIN accounts a ON a.parent_id = g.node
    WHERE g.inside AND {_NOT_MOVED}"""

# PostgreSQL allows one reference to the walk: both steps in one LATERAL subquery.
_POSTGRES_STEP = f"""SELECT c.node, c.inside FROM grounded g CROSS JOIN LATERAL (
        SELECT r.node_key AS node, r.node_key > 0 AS inside FROM import_rows r
        WHERE r.import_id = :i AND r.parent_key = g.node AND r.moved AND NOT r.failed
        UNION ALL
        SELECT a.id, TRUE FROM accounts a
        WHERE g.inside AND a.parent_id = g.node AND {_NOT_MOVED}
    ) c"""

_SQLITE = text(_COMMON.format(step=_SQLITE_STEP))
_POSTGRES = text(_COMMON.format(step=_POSTGRES_STEP))


def refuse_cycles(session: Session, *, import_id: int, column: str) -> None:
    """Fail every good moved row whose new chain never reaches the top (one statement)."""
    statement = _SQLITE if is_sqlite(session) else _POSTGRES
    session.execute(statement, {"i": import_id, "col": column})
