"""Persistence: tables, migrations, the pseudonym-map cipher and keyword-only repository functions.

Imports point one way: this package imports ``assistant.domain`` and ``assistant.errors`` and
nothing above it (pipeline, api, app).
"""
