"""Validated input for users."""

from __future__ import annotations

from typing import Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator


def normalise_email(value: str) -> str:
    """Check the syntax of an email address (no DNS look-up) and return it normalised."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid email address: {exc}") from None


def email_key(value: str) -> str:
    """The case-insensitive key under which an email is unique."""
    return value.strip().casefold()


class UserCreate(BaseModel):
    """A new user."""

    model_config = ConfigDict(extra="forbid")

    email: str
    name: str = Field(default="", max_length=200)
    role: Literal["admin", "manager", "viewer"] = "viewer"
    csm_seat: bool = False
    active: bool = True
    external_id: str | None = Field(default=None, max_length=100)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return normalise_email(value)
