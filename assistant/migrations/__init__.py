"""Alembic migrations. Named, append-only: never edit a released file, add the next number."""
