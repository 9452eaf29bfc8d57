"""Fixtures: a real database (PostgreSQL or SQLite), a real Redis, the services' apps."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ops.redis_server import RedisServer
from ops.testing import TestDatabases, backend, test_environment, test_settings
from shared.auth import StaffAccount, issue_token
from shared.i18n import DOMAINS, LOCALES_DIR


def pytest_configure(config: pytest.Config) -> None:
    """The compiled catalogues, as `make test` builds them, also when pytest is run directly."""
    for domain in DOMAINS:
        stale = [po for po in LOCALES_DIR.glob(f"*/LC_MESSAGES/{domain}.po")
                 if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
        if stale:
            subprocess.run([str(Path(sys.executable).with_name("pybabel")), "-q", "compile", "-d", str(LOCALES_DIR), "-D", domain],
                           check=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    dbs = TestDatabases(backend(), tmp_path_factory.mktemp("db"), tag=f"test{os.getpid()}").create()
    yield dbs
    dbs.drop()


@pytest.fixture(scope="session")
def environ(databases: TestDatabases, redis_server: RedisServer) -> dict[str, str]:
    return test_environment(databases, redis_server.url)


@pytest.fixture(scope="session")
def settings(environ: dict[str, str]):
    return test_settings(environ)


@pytest.fixture
def clean(databases: TestDatabases, redis_server: RedisServer) -> None:
    databases.clean()
    import redis

    redis.Redis.from_url(redis_server.url).flushall()


@pytest.fixture(scope="session")
def registration_app(settings):
    from services.registration import create_app

    return create_app(settings)


@pytest.fixture
def client(registration_app):
    return registration_app.test_client()


@pytest.fixture
def staff_token(databases: TestDatabases, settings) -> Callable[[str], str]:
    """Create a staff account with `role` and return its bearer token."""

    def make(role: str = "admin", email: str | None = None) -> str:
        engine = sa.create_engine(databases.urls["registration"])
        with Session(engine, expire_on_commit=False) as session:
            account = StaffAccount(email=email or f"{role}@efus.eu", role=role)
            session.add(account)
            session.commit()
        engine.dispose()
        return issue_token(account, settings.secret_key)

    return make


@pytest.fixture
def auth(staff_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token('events')}"}


def event_payload(**overrides: Any) -> dict[str, Any]:
    starts = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)
    payload: dict[str, Any] = {
        "slug": "police-academy-lisbon",
        "kind": "academy",
        "title": {"en": "Police academy in Lisbon", "fr": "Académie de police à Lisbonne"},
        "description": {"en": "Three days on community policing.", "fr": "Trois jours sur la police de proximité."},
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(days=2)).isoformat(),
        "timezone": "Europe/Lisbon",
        "venue": "Câmara Municipal de Lisboa",
        "capacity": 2,
        "published": True,
    }
    payload.update(overrides)
    return payload


def under_way() -> dict[str, str]:
    """The dates of an event whose day has come (it started an hour ago: check-in is open and
    certificates may go out) while its registration stays open for a day more."""
    now = dt.datetime.now(dt.timezone.utc)
    return {"starts_at": (now - dt.timedelta(hours=1)).isoformat(), "ends_at": (now + dt.timedelta(days=2)).isoformat(),
            "registration_closes_at": (now + dt.timedelta(days=1)).isoformat()}


def person(number: int = 1, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": f"Ana{number}",
        "last_name": "Silva",
        "email": f"ana{number}@example.org",
        "organisation": "Polícia Municipal",
        "position": "Inspector",
        "city": "Lisbon",
        "country": "PT",
        "language": "en",
        "consent": True,
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_event(client, auth) -> Callable[..., dict]:
    def make(**overrides: Any) -> dict:
        response = client.post("/api/v1/events", json=event_payload(**overrides), headers=auth)
        assert response.status_code == 201, response.json
        return response.json

    return make
