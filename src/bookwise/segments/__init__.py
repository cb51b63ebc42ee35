"""Segments (saved rules) and every selection made with a rule; sits above assignments."""
