"""Tests of the rule language: parser, printer, English, and fuzzing."""
