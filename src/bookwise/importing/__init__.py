"""Streaming CSV import of accounts and users."""
