"""Fixtures of the cross-service security tests: the three services' apps, with a real
registration service under gunicorn that the orders and notify services ask about staff
tokens (`/api/v1/staff/me`), as in production."""
from __future__ import annotations

import importlib
from typing import Iterator

import pytest
from flask import Flask

from ops.databases import migrated_services
from ops.testing import ServiceProcess, test_settings


@pytest.fixture(autouse=True)
def _clean(clean) -> None:
    """Every test starts from empty databases and an empty Redis."""


@pytest.fixture(scope="session")
def accounts_service(environ: dict[str, str]) -> Iterator[ServiceProcess]:
    process = ServiceProcess("registration", environ, workers=2).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def apps(environ: dict[str, str], accounts_service: ServiceProcess) -> dict[str, Flask]:
    """Each service's app, by name, asking `accounts_service` about staff tokens."""
    settings = test_settings({**environ, "REGISTRATION_URL": accounts_service.url})
    return {name: importlib.import_module(f"services.{name}").create_app(settings) for name in migrated_services()}
