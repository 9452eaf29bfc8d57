"""Fixtures of the back-office tests: staff accounts with passwords, and logging in."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ops.testing import ServiceProcess
from shared.auth import StaffAccount

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _clean(clean) -> None:
    """Every back-office test starts from empty databases and an empty Redis (login failures too)."""


@pytest.fixture
def staff_account(databases) -> Callable[..., str]:
    """Create a staff account with `role` and a password (PASSWORD); returns its email."""

    def make(role: str = "events", email: str | None = None) -> str:
        email = email or f"{role}.desk@efus.eu"
        engine = sa.create_engine(databases.urls["registration"])
        with Session(engine) as session:
            session.add(StaffAccount(email=email, role=role, password_hash=generate_password_hash(PASSWORD)))
            session.commit()
        engine.dispose()
        return email

    return make


def csrf(html: str) -> str:
    """The CSRF token of the first form in `html`."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


class _FormFields(HTMLParser):
    """What a browser sends for the forms of a page: inputs (checkboxes only when checked),
    the selected option of each select (else its first), textareas (less the newline that
    follows the tag, as browsers drop it)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in ("submit", "file"):
            if attributes.get("type") != "checkbox" or "checked" in attributes:
                self.fields[name] = attributes.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, True
        elif tag == "option" and self._select:
            if self._first_option or "selected" in attributes:
                self.fields[self._select] = attributes.get("value", "")
            self._first_option = False
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea:
                self.fields[self._textarea] = self.fields[self._textarea].removeprefix("\r\n").removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    """The fields the page's forms would send, by name (the last form's value of a name wins)."""
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


@pytest.fixture
def login(client, staff_account) -> Callable[..., object]:
    """Log the test client in as a new account with `role`."""

    def log_in(role: str = "events") -> object:
        email = staff_account(role)
        token = csrf(client.get("/staff/login").get_data(as_text=True))
        response = client.post("/staff/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return log_in


def audit_entries(client) -> list:
    """The registration service's audit entries, newest first."""
    from shared import audit

    with client.application.app_context():
        return audit.entries(None, 100)


def create_publication(orders_url: str, token: str) -> None:
    """The publication `safer-cities` (100 in stock), created through the orders API."""
    import requests

    response = requests.post(f"{orders_url}/api/v1/publications", headers={"Authorization": f"Bearer {token}"}, timeout=10,
                             json={"slug": "safer-cities", "title": {"en": "Safer cities", "fr": "Villes plus sûres"},
                                   "languages": ["en", "fr"], "stock": 100})
    assert response.status_code == 201, response.text


class Services:
    """The registration (with the back office), orders and notify services under gunicorn."""

    def __init__(self, registration: ServiceProcess, orders: ServiceProcess, notify: ServiceProcess):
        self.registration = registration
        self.orders = orders
        self.notify = notify


@pytest.fixture(scope="session")
def services(environ: dict[str, str]) -> Iterator[Services]:
    registration = ServiceProcess("registration", {}, workers=2)
    orders = ServiceProcess("orders", {}, workers=2)
    notify = ServiceProcess("notify", {}, workers=1)
    common = {**environ, "REGISTRATION_URL": registration.url, "ORDERS_URL": orders.url, "NOTIFY_URL": notify.url}
    registration.environ = {**common, "PUBLIC_BASE_URL": registration.url}
    orders.environ = notify.environ = common
    started: list[ServiceProcess] = []
    try:
        for service in (registration, orders, notify):
            service.start()
            started.append(service)
        yield Services(registration, orders, notify)
    finally:
        for service in reversed(started):
            service.stop()
