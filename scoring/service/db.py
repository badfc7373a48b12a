"""The database: an engine for the settings' URL, sessions, and the migrations run at start-up.

SQLite (the embedded default) gets foreign keys switched on and a busy timeout for each connection, and its
folder is made; PostgreSQL is used as it comes. ``migrate`` brings any database to the newest revision with
Alembic (``upgrade head``), from the migrations shipped inside this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(settings: Settings) -> Engine:
    if not settings.embedded:
        return create_engine(settings.url, pool_pre_ping=True)
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(conn: Any, _record: Any) -> None:
        cursor = conn.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    return engine


def migrate(engine: Engine) -> None:
    """``alembic upgrade head`` on ``engine``'s database."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def lock_rows(session: Session, rows: Select[Any]) -> None:
    """Before reading what a write depends on (the next version number, a count against a limit), so that two
    requests cannot both read it and then both write: PostgreSQL locks the rows ``rows`` selects (FOR UPDATE);
    SQLite takes its one write lock now (``BEGIN IMMEDIATE``; other writers wait up to the busy timeout). Its
    driver would otherwise begin the transaction only at the first write, after the read."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(rows.with_for_update())
        return
    connection = session.connection()
    if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed at the end of the block, rolled back if it raises."""
    with factory() as session, session.begin():
        yield session
