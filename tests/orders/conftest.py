"""Fixtures of the orders tests: the orders app, and a real registration service under
gunicorn whose member directory the orders service asks over HTTP."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from ops.testing import ServiceProcess, test_settings


@pytest.fixture(autouse=True)
def _clean(clean) -> None:
    """Every orders test starts from empty databases and an empty Redis."""


@pytest.fixture(scope="session")
def registration_service(environ: dict[str, str]) -> Iterator[ServiceProcess]:
    """The member directory, as the orders service reaches it in production."""
    process = ServiceProcess("registration", environ, workers=2).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def orders_environ(environ: dict[str, str], registration_service: ServiceProcess) -> dict[str, str]:
    return {**environ, "REGISTRATION_URL": registration_service.url}


@pytest.fixture(scope="session")
def orders_app(orders_environ: dict[str, str]):
    from services.orders import create_app

    return create_app(test_settings(orders_environ))


@pytest.fixture
def orders(orders_app):
    """A test client of the orders service."""
    return orders_app.test_client()


@pytest.fixture
def staff(staff_token) -> dict[str, str]:
    """Headers of a member of the publications team."""
    return {"Authorization": f"Bearer {staff_token('publications')}"}


@pytest.fixture
def make_publication(orders, staff) -> Callable[..., dict]:
    def make(**overrides: Any) -> dict:
        response = orders.post("/api/v1/publications", json=publication_payload(**overrides), headers=staff)
        assert response.status_code == 201, response.json
        return response.json

    return make


@pytest.fixture
def make_member(client, auth) -> Callable[..., dict]:
    """Add a member organisation to the registration service's directory."""

    def make(name: str = "Câmara Municipal de Lisboa", domain: str = "cm-lisboa.pt", country: str = "PT") -> dict:
        response = client.post("/api/v1/members", json={"name": name, "country": country, "domains": [domain]}, headers=auth)
        assert response.status_code == 201, response.json
        return response.json

    return make


def publication_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": "police-population-relations",
        "title": {
            "en": "Police-Population Relations: Challenges, Local Practices and Recommendations",
            "fr": "Relations police-population : défis, pratiques locales et recommandations",
        },
        "languages": ["fr", "en"],
        "stock": 100,
    }
    data.update(overrides)
    return data


def order_payload(copies: int = 1, publication: str = "police-population-relations", **overrides: Any) -> dict[str, Any]:
    """The seed's order form, filled in by a member of Lisbon's municipal police."""
    data: dict[str, Any] = {
        "lines": [{"publication": publication, "copies": copies}],
        "first_name": "Ana",
        "last_name": "Silva",
        "occupation": "Inspector",
        "organisation": "Polícia Municipal de Lisboa",
        "address": "Rua Cardeal Saraiva 34",
        "city": "Lisboa",
        "postcode": "1070-046",
        "country": "PT",
        "email": "ana.silva@cm-lisboa.pt",
        "telephone": "+351 21 000 0000",
        "language": "en",
    }
    data.update(overrides)
    return data
