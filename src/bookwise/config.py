"""Settings from the environment (prefix ``BOOKWISE_``)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Installation settings; every field can be set as ``BOOKWISE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="BOOKWISE_", extra="ignore")

    database_url: str = "sqlite:///bookwise.db"
    currency: str = "USD"
    timezone: str = "UTC"
    actor: str | None = None
    sqlite_cache_mib: int = 256
    # An import streams the file through its own, smaller page cache: a million-row import
    # then peaks near 110 MiB instead of filling the read cache (docs/import-export.md).
    sqlite_import_cache_mib: int = 8
    # Session cookies are Secure except over plain HTTP on loopback (the demo); force either.
    cookie_secure: bool | None = None

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

    @property
    def zone(self) -> ZoneInfo:
        """The installation's time zone."""
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
