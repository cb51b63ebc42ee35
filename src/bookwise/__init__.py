"""bookwise: decide and remember which Customer Success Manager owns which account."""

__version__ = "0.1.0"
