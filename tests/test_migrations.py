"""The migrations build exactly the schema the models describe, on every backend."""

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from api import migrate
from api.models import metadata


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_database_is_at_the_newest_revision(engine: Engine, database_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert set(current) == set(script.get_heads())


def test_upgrading_twice_changes_nothing(engine: Engine, database_url: str) -> None:
    migrate.upgrade(database_url)
    test_models_and_migrations_agree(engine)


def test_revision_files_are_date_named(database_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    for revision in script.walk_revisions():
        assert revision.path is not None
        name = revision.path.rsplit("/", 1)[-1]
        assert re.match(r"\d{4}_\d{2}_\d{2}_\d{4}-", name), name
