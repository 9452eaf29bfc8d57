"""Input an attacker sends to the orders service: a 4xx naming the field, nothing written."""
from __future__ import annotations

import pytest

from shared.schemas import MAX_ID
from tests.orders.conftest import order_payload
from tests.orders.test_order_bad_input import nothing_written

URL = "/api/v1/orders"


@pytest.mark.parametrize(("body", "field"), [
    (order_payload(2, first_name="Ana\x00"), "first_name"),
    (order_payload(2, address="Rua\x00 34"), "address"),
    (order_payload(2, lines=[{"publication": "police-population-relations\x00", "copies": 1}]), "lines.0.publication"),
    (order_payload(2, organisation="Polícia\x01"), "organisation"),
    (order_payload(2, address="Rua Cardeal\x0b Saraiva"), "address"),
    (order_payload(2, city="Lisboa\x1f"), "city"),
    (order_payload(2, postcode="1070\t046"), "postcode"),
    (order_payload(2, last_name="\ud800"), "last_name"),
    (order_payload(2, occupation="x\udc00"), "occupation"),
    (order_payload(2, first_name="\u2003"), "first_name"),
])
def test_hostile_text_in_an_order(orders, make_publication, orders_app, body, field):
    make_publication()
    response = orders.post(URL, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert nothing_written(orders_app)


def test_an_address_keeps_its_lines_and_the_email_its_spaces_trimmed(orders, make_publication, orders_app):
    make_publication()
    response = orders.post(URL, json=order_payload(2, address="Rua Cardeal Saraiva 34\r\n2.º andar", email=" ana.silva@cm-lisboa.pt "))
    assert response.status_code == 201, response.json


def test_nul_in_a_path_or_query(orders, staff, make_publication, orders_app):
    make_publication()
    assert orders.get("/api/v1/publications/%00x").status_code == 404
    assert "slug" in orders.get("/api/v1/publications/%00x").json["errors"]
    response = orders.get("/api/v1/orders?status=%00", headers=staff)
    assert response.status_code == 422 and "status" in response.json["errors"]
    assert orders.get("/api/v1/invoices/%00.pdf", headers=staff).status_code == 404


def test_deeply_nested_json_is_400(orders, make_publication, orders_app):
    make_publication()
    response = orders.post(URL, data="[" * 20_000 + "]" * 20_000, content_type="application/json")
    assert response.status_code == 400 and "body" in response.json["errors"]
    assert nothing_written(orders_app)


@pytest.mark.parametrize("number", [MAX_ID + 1, 2**63, 10**30])
def test_ids_beyond_the_integer_range(orders, staff, orders_app, number):
    assert orders.get(f"/api/v1/orders/{number}", headers=staff).status_code == 404
    assert orders.get(f"/api/v1/orders/{number}/invoice.pdf", headers=staff).status_code == 404
    for action in ("approve", "invoice", "mark-paid", "ship", "cancel"):
        assert orders.post(f"/api/v1/orders/{number}/{action}", headers=staff).status_code == 404, action
    response = orders.get(f"/api/v1/free-copies?member_organisation_id={number}", headers=staff)
    assert response.status_code == 422 and "member_organisation_id" in response.json["errors"], response.json
    assert nothing_written(orders_app)
