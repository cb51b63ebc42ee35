"""The rule language: text ↔ typed AST, field and operator registries, compile to SQL, English.

Pure: nothing here opens a session or speaks HTTP. What a rule refers to in the database
(custom attributes, roles, users, segments) arrives as a ``Catalog`` built by the caller.
"""
