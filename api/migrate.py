"""Alembic driven from Kern's settings, for the CLI and the tests."""

from alembic import command
from alembic.config import Config

from api.config import ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for this checkout and the given database."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    # ConfigParser treats % as interpolation; a password may contain one.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)
