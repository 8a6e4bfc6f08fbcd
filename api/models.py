"""Every table Kern has, imported in one place for Alembic and the tests."""

from api.db import metadata

__all__ = ["metadata"]
