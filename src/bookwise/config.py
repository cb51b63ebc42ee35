"""Settings: every one bookwise reads, from the environment or the database, in one registry.

Environment settings are the fields of ``Settings`` (each read from ``BOOKWISE_<NAME>``, each
with a description); settings kept in the database are listed in ``DATABASE_SETTINGS``.
``settings_registry()`` joins the two, and docs/deploying.md's "Settings" section is generated
from it (``python -m bookwise.docsections``), so no setting goes undocumented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "BOOKWISE_"


class Settings(BaseModel):
    """Installation settings; every field can be set as ``BOOKWISE_<NAME>``.

    A plain pydantic model filled from the environment by ``from_environment``, as
    pydantic-settings would (names without regard to case, values validated and converted the
    same way, defaults validated too): importing pydantic-settings cost every command about
    25 ms of start-up, for a feature set (dotenv files, secrets, nested values) bookwise does
    not use (docs/performance.md, "CLI start-up").
    """

    model_config = ConfigDict(extra="ignore", validate_default=True)

    database_url: str = Field(
        "sqlite:///bookwise.db",
        description="The database. A relative SQLite path is relative to the working "
        "directory, and `sqlite:////abs/path.db` is an absolute path. For PostgreSQL, use "
        "`postgresql://user:password@host:5432/dbname`.",
    )
    currency: str = Field(
        "USD",
        description="The installation's one currency, as an ISO 4217 code. It fixes the number "
        "of decimals of every amount: 2 for USD and EUR, 0 for JPY, 3 for KWD. Money is stored "
        "in minor units, so choose the currency before loading data (see "
        "[Money](concepts.md#money)). An unknown code is an error. Give every process of an "
        "installation the same value.",
    )
    timezone: str = Field(
        "UTC",
        description='An IANA time zone, such as `Europe/Paris`. "On date D" means the end of D '
        "in this zone. Stored times are always UTC (see "
        "[Dates and times](concepts.md#dates-and-times)). An unknown zone is an error. Give "
        "every process of an installation the same value.",
    )
    actor: str | None = Field(
        None,
        description="The email of the user that CLI writes are attributed to when `--as` is "
        "not given. Without it, writes are attributed to `cli@bookwise.invalid`. The acting "
        "user's role decides what they may do: a manager or admin may change ownership, and "
        "only an admin may manage users, seats, attributes and roles.",
    )
    sqlite_cache_mib: int = Field(
        256,
        description="The SQLite page cache per connection, in MiB. Raise it for large books, "
        "if the machine has the memory. It has no effect on PostgreSQL.",
    )
    # An import streams the file through its own, smaller page cache: a million-row import
    # then peaks near 110 MiB instead of filling the read cache (docs/import-export.md).
    sqlite_import_cache_mib: int = Field(
        8,
        description="The smaller SQLite page cache an import runs with, in MiB. The connection "
        "gets its own cache back afterwards. An import reads and writes each page about once, "
        "so it gains little from a big cache, and with one its memory would grow with the "
        "file (see [import-export.md](import-export.md#figures)).",
    )
    cookie_secure: bool | None = Field(
        None,
        description="Whether the web app's session cookie is marked `Secure` (sent over HTTPS "
        "only). Unset, it is, except when the app is reached over plain HTTP on a loopback "
        "address (`localhost`, `127.0.0.1`, `::1`), as `make run` does. `true` or `false` "
        "forces it (see [The web app](#the-web-app)).",
    )
    web_workers: int | None = Field(
        None,
        ge=1,
        description="How many worker processes `bookwise serve` starts to answer requests. "
        "Unset, one per CPU core the server may use. Each worker has its own database "
        "connections and answers requests on its own, so many people are served at once; "
        "sessions, the sign-in limit and idempotency keys live in the database, which every "
        "worker shares. `bookwise serve --workers N` overrides it (see "
        "[Worker processes](#worker-processes)).",
    )
    max_body_mib: int = Field(
        1,
        ge=1,
        description="The largest request body the web app reads, in MiB: a JSON body of the "
        "API or a form of the pages. A larger one is answered `413` (a problem document for "
        "the API, an error page for the pages) as soon as its `Content-Length` or its bytes "
        "pass the limit. Nothing of a body is read before its caller is known and allowed (see "
        "[Request bodies](#request-bodies)).",
    )
    max_upload_mib: int = Field(
        100,
        ge=1,
        description="The largest CSV upload (`POST /api/v1/import/accounts`, managers and "
        "admins only), in MiB. The upload streams to a temporary file and stops at the limit "
        "with a `413`. For a bigger file, use `bookwise import accounts`, which has no limit.",
    )
    statement_timeout_ms: int = Field(
        30_000,
        ge=0,
        description="How long one SQL statement of a web page or API request may run, in "
        "milliseconds. Past it the statement is cancelled (PostgreSQL: `statement_timeout`; "
        "SQLite: the time spent in the database engine), nothing is changed, and the request "
        "is answered 503 `too-costly`, saying how to narrow the rule (see "
        "[Limits](rule-language.md#limits)). It also bounds a query whose client has gone "
        "away. `0` turns it off. CLI commands and the demo loader are not bound by it.",
    )

    health_healthy_from: int = Field(
        70,
        ge=0,
        le=101,
        description="Reports count an account as healthy when its health score is at least "
        "this (see [Counting modes](concepts.md#counting-modes)).",
    )
    health_unhealthy_below: int = Field(
        40,
        ge=0,
        le=101,
        description="Reports count an account as unhealthy when its health score is below "
        "this; between the two it is neutral, and without a score unknown.",
    )

    @field_validator("currency")
    @classmethod
    def _currency_is_iso4217(cls, value: str) -> str:
        from babel.numbers import list_currencies

        code = value.strip().upper()
        if code not in list_currencies():
            raise ValueError(f"unknown ISO 4217 currency code {value!r}")
        return code

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @classmethod
    def from_environment(cls) -> Settings:
        """The settings the ``BOOKWISE_<NAME>`` environment variables give (any case)."""
        given = {
            key[len(ENV_PREFIX) :].lower(): value
            for key, value in os.environ.items()
            if key.upper().startswith(ENV_PREFIX)
        }
        return cls.model_validate({name: given[name] for name in cls.model_fields if name in given})

    @property
    def zone(self) -> ZoneInfo:
        """The installation's time zone."""
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings.from_environment()


@dataclass(frozen=True)
class SettingInfo:
    """One setting as the docs list it: where it lives, its type, default and meaning."""

    name: str
    source: Literal["environment", "database"]
    key: str  # the environment variable, or the key in table ``settings``
    type: str
    default: str
    description: str


DEFAULT_INHERIT_POLICY = "default_inherit_policy"

DATABASE_SETTINGS = (
    SettingInfo(
        name="default inherit policy",
        source="database",
        key=DEFAULT_INHERIT_POLICY,
        type="`inherit` or `own`",
        default="`own`",
        description="The inherit policy of every account whose own policy is unset: `inherit` "
        "makes a child follow its parent's CSMs, `own` lets it keep its own. Change it with "
        "`bookwise inherit --default`, an operation that can be previewed and undone (see "
        "[Inheritance](concepts.md#inheritance)). Every process reads it from the database.",
    ),
)

_TYPE_NAMES: dict[object, str] = {str: "text", int: "integer", bool: "`true` or `false`"}


def _type_name(annotation: object) -> str:
    """The documented type of a field: its annotation without the ``None`` of "unset"."""
    kinds = [kind for kind in get_args(annotation) if kind is not type(None)] or [annotation]
    return _TYPE_NAMES[kinds[0]]


def environment_settings() -> tuple[SettingInfo, ...]:
    """Every field of ``Settings``, as the environment variable that sets it."""
    return tuple(
        SettingInfo(
            name=name,
            source="environment",
            key=f"{ENV_PREFIX}{name.upper()}",
            type=_type_name(field.annotation),
            default="(unset)" if field.default is None else f"`{field.default}`",
            description=field.description or "",
        )
        for name, field in Settings.model_fields.items()
    )


def settings_registry() -> tuple[SettingInfo, ...]:
    """Every setting bookwise reads: the environment's, then the database's."""
    return (*environment_settings(), *DATABASE_SETTINGS)


def settings_markdown() -> str:
    """The Markdown tables of every setting (for docs/deploying.md)."""
    lines = [
        "Read from the environment, once per process:",
        "",
        "| variable | type | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{s.key}` | {s.type} | {s.default} | {s.description} |" for s in environment_settings()
    ]
    lines += [
        "",
        "Kept in the database (table `settings`), so every process sees the same value:",
        "",
        "| key | values | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{s.key}` | {s.type} | {s.default} | {s.description} |" for s in DATABASE_SETTINGS
    ]
    return "\n".join(lines) + "\n"
