"""Seeded demo data: a realistic book of accounts, CSMs and owners (``bookwise demo``)."""

from bookwise.demo.generator import DemoSummary, generate_demo

__all__ = ["DemoSummary", "generate_demo"]
