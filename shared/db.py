"""Database access shared by the services.

One `db` object; each service's Flask app binds it to its own database URL. SQLite is the
embedded default, PostgreSQL the production database. On SQLite every transaction starts
with `BEGIN IMMEDIATE`, so two writers never both read a count and then both write: the
capacity and quota rules hold on both databases.

The transaction rule, the same in every service:
- **The caller owns the transaction.** A view (one web request) or an actor (one message)
  commits once, after the operations it called; operations and each service's `staff.py`
  (which writes the audit entry beside the change) change objects and flush, never commit
  or roll back. An error before the commit writes nothing: Flask-SQLAlchemy rolls the
  session back at the end of the request, and a view that answers an error itself (a form
  shown again with its errors) rolls back first.
- **No transaction stays open across a network call.** Before asking another service over
  HTTP (the orders service's member lookup in `resolve_membership`, the back office's
  `remote.service_api`), `close_before_call()` ends the reads done so far: the other
  service may call this one back, and on SQLite an open transaction holds the database's
  write lock. What was read is read again, under lock, after the call.
- **Two places commit more than once**, for the same reason: a slow step that must not
  hold a transaction sits between two short ones, each committed on its own.
  - The notify service's `deliver`: the SMTP conversation (seconds, and the part that may
    be repeated) sits between the transaction that claims the delivery and the one that
    records its outcome (services/notify/operations.py says why that is safe).
  - The orders service's documents: commit the number, render, commit the file. The
    issuing view commits the number and the document's row, then `store_pdf` renders the
    PDF outside any transaction (the year's counter is free meanwhile) and commits it in a
    transaction of its own; a document left without PDF is rendered when next asked for.
- Jobs outside a request (the relay, the scheduler, the retention job, `retry_on_lock_conflict`)
  own their transactions the same way: each commits its own unit of work.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


T = TypeVar("T")

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware datetime stored in UTC on every database (SQLite has no time zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a time zone")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def engine_options(url: str) -> dict[str, Any]:
    """Engine options that suit the database behind `url`."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_size": 5, "max_overflow": 10}


#: seconds a pooled PostgreSQL connection may rest in the pool and be used without a ping
PING_AFTER_IDLE = 1.0


def ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use when it rested in the pool for more than
    PING_AFTER_IDLE seconds, and replace it when the ping fails (the database restarted).

    SQLAlchemy's `pool_pre_ping` pings before every use: a round trip per request, a
    tenth of a registration's time in a rush, to catch what only happens after a pause.
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def _rested_since(dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if time.monotonic() - record.info.get("checked_in_at", 0.0) <= PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise sa.exc.DisconnectionError() from error  # the pool connects again


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of pysqlite's deferred one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def dialect_insert(model: type[Base]) -> Any:
    """The database's own INSERT into `model`'s table, which knows ON CONFLICT (PostgreSQL,
    SQLite); on the table itself, as the ORM adds nothing to a single-row upsert but time."""
    return (postgresql if db.engine.dialect.name == "postgresql" else sqlite).insert(model.__table__)


def insert_if_absent(model: type[Base], values: dict[str, Any], key: str | None = None) -> Any:
    """INSERT that does nothing when the row exists (a conflict on the unique `key`, or on
    any unique constraint when `key` is None).

    Two transactions running it at once both succeed; the second waits for the first one's
    commit (PostgreSQL) or for the database (SQLite), then finds the row.
    """
    return dialect_insert(model).values(**values).on_conflict_do_nothing(index_elements=[key] if key else None)


def close_before_call() -> None:
    """End the session's transaction before a call to another service (the rule above):
    nothing was written yet, so this only lets go of what the reads held."""
    db.session.rollback()


def ping(session: Any) -> None:
    session.execute(sa.text("SELECT 1"))


#: SQLSTATEs of a transaction PostgreSQL aborted for a lock conflict (serialization failure,
#: deadlock): nothing of it was written, and running it again succeeds
LOCK_CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
#: how often a transaction is tried before its lock conflict is reported
LOCK_CONFLICT_ATTEMPTS = 5


def is_lock_conflict(error: BaseException) -> bool:
    return isinstance(error, sa.exc.DBAPIError) and getattr(error.orig, "sqlstate", None) in LOCK_CONFLICT_SQLSTATES


class RunAgain(Exception):
    """Raised by a transaction that lost a race the database caught (a unique index, a row
    changed since it was read): run again, it sees what the winner committed."""


def retry_on_lock_conflict(transaction: Callable[[], T]) -> T:
    """Run `transaction` (which commits its own work) again after a lock conflict (or
    `RunAgain`), a few times with a short random pause: the last line of defence behind one
    lock order, so that nobody gets an error for a conflict the database resolved by
    aborting their transaction."""
    for attempt in range(1, LOCK_CONFLICT_ATTEMPTS):
        try:
            return transaction()
        except (sa.exc.DBAPIError, RunAgain) as error:
            if not isinstance(error, RunAgain) and not is_lock_conflict(error):
                raise
            db.session.rollback()
            time.sleep(random.uniform(0, 0.02 * attempt))
    return transaction()
