"""The database is configured for safety on each backend."""

from sqlalchemy import Engine, text


def test_connections_are_configured_for_the_backend(engine: Engine) -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # WAL lets readers work while one request writes; a busy timeout makes a writer
            # wait instead of failing; SQLite enforces foreign keys only when asked.
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        else:
            assert engine.dialect.driver == "psycopg"
            assert engine.pool._pre_ping
            assert connection.execute(text("SHOW server_encoding")).scalar() == "UTF8"
