"""Date parameters of the API: ``YYYY-MM-DD``, or ``today``/``yesterday`` in the installation's
time zone (as on the command line)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from bookwise.dates import DATE_FORMS, DAYS_BACK, parse_date
from bookwise.errors import InvalidInput

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9999, 12, 30)
"""The last day whose end (the next midnight) a date can still hold."""


def _day(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return parse_date(value)
    except InvalidInput:
        raise PydanticCustomError(
            "date_word",
            "{text} is not a date (expected {forms})",
            {"text": repr(value), "forms": DATE_FORMS},
        ) from None


def _in_range(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError(
            "date_range",
            "{day} is out of range ({first} to {last})",
            {"day": day.isoformat(), "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )
    return day


Day = Annotated[
    date,
    BeforeValidator(_day),
    AfterValidator(_in_range),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "enum": list(DAYS_BACK)},
            ]
        }
    ),
]
"""A day from 1900-01-01 to 9999-12-30: an ISO date, or ``today``/``yesterday`` (resolved
when the request is read). The range is checked here rather than with ``Query(ge=, le=)``,
which would leak ``ge``/``le`` into the JSON schema given by ``WithJsonSchema``."""
