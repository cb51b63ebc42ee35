"""Idempotency keys: a retried request (same user, same key) gets the first response again.

The key is claimed at the start of the request's own transaction by inserting its row (or by
taking over its expired row), and the response is written into that row before the same
transaction commits. So the row exists exactly when the work it stands for was committed:

- A retry after the first request committed finds the row and replays its response.
- A duplicate sent while the first is still running waits: on PostgreSQL its INSERT blocks on
  the first transaction's uncommitted row (then finds it, or claims the key if the first
  rolled back); on SQLite writers are serial (``BEGIN IMMEDIATE``).
- A request that failed rolled its claim back with everything else: retrying it runs it again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bookwise.db import is_sqlite
from bookwise.errors import InvalidInput
from bookwise.models import IdempotentRequest, utcnow

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 200


class KeyReused(InvalidInput):
    """The same key came with a different request: a client bug, never replayed."""

    type = "idempotency-key-reused"


@dataclass(frozen=True)
class StoredResponse:
    """The response of the request that first used a key."""

    status_code: int
    body: dict[str, Any]


def request_hash(*parts: object) -> str:
    """A stable digest of what identifies a request (method, path, body …)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim_key(
    session: Session, *, user_id: int, key: str, request_hash: str
) -> StoredResponse | None:
    """Claim ``key`` for this request (None), or the stored response of its first use.

    Raises KeyReused when the key was first used for a different request.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"an Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    stored = None
    if not reserve_key(session, user_id=user_id, key=key, request_hash=request_hash):
        row = session.scalars(
            select(IdempotentRequest).where(
                IdempotentRequest.user_id == user_id, IdempotentRequest.key == key
            )
        ).one()
        if row.request_hash != request_hash:
            raise KeyReused(
                f"the Idempotency-Key {key!r} was already used for a different request; "
                "use a new key for every new request"
            )
        stored = StoredResponse(status_code=row.status_code, body=row.body)
    # Housekeeping after the claim: this user's expired keys go.
    session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.user_id == user_id,
            IdempotentRequest.created_at < utcnow() - KEY_LIFETIME,
        )
    )
    return stored


def reserve_key(session: Session, *, user_id: int, key: str, request_hash: str) -> bool:
    """Insert the key's row, or take over an expired one (waiting for a concurrent claimer);
    True if claimed, False if the key is in use.

    A module-level function so that a test can take the guard away and watch the race.
    """
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    now = utcnow()
    claim = {"request_hash": request_hash, "status_code": 0, "body": {}, "created_at": now}
    claimed = session.execute(
        insert(IdempotentRequest)
        .values(user_id=user_id, key=key, **claim)
        .on_conflict_do_update(
            index_elements=["user_id", "key"],
            set_=claim,
            where=IdempotentRequest.created_at < now - KEY_LIFETIME,
        )
        .returning(IdempotentRequest.key)
    ).first()
    return claimed is not None


def store_response(
    session: Session, *, user_id: int, key: str, status_code: int, body: dict[str, Any]
) -> None:
    """Keep the response of the request that claimed ``key`` (same transaction as its work)."""
    session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.user_id == user_id, IdempotentRequest.key == key)
        .values(status_code=status_code, body=body)
    )
