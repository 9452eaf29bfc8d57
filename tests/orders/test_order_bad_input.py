"""Bad input of every kind answers 4xx naming the field, and writes nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.orders.models import FreeCopyLedger, Order, OrderLine
from shared.db import db
from shared.outbox import OutboxMessage
from tests.orders.conftest import order_payload

URL = "/api/v1/orders"


def nothing_written(app) -> bool:
    with app.app_context():
        return all(
            db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
            for model in (Order, OrderLine, FreeCopyLedger, OutboxMessage)
        )


def without(name: str) -> dict:
    return {key: value for key, value in order_payload(2).items() if key != name}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order_payload(0), "lines.0.copies"),
        (order_payload(-3), "lines.0.copies"),
        (order_payload(10**9), "lines.0.copies"),
        (order_payload(2.5), "lines.0.copies"),
        (order_payload("5"), "lines.0.copies"),
        (order_payload(None), "lines.0.copies"),
        (order_payload(2, lines=[]), "lines"),
        (order_payload(2, lines={"publication": "police-population-relations", "copies": 2}), "lines"),
        (order_payload(2, lines=[{"copies": 2}]), "lines.0.publication"),
        (order_payload(2, lines=[{"publication": "police-population-relations"}]), "lines.0.copies"),
        (order_payload(2, lines=[{"publication": "police-population-relations", "copies": 1, "price": 0}]), "lines.0.price"),
        (order_payload(2, lines=[{"publication": "police-population-relations", "copies": 1}] * 2), "lines"),
        (order_payload(2, lines=[{"publication": "police-population-relations", "copies": 1}] * 21), "lines"),
        (without("lines"), "lines"),
        (without("first_name"), "first_name"),
        (without("last_name"), "last_name"),
        (without("email"), "email"),
        (without("address"), "address"),
        (without("city"), "city"),
        (without("postcode"), "postcode"),
        (without("country"), "country"),
        (order_payload(2, email="not-an-email"), "email"),
        (order_payload(2, first_name=42), "first_name"),
        (order_payload(2, first_name=""), "first_name"),
        (order_payload(2, first_name="   "), "first_name"),
        (order_payload(2, address=" \n "), "address"),
        (order_payload(2, last_name="x" * 101), "last_name"),
        (order_payload(2, country="XX"), "country"),
        (order_payload(2, country="Portugal"), "country"),
        (order_payload(2, language="klingon"), "language"),
        (order_payload(2, telephone="call me maybe"), "telephone"),
        (order_payload(2, channel="pigeon"), "channel"),
        (order_payload(2, status="shipped"), "status"),
        (order_payload(2, website="http://spam.example"), "website"),
        ([order_payload(2)], "body"),
        ("5 copies please", "body"),
    ],
)
def test_invalid_order_names_the_field(orders, make_publication, orders_app, body, field):
    make_publication()
    response = orders.post(URL, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert response.json["message"]
    assert nothing_written(orders_app)


def test_unknown_publication(orders, make_publication, orders_app):
    make_publication()
    body = order_payload(2, lines=[{"publication": "police-population-relations", "copies": 1},
                                   {"publication": "no-such-book", "copies": 1}])
    response = orders.post(URL, json=body)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["lines.1.publication"]
    assert nothing_written(orders_app)


def test_more_copies_than_the_stock(orders, make_publication, orders_app):
    make_publication(stock=4)
    response = orders.post(URL, json=order_payload(5))
    assert response.status_code == 409
    assert response.json["errors"] == {"lines.0.copies": ["Only 4 copies are left."]}
    assert nothing_written(orders_app)


def test_non_json_body(orders, make_publication, orders_app):
    make_publication()
    form = orders.post(URL, data={"first_name": "Ana"})
    assert form.status_code == 415 and "body" in form.json["errors"]
    broken = orders.post(URL, data="{not json", content_type="application/json")
    assert broken.status_code == 400 and "body" in broken.json["errors"]
    empty = orders.post(URL)
    assert empty.status_code == 422 and "lines" in empty.json["errors"]
    assert nothing_written(orders_app)


def test_oversized_body(orders, make_publication, orders_app):
    make_publication()
    response = orders.post(URL, json=order_payload(2, address="x" * 100_000))
    assert response.status_code == 413 and response.json["message"]
    assert nothing_written(orders_app)


def test_unknown_order_and_document(orders, staff):
    for path in ("/api/v1/orders/999", "/api/v1/orders/999/invoice.pdf", "/api/v1/credit-notes/2026-99999.pdf",
                 "/api/v1/invoices/2026-99999.pdf"):
        response = orders.get(path, headers=staff)
        assert response.status_code == 404 and response.json["errors"], path
    assert orders.post("/api/v1/orders/999/invoice", headers=staff).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"slug": "Not A Slug", "title": {"en": "x"}, "languages": ["en"], "stock": 1}, "slug"),
    ({"slug": "book", "title": {"de": "x"}, "languages": ["de"], "stock": 1}, "title"),
    ({"slug": "book", "title": {"en": "x"}, "languages": ["xx"], "stock": 1}, "languages.0"),
    ({"slug": "book", "title": {"en": "x"}, "languages": ["en"], "stock": -1}, "stock"),
    ({"slug": "book", "title": {"en": "x"}, "languages": ["en"]}, "stock"),
])
def test_invalid_publication_names_the_field(orders, staff, body, field):
    response = orders.post("/api/v1/publications", json=body, headers=staff)
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert orders.get("/api/v1/publications").json == []


def test_stock_cannot_be_set_below_zero(orders, staff, make_publication):
    make_publication(stock=5)
    response = orders.patch("/api/v1/publications/police-population-relations", json={"stock": -1}, headers=staff)
    assert response.status_code == 422 and "stock" in response.json["errors"]
    assert orders.get("/api/v1/publications/police-population-relations").json["stock"] == 5
