"""Fixtures of the Volto tests: the EU-POLNET services, a real Plone 6.2 backend (a site of
the `volto` distribution with eupolnet.plone), the Volto frontend built by `make test-volto`
and served by its own Node server, and headless Debian Chromium via Playwright.

The services, the browser and the Plone virtualenv are the ones of the Classic add-on's
browser tests (plugins/eupolnet.plone/tests/browser), loaded from there; what differs is
that visitors' browsers load the forms from the Volto site's origin.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

FRONTEND = Path(__file__).resolve().parents[1]
CLASSIC_TESTS = FRONTEND.parent / "eupolnet.plone" / "tests" / "browser"
sys.path.insert(0, str(CLASSIC_TESTS))

from plone_instance import PloneInstance, ensure_venv  # noqa: E402

from ops.redis_server import free_port  # noqa: E402

_spec = importlib.util.spec_from_file_location("eupolnet_plone_browser_fixtures", CLASSIC_TESTS / "conftest.py")
classic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(classic)

# The same fixtures as the Classic tests (pytest collects them from this module's names).
services, staff, published, browser = classic.services, classic.staff, classic.published, classic.browser
new_page = classic.new_page


@pytest.fixture(scope="session")
def plone_port() -> int:
    """The origin visitors' pages have, which the services must allow (EMBED_ALLOWED_ORIGINS):
    here the Volto site's, not the backend's."""
    return free_port()


@pytest.fixture(scope="session")
def backend(tmp_path_factory) -> Iterator[PloneInstance]:
    """A fresh Plone site of the `volto` distribution, eupolnet.plone installed through
    plone.restapi's @addons as Volto's Add-ons control panel does."""
    instance = PloneInstance(
        ensure_venv(), tmp_path_factory.mktemp("plone"), free_port(), distribution="volto"
    ).create().start()
    response = requests.post(
        f"{instance.url}/@addons/eupolnet.plone/install", auth=("admin", instance.password),
        headers={"Accept": "application/json"}, timeout=60,
    )
    assert response.status_code in (200, 204), response.text
    yield instance
    instance.stop()


class VoltoServer:
    """`node build/server.js` of the Volto build (make test-volto), in seamless mode: the
    browser talks to the Volto origin only, which proxies /++api++ to the backend."""

    def __init__(self, port: int, backend: PloneInstance, log: Path):
        self.port, self.backend, self.log_path = port, backend, log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self, timeout: float = 90.0) -> "VoltoServer":
        if not (FRONTEND / "build" / "server.js").exists():
            pytest.fail(f"{FRONTEND}/build is missing: run `make test-volto` (it builds the Volto site)")
        backend_api = f"http://localhost:{self.backend.port}/{self.backend.site_id}"
        environ = {
            **os.environ, "NODE_ENV": "production", "PORT": str(self.port), "HOST": "localhost",
            "RAZZLE_API_PATH": self.url, "RAZZLE_INTERNAL_API_PATH": backend_api,
            "RAZZLE_DEV_PROXY_API_PATH": backend_api,
        }
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            ["node", "build/server.js"], cwd=FRONTEND, env=environ, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.url}/ok", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Volto did not start; see {self.log_path}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)
        self.process = None


@pytest.fixture(scope="session")
def volto(plone_port, backend, tmp_path_factory) -> Iterator[VoltoServer]:
    server = VoltoServer(plone_port, backend, tmp_path_factory.mktemp("volto") / "server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def editor(browser, volto, backend):
    """A site administrator's browser, logged in through Volto's login form."""
    page = new_page(browser)
    page.goto(f"{volto.url}/login")
    page.fill("#login", "admin")
    page.fill("#password", backend.password)
    page.click("#login-form-submit")
    page.wait_for_selector("#toolbar .toolbar-content, #toolbar", state="attached")
    page.wait_for_url(lambda url: "/login" not in url)
    yield page
    page.context.close()


@pytest.fixture
def visitor(browser):
    page = new_page(browser)
    yield page
    page.context.close()
