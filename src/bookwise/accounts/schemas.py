"""Validated account fields: what a person or a file may set on an account."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from bookwise.money import to_minor_units

_TIER = re.compile(r"^\s*(?:tier\s*)?(\d+)\s*$", re.IGNORECASE)


def _parse_tier(value: Any) -> Any:
    if isinstance(value, str):
        match = _TIER.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a tier (expected a number such as 1 or 'Tier 1')")
        return int(match.group(1))
    return value


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


Tier = Annotated[int, Field(ge=1, le=99), BeforeValidator(_parse_tier)]

VALUE_FIELDS = (
    "domain",
    "mrr",
    "health_score",
    "tier",
    "lifecycle_stage",
    "nps",
    "csm_rating",
    "region",
    "renewal_date",
    "inherit_policy",
)
"""The fields an account carries beside its name, external id and parent, in file order."""

STANDARD_FIELDS = (
    "name",
    "external_id",
    "domain",
    "mrr",
    "health_score",
    "tier",
    "lifecycle_stage",
    "nps",
    "csm_rating",
    "region",
    "renewal_date",
)


class AccountFields(BaseModel):
    """Standard fields of an account; ``mrr`` arrives in currency units, leaves in minor units."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300)
    external_id: str | None = Field(default=None, min_length=1, max_length=100)
    domain: str | None = Field(default=None, max_length=255)
    mrr: int | None = None
    health_score: int | None = Field(default=None, ge=0, le=100)
    tier: Tier | None = None
    lifecycle_stage: str | None = Field(default=None, max_length=50)
    nps: int | None = Field(default=None, ge=-100, le=100)
    csm_rating: int | None = Field(default=None, ge=1, le=5)
    region: str | None = Field(default=None, max_length=50)
    renewal_date: date | None = None
    inherit_policy: Literal["inherit", "own"] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_is_none(value)

    @field_validator("mrr", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Any:
        # This runs before _blank (pydantic runs "before" validators last-defined first).
        value = _blank_is_none(value)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value if value is None else to_minor_units(value, field="mrr")
        return to_minor_units(value, field="mrr")

    @field_validator("lifecycle_stage")
    @classmethod
    def _stage(cls, value: str | None) -> str | None:
        # Stages are a choice field: stored in one case so comparison is case-insensitive.
        return None if value is None else value.casefold()
