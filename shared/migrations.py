"""Alembic migrations, one history per service, run from code (`eupolnet migrate`)."""
from __future__ import annotations

import functools
import importlib
import logging
import time

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from shared.config import ROOT, SERVICES
from shared.db import db


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def migrated_services() -> tuple[str, ...]:
    """The services that have a migration history (all of them once each exists)."""
    return tuple(s for s in SERVICES if (ROOT / "services" / s / "migrations" / "env.py").exists())


def upgrade(service: str, url: str) -> None:
    command.upgrade(alembic_config(service, url), "head")


def upgrade_when_reachable(service: str, url: str, wait: float) -> None:
    """`upgrade`, retried while the database cannot be reached (still starting, restarting)
    for up to `wait` seconds; a failing migration itself is not retried."""
    deadline = time.monotonic() + wait
    delay = 0.5
    while True:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5} if url.startswith("postgresql") else {})
        try:
            with engine.connect():
                break
        except sa.exc.OperationalError as error:
            if time.monotonic() + delay > deadline:
                raise
            logging.getLogger(__name__).warning("%s: database not reachable yet (%s), retrying in %.1fs",
                                                service, str(error).splitlines()[0], delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        finally:
            engine.dispose()
    upgrade(service, url)


@functools.cache
def head_revision(service: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(service, "sqlite://")).get_current_head()


def migration_state(service: str, connection) -> str:  # noqa: ANN001  (a SQLAlchemy connection)
    """"ok" when the database is at the service's latest migration, else what it is at."""
    current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision(service)
    return "ok" if current == head else f"error: database at {current or 'no revision'}, code expects {head}"


def databases_ready(urls: dict[str, str]) -> dict[str, str]:
    """Per service (of `urls`): "ok" when its database answers and is at its latest migration."""
    checks = {}
    for service, url in urls.items():
        engine = sa.create_engine(url, connect_args={"connect_timeout": 2} if url.startswith("postgresql") else {})
        try:
            with engine.connect() as connection:
                checks[service] = migration_state(service, connection)
        except sa.exc.SQLAlchemyError as error:
            checks[service] = f"error: {type(error).__name__}"
        finally:
            engine.dispose()
    return checks


def make_revision(service: str, url: str, message: str) -> None:
    """Autogenerate a revision from the service's models (developers only)."""
    command.revision(alembic_config(service, url), message=message, autogenerate=True)


def run_env(service: str, shared_tables: tuple[str, ...]) -> None:
    """Body of each service's `migrations/env.py`: only that service's tables are managed."""
    importlib.import_module(f"services.{service}.models")
    importlib.import_module("shared.outbox")
    importlib.import_module("shared.auth")
    importlib.import_module("shared.audit")
    owned = set(shared_tables) | {
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if mapper.class_.__module__.startswith(f"services.{service}.")
    }

    def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in owned

    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_audit_table(op) -> None:  # noqa: ANN001  (alembic's `op` module)
    """Every service's `audit_entry` table (shared.audit), one definition for the three histories."""
    import sqlalchemy as sa

    from shared.db import UTCDateTime

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("staff_email", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entry_action", "audit_entry", ["action"])
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])


def drop_audit_table(op) -> None:  # noqa: ANN001
    op.drop_table("audit_entry")
