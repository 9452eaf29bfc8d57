"""Alembic migrations, one history per service (`services/<name>/migrations`), run from code.

The library part: a service's Alembic configuration, its upgrade, where its database stands,
and the body of each history's `env.py`. Which services there are, and migrating or checking
all of them (`eupolnet migrate`, `eupolnet ready`, `make run`), is in `ops.databases`.
"""
from __future__ import annotations

import functools
import importlib

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from shared.config import ROOT
from shared.db import db


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str) -> None:
    command.upgrade(alembic_config(service, url), "head")


@functools.cache
def head_revision(service: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(service, "sqlite://")).get_current_head()


def migration_state(service: str, connection) -> str:  # noqa: ANN001  (a SQLAlchemy connection)
    """"ok" when the database is at the service's latest migration, else what it is at."""
    current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision(service)
    return "ok" if current == head else f"error: database at {current or 'no revision'}, code expects {head}"


def run_env(service: str, shared_tables: tuple[str, ...]) -> None:
    """Body of each service's `migrations/env.py`, which imports the service's models first:
    only the tables of those models and `shared_tables` are managed."""
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
