"""Fixtures of the Plone tests: the EU-POLNET services under gunicorn (project venv), a real
Plone 6.2 site under waitress (its own venv), and headless Debian Chromium via Playwright.

Run with the project's venv from the repository root: `make test-plone`.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from plone_instance import PloneInstance, ensure_venv  # this folder is on sys.path (pytest's rootdir conftest)
from ops.redis_server import RedisServer, free_port
from ops.testing import ServiceProcess, TestDatabases, test_environment
from shared.auth import StaffAccount, issue_token

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SECRET_KEY = "plone-test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def plone_port() -> int:
    """Chosen first: the services must list the Plone site's origin in EMBED_ALLOWED_ORIGINS."""
    return free_port()


@pytest.fixture(scope="session")
def services(tmp_path_factory, plone_port) -> Iterator[SimpleNamespace]:
    """The registration and orders services on SQLite and a private Redis, as in production."""
    redis = RedisServer(tmp_path_factory.mktemp("redis")).start()
    databases = TestDatabases("sqlite", tmp_path_factory.mktemp("db"), tag="plone").create()
    registration = ServiceProcess("registration", {}, workers=2)
    orders = ServiceProcess("orders", {}, workers=2)
    common = {
        **test_environment(databases, redis.url),
        "SECRET_KEY": SECRET_KEY,
        "EMBED_ALLOWED_ORIGINS": f"http://localhost:{plone_port}",
        "REGISTRATION_URL": registration.url,
        "ORDERS_URL": orders.url,
    }
    registration.environ = {**common, "PUBLIC_BASE_URL": registration.url}
    orders.environ = common
    try:
        yield SimpleNamespace(registration=registration.start(), orders=orders.start(), databases=databases)
    finally:
        orders.stop()
        registration.stop()
        redis.stop()


@pytest.fixture(scope="session")
def staff(services) -> dict[str, str]:
    """Headers of a secretariat administrator (events and publications)."""
    engine = sa.create_engine(services.databases.urls["registration"])
    with Session(engine, expire_on_commit=False) as session:
        account = StaffAccount(email="admin@efus.eu", role="admin")
        session.add(account)
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer {issue_token(account, SECRET_KEY)}"}


@pytest.fixture(scope="session")
def published(services, staff) -> dict[str, dict]:
    """What the secretariat published: an academy in Lisbon, a web conference, a publication."""
    starts = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=30)
    events = [
        {
            "slug": "police-academy-lisbon", "kind": "academy",
            "title": {"en": "Police academy in Lisbon", "fr": "Académie de police à Lisbonne"},
            "starts_at": starts.isoformat(), "ends_at": (starts + dt.timedelta(days=2)).isoformat(),
            "timezone": "Europe/Lisbon", "venue": "Câmara Municipal de Lisboa", "capacity": 30, "published": True,
        },
        {
            "slug": "webconference-cctv", "kind": "webconference",
            "title": {"en": "Web conference: CCTV and privacy", "fr": "Webconférence : vidéoprotection et vie privée"},
            "starts_at": (starts + dt.timedelta(days=7)).isoformat(),
            "ends_at": (starts + dt.timedelta(days=7, hours=2)).isoformat(),
            "timezone": "Europe/Paris", "join_url": "https://meet.example.org/cctv", "published": True,
        },
    ]
    registration, orders = services.registration.url, services.orders.url
    for event in events:
        response = requests.post(f"{registration}/api/v1/events", json=event, headers=staff, timeout=10)
        assert response.status_code == 201, response.text
    publication = {
        "slug": "safer-cities-guide",
        "title": {"en": "Guide to Safer Cities", "fr": "Guide des villes plus sûres"},
        "languages": ["en", "fr"], "stock": 100,
    }
    response = requests.post(f"{orders}/api/v1/publications", json=publication, headers=staff, timeout=10)
    assert response.status_code == 201, response.text
    return {"events": {e["slug"]: e for e in events}, "publication": publication}


@pytest.fixture(scope="session")
def plone(tmp_path_factory, plone_port) -> Iterator[PloneInstance]:
    """A fresh Plone site (Classic UI) with a FileStorage, served by waitress on localhost."""
    instance = PloneInstance(ensure_venv(), tmp_path_factory.mktemp("plone"), plone_port).create().start()
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def new_page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    return context.new_page()


@pytest.fixture(scope="session")
def editor(browser, plone):
    """A site administrator's browser, logged in through the site's login form."""
    page = new_page(browser)
    page.goto(f"{plone.url}/login")
    page.fill("#__ac_name", "admin")
    page.fill("#__ac_password", plone.password)
    page.click("#buttons-login")
    page.wait_for_selector("#edit-zone, .plone-toolbar-main, #portal-personaltools", state="attached")
    yield page
    page.context.close()


@pytest.fixture
def visitor(browser):
    """An anonymous visitor's browser, with nothing in common with the editor's."""
    page = new_page(browser)
    yield page
    page.context.close()
