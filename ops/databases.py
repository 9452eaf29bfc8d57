"""The databases of every service: which have a migration history, bringing one up to date
once it answers (`eupolnet migrate --wait`), and whether each is ready (`eupolnet ready`).

One service's Alembic helpers are library code, in `shared.migrations`.
"""
from __future__ import annotations

import logging
import time

import sqlalchemy as sa

from shared.config import ROOT, SERVICES
from shared.migrations import migration_state, upgrade


def migrated_services() -> tuple[str, ...]:
    """The services that have a migration history (all of them once each exists)."""
    return tuple(s for s in SERVICES if (ROOT / "services" / s / "migrations" / "env.py").exists())


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
