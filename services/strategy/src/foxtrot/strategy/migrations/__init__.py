"""Strategy's Alembic migrations (schema ``strategy``): ``MIGRATIONS`` is their script location."""

from importlib.resources import files

__all__ = ["MIGRATIONS"]

# A path, not a package name: Alembic reads env.py and versions/ from the directory.
MIGRATIONS = str(files(__name__))
