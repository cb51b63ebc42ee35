"""Formula-safe CSV export of accounts, users and ownership history."""

from bookwise.exporting.accounts import write_accounts_csv
from bookwise.exporting.history import write_book_csv, write_history_csv, write_timeline_csv
from bookwise.exporting.users import write_users_csv

__all__ = [
    "write_accounts_csv",
    "write_book_csv",
    "write_history_csv",
    "write_timeline_csv",
    "write_users_csv",
]
