"""Fixtures of the embed tests: the registration and orders services under gunicorn, static
host pages on other origins (one allowed, one not), and headless Debian Chromium driven by
Playwright, with axe-core from node_modules for the accessibility checks."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest
import requests

from ops.redis_server import free_port
from ops.testing import ServiceProcess
from tests.conftest import event_payload
from tests.embed.helpers import CHROMIUM, require

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(autouse=True)
def _clean(clean) -> None:
    """Every embed test starts from empty databases and an empty Redis (rate-limit counters too)."""


class HostSite:
    """A static website on its own origin (`http://localhost:PORT`), serving pages set by the tests."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.headers: dict[str, dict[str, str]] = {}
        pages, headers = self.pages, self.headers

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for name, value in headers.get(self.path.split("?")[0], {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, path: str, body: str, css: str = "", title: str = "City of Lisbon – events",
             headers: dict[str, str] | None = None) -> str:
        """Publish a CMS-like page holding `body`, sent with `headers`; returns its address."""
        style = f"<style>{css}</style>" if css else ""
        self.pages[path] = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"{style}</head><body><header><a href='/'>City of Lisbon</a></header>"
            f"<main><h1>{title}</h1>{body}</main></body></html>"
        )
        self.headers[path] = headers or {}
        return self.origin + path

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def host() -> Iterator[HostSite]:
    """The website allowed to embed the forms (EMBED_ALLOWED_ORIGINS)."""
    site = HostSite()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def foreign_host() -> Iterator[HostSite]:
    """A website that is not in EMBED_ALLOWED_ORIGINS."""
    site = HostSite()
    yield site
    site.stop()


class Services:
    def __init__(self, registration: ServiceProcess, orders: ServiceProcess):
        self.registration = registration
        self.orders = orders


@pytest.fixture(scope="session")
def services(environ: dict[str, str], host: HostSite) -> Iterator[Services]:
    registration = ServiceProcess("registration", {}, workers=2)
    orders = ServiceProcess("orders", {}, workers=2)
    common = {**environ, "EMBED_ALLOWED_ORIGINS": host.origin, "REGISTRATION_URL": registration.url, "ORDERS_URL": orders.url}
    registration.environ = {**common, "PUBLIC_BASE_URL": registration.url}
    orders.environ = common
    registration.start()
    try:
        orders.start()
        yield Services(registration, orders)
    finally:
        orders.stop()
        registration.stop()


@pytest.fixture
def registration_url(services: Services) -> str:
    return services.registration.url


@pytest.fixture
def staff(staff_token) -> dict[str, str]:
    """Headers of an account allowed to manage events and publications."""
    return {"Authorization": f"Bearer {staff_token('admin')}"}


@pytest.fixture
def publish_event(registration_url: str, staff: dict[str, str]) -> Callable[..., dict]:
    def publish(**overrides: Any) -> dict:
        response = requests.post(f"{registration_url}/api/v1/events", json=event_payload(**overrides), headers=staff, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    return publish


@pytest.fixture
def registrations(registration_url: str, staff: dict[str, str]) -> Callable[[str], list[dict]]:
    """What the registration service holds for an event, as staff see it."""

    def listing(slug: str) -> list[dict]:
        response = requests.get(f"{registration_url}/api/v1/events/{slug}/registrations", headers=staff, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    return listing


# --- the browser -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    require(CHROMIUM, "install Debian's chromium (make test does: deploy/system-packages.sh --browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 1000}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
