"""Invoices issued around midnight on 31 December: the number's year, the issue date and the
date inside the PDF all follow the seller's calendar day (Paris), on both sides of midnight."""
from __future__ import annotations

import datetime as dt

import facturx
import pytest
import time_machine

from ops import testing
from tests.orders.conftest import order_payload

UTC = dt.timezone.utc
#: the coming 31 December: the staff token, issued now, is older than that on the faked clock
YEAR = dt.date.today().year


@pytest.fixture
def orders(orders_environ):
    """The orders service with staff tokens valid for two years, as its clock jumps ahead."""
    from services.orders import create_app

    return create_app(testing.test_settings({**orders_environ, "STAFF_TOKEN_DAYS": "730"})).test_client()


def invoice_at(orders, headers, moment: dt.datetime, order_id: int) -> dict:
    with time_machine.travel(moment, tick=False):
        response = orders.post(f"/api/v1/orders/{order_id}/invoice", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_invoices_around_midnight_take_the_day_and_year_of_paris(orders, staff_token, make_publication):
    make_publication(slug="midnight", stock=100)
    headers = {"Authorization": f"Bearer {staff_token('publications', 'year-end@efus.eu')}"}
    with time_machine.travel(dt.datetime(YEAR, 12, 31, 20, 0, tzinfo=UTC), tick=False):
        ids = [
            orders.post("/api/v1/orders", json=order_payload(1, publication="midnight", email=f"p{n}@example.org")).json["id"]
            for n in range(3)
        ]

    # 23:59:59 in Paris is 22:59:59 UTC; 00:00:01 on 1 January in Paris is still the old year in UTC.
    last_of_the_year = invoice_at(orders, headers, dt.datetime(YEAR, 12, 31, 22, 59, 59, tzinfo=UTC), ids[0])
    first_of_the_next = invoice_at(orders, headers, dt.datetime(YEAR, 12, 31, 23, 0, 1, tzinfo=UTC), ids[1])
    second_of_the_next = invoice_at(orders, headers, dt.datetime(YEAR + 1, 1, 1, 9, 0, tzinfo=UTC), ids[2])
    assert [last_of_the_year["invoice"], first_of_the_next["invoice"], second_of_the_next["invoice"]] == [
        f"{YEAR}-00001", f"{YEAR + 1}-00001", f"{YEAR + 1}-00002"]

    with time_machine.travel(dt.datetime(YEAR + 1, 1, 1, 9, 0, tzinfo=UTC), tick=False):
        listed = {i["number"]: i for i in orders.get("/api/v1/invoices", headers=headers).json}
        pdfs = {number: orders.get(f"/api/v1/invoices/{number}.pdf", headers=headers).data for number in listed}
    assert listed[f"{YEAR}-00001"]["issue_date"] == f"{YEAR}-12-31"
    assert listed[f"{YEAR + 1}-00001"]["issue_date"] == f"{YEAR + 1}-01-01"
    for number, pdf in pdfs.items():
        _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
        assert listed[number]["issue_date"].replace("-", "").encode() in xml

    # A credit note issued in the new year has the new year's number and refers to the old invoice.
    with time_machine.travel(dt.datetime(YEAR + 1, 1, 2, 9, 0, tzinfo=UTC), tick=False):
        cancelled = orders.post(f"/api/v1/orders/{ids[0]}/cancel", headers=headers)
        credit_notes = orders.get("/api/v1/credit-notes", headers=headers)
    assert cancelled.status_code == 200, cancelled.json
    assert credit_notes.status_code == 200, credit_notes.json
    [credit_note] = credit_notes.json
    assert credit_note["number"] == f"{YEAR + 1}-00003"
    assert (credit_note["issue_date"], credit_note["refers_to"]) == (f"{YEAR + 1}-01-02", f"{YEAR}-00001")
