"""Benchmarks: every scenario beside a hand-written SQL floor (docs/performance.md)."""
