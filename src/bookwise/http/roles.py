"""Who may call what: one declared table, checked on every request and by a test.

Roles are ordered: viewer < manager < admin. A user with a CSM seat but no manager role is a
viewer (read-only) with a "My book" page. A route missing from the table fails closed.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["public", "viewer", "manager", "admin"]
RANK: dict[str, int] = {"viewer": 1, "manager": 2, "admin": 3}

# (method, path template) → the least role that may call it.
ROUTE_ROLES: dict[tuple[str, str], Role] = {}


def declare(method: str, path: str, role: Role) -> None:
    """Declare the least role for a route (called where the route is defined)."""
    key = (method.upper(), path)
    declared = ROUTE_ROLES.get(key)
    if declared is not None and declared != role:
        # Two routes on one method and path: the second would silently change the first's role.
        raise ValueError(f"{key[0]} {path} is declared twice: as {declared} and as {role}")
    ROUTE_ROLES[key] = role


def allows(user_role: str, needed: Role) -> bool:
    """True when a user with ``user_role`` may call a route that needs ``needed``."""
    return needed == "public" or RANK.get(user_role, 0) >= RANK[needed]
