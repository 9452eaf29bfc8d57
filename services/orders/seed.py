"""Development data: the publication of the seed documents, ready to be ordered.

Run by the orders migrations after an upgrade in development (so `eupolnet migrate` and
`make run` both leave a catalogue to try the order form with) and by `eupolnet seed`.
Running it again changes nothing.
"""
from __future__ import annotations

import copy

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session

from services.orders.models import Publication
from shared.config import load_settings

POLICE_POPULATION_RELATIONS = {
    "slug": "police-population-relations",
    "title": {
        "en": "Police-Population Relations: Challenges, Local Practices and Recommendations",
        "fr": "Relations police-population : défis, pratiques locales et recommandations",
    },
    # a bilingual French/English edition
    "languages": ["fr", "en"],
    "stock": 500,
    "active": True,
}
PUBLICATIONS = (POLICE_POPULATION_RELATIONS,)


def seed(session: Session) -> list[str]:
    """Add the development publications that are missing; returns the slugs added."""
    existing = set(session.scalars(sa.select(Publication.slug)))
    added = [data["slug"] for data in PUBLICATIONS if data["slug"] not in existing]
    session.add_all(Publication(**copy.deepcopy(data)) for data in PUBLICATIONS if data["slug"] in added)
    session.commit()
    return added


def seed_database(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with Session(engine) as session:
            return seed(session)
    finally:
        engine.dispose()


def seed_after_migrations(config: Config) -> None:
    """In development, seed a database the migrations left at the latest revision (not
    one that was just downgraded, nor the empty one a first revision is generated from)."""
    if load_settings().env != "development":
        return
    url = config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    if current is not None and current == ScriptDirectory.from_config(config).get_current_head():
        seed_database(url)
