"""Simultaneous requests from real HTTP clients against gunicorn: the free-copy quota, the
stock and the invoice numbering hold. And, step by step, why: each of those rules is
decided by one transaction at a time."""
from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Callable
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from ops.testing import ServiceProcess
from services.orders.operations import next_document_number, take_free_copies
from shared.db import db
from tests.orders.conftest import order_payload, publication_payload


@pytest.fixture(scope="module")
def server(orders_environ, databases):
    process = ServiceProcess("orders", orders_environ, workers=4 if databases.kind == "postgresql" else 2).start()
    yield process
    process.stop()


def post_all(urls_and_bodies: list[tuple[str, dict | None]], headers: dict | None = None, clients: int = 32) -> list[requests.Response]:
    def post(item: tuple[str, dict | None]) -> requests.Response:
        url, body = item
        return requests.post(url, json=body, headers=headers, timeout=120)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(post, urls_and_bodies))


def scalar(databases, sql: str) -> int:
    engine = sa.create_engine(databases.urls["orders"])
    with engine.connect() as connection:
        value = connection.execute(sa.text(sql)).scalar()
    engine.dispose()
    return value


def test_one_member_organisation_gets_three_free_copies_whatever_the_rush(server, staff, make_member, databases):
    make_member()
    created = requests.post(f"{server.url}/api/v1/publications", json=publication_payload(stock=2), headers=staff)
    assert created.status_code == 201
    people = 100
    url = f"{server.url}/api/v1/orders"
    responses = post_all([(url, order_payload(1, email=f"agent{n}@cm-lisboa.pt")) for n in range(people)])

    assert Counter(r.status_code for r in responses) == {201: people}
    orders = [r.json() for r in responses]
    assert all(o["member"] is True and o["membership"] == "verified" for o in orders)
    assert sum(o["lines"][0]["free_copies"] for o in orders) == 3
    assert sorted(o["total_cents"] for o in orders) == [0] * 3 + [800] * (people - 3)
    assert scalar(databases, "SELECT granted FROM free_copy_ledger") == 3
    [used] = requests.get(f"{server.url}/api/v1/free-copies", headers=staff).json()
    assert (used["publication"], used["granted"], used["remaining"]) == (orders[0]["lines"][0]["publication"], 3, 0)

    # The three free orders are approved at once, with copies for two of them only.
    free = [o["id"] for o in orders if o["total_cents"] == 0]
    approvals = post_all([(f"{url}/{order_id}/approve", None) for order_id in free], headers=staff)
    assert Counter(r.status_code for r in approvals) == {200: 2, 409: 1}
    refused = next(r for r in approvals if r.status_code == 409)
    assert "lines.0.copies" in refused.json()["errors"]
    assert scalar(databases, "SELECT stock FROM publication") == 0


def test_parallel_invoicing_numbers_without_gap_or_duplicate(server, staff, databases):
    invoices = 200 if databases.kind == "postgresql" else 20
    refused = 10
    created = requests.post(f"{server.url}/api/v1/publications", json=publication_payload(stock=invoices), headers=staff)
    assert created.status_code == 201
    url = f"{server.url}/api/v1/orders"
    placed = post_all([(url, order_payload(1, email=f"reader{n}@example.org")) for n in range(invoices + refused)])
    assert Counter(r.status_code for r in placed) == {201: invoices + refused}

    responses = post_all([(f"{url}/{r.json()['id']}/invoice", None) for r in placed], headers=staff)

    # More orders than copies: the last ones are refused, and burn no number.
    assert Counter(r.status_code for r in responses) == {200: invoices, 409: refused}
    year = dt.datetime.now(ZoneInfo("Europe/Paris")).year
    numbers = sorted(r.json()["invoice"] for r in responses if r.status_code == 200)
    assert numbers == [f"{year}-{n:05d}" for n in range(1, invoices + 1)]
    listed = requests.get(f"{server.url}/api/v1/invoices", headers=staff).json()
    assert [i["number"] for i in listed] == numbers
    assert len({i["order_id"] for i in listed}) == invoices
    assert scalar(databases, "SELECT stock FROM publication") == 0
    assert scalar(databases, f"SELECT last_number FROM document_counter WHERE year = {year}") == invoices
    # Each was rendered outside the numbering lock, and stored with its hash.
    assert all(i["sha256"] for i in listed)


def while_holding_the_lock(app, first: Callable[[], int], second: Callable[[], int]) -> tuple[int, int]:
    """Run `first` in a transaction and, before it commits, `second` in another one.

    Returns both results. Asserts that `second` waited for the first transaction.
    """
    results: dict[str, int] = {}

    def run_second() -> None:
        with app.app_context():
            results["second"] = second()
            db.session.commit()

    with app.app_context():
        results["first"] = first()
        other = threading.Thread(target=run_second)
        other.start()
        other.join(0.5)
        assert other.is_alive(), "the second transaction did not wait for the first"
        db.session.commit()
    other.join(30)
    return results["first"], results["second"]


def test_free_copies_are_taken_one_transaction_at_a_time(orders_app, make_publication):
    publication = make_publication()
    with orders_app.app_context():
        publication_id = db.session.scalar(sa.text("SELECT id FROM publication WHERE slug = :slug"), {"slug": publication["slug"]})
        assert take_free_copies(7, publication_id, 1) == 1
        db.session.commit()
    first, second = while_holding_the_lock(
        orders_app, lambda: take_free_copies(7, publication_id, 1), lambda: take_free_copies(7, publication_id, 2)
    )
    assert (first, second) == (1, 1)  # the second saw the first's copy: 1 + 1 + 1 = 3


def test_document_numbers_are_taken_one_transaction_at_a_time(orders_app):
    with orders_app.app_context():
        assert next_document_number(2031) == 1
        db.session.commit()
    assert while_holding_the_lock(orders_app, lambda: next_document_number(2031), lambda: next_document_number(2031)) == (2, 3)
