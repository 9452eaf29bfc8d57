"""The member directory is down: orders are still accepted, nothing is lost, and they are
priced once it is back (outbox relay, Redis and a real Dramatiq worker in between)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
import sqlalchemy as sa

from services.orders.operations import resolve_membership
from shared.broker import make_broker
from shared.db import db
from shared.outbox import OutboxMessage, run_relay
from tests.orders.conftest import order_payload

URL = "/api/v1/orders"


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def outbox_count(app, message_type: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.message_type == message_type)
        )


@pytest.fixture
def relay(databases, redis_server) -> Iterator[None]:
    """The outbox relay of the orders database, as `eupolnet relay orders` runs it."""
    engine = sa.create_engine(databases.urls["orders"])
    stop = threading.Event()
    thread = threading.Thread(
        target=run_relay, args=({"orders": engine}, make_broker(redis_server.url), stop),
        kwargs={"poll_interval": 0.05, "max_backoff": 0.5}, daemon=True,
    )
    thread.start()
    yield
    stop.set()
    thread.join(10)
    engine.dispose()


@pytest.fixture
def worker(orders_environ, tmp_path) -> Iterator[Path]:
    """A Dramatiq worker for the orders queue, started as `make run` starts it; yields its log."""
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "shared.worker", "services.orders.actors",
             "--processes", "1", "--threads", "2", "--queues", "orders"],
            env={**os.environ, **orders_environ}, stdout=output, stderr=subprocess.STDOUT,
        )
    yield log
    process.terminate()
    process.wait(20)


def test_orders_are_taken_while_the_directory_is_down_and_priced_when_it_is_back(
    orders, staff, staff_token, make_member, make_publication, registration_service, orders_app, relay, worker,
):
    make_publication()
    make_member()
    registration_service.stop()
    try:
        placed = [orders.post(URL, json=order_payload(2, email=f"agent{n}@cm-lisboa.pt")) for n in range(3)]
        placed.append(orders.post(URL, json=order_payload(1, email="john.smith@leeds.gov.uk")))
        assert [r.status_code for r in placed] == [201] * 4
        for response in placed:
            assert response.json["membership"] == "unverified" and response.json["member"] is None
            assert response.json["total_cents"] is None and response.json["lines"][0]["free_copies"] is None
        # Staff whose token the accounts service confirmed a moment ago go on working; a
        # token it never confirmed cannot be checked.
        refused = orders.post(f"{URL}/{placed[0].json['id']}/approve", headers=staff)
        assert refused.status_code == 409 and "membership" in refused.json["errors"]
        unchecked = {"Authorization": f"Bearer {staff_token('publications', 'new.clerk@efus.eu')}"}
        assert orders.get(URL, headers=unchecked).status_code == 503
        # One of them is cancelled before anyone could price it.
        cancelled = placed.pop(1).json["id"]
        assert orders.post(f"{URL}/{cancelled}/cancel", headers=staff).status_code == 200
        assert outbox_count(orders_app, "order.received") == 0  # told once priced, not before
        # The worker asks, fails, and schedules another try with backoff.
        wait_for(lambda: b"Retrying message" in worker.read_bytes(), 30, "a retry of the membership check")
        assert len(orders.get(f"{URL}?membership=unverified", headers=staff).json) == 4
    finally:
        registration_service.start()

    wait_for(lambda: len(orders.get(f"{URL}?membership=unverified", headers=staff).json) == 1, 60, "the orders to be priced")
    priced = {o["id"]: o for o in orders.get(URL, headers=staff).json}
    members = [priced[r.json["id"]] for r in placed[:2]]
    outsider = priced[placed[2].json["id"]]
    assert all(o["member"] is True and o["member_organisation"] == "Câmara Municipal de Lisboa" for o in members)
    assert sorted(o["lines"][0]["free_copies"] for o in members) == [1, 2]
    assert sorted(o["total_cents"] for o in members) == [0, 800]
    assert (outsider["member"], outsider["total_cents"]) == (False, 800)
    assert (priced[cancelled]["status"], priced[cancelled]["total_cents"]) == ("cancelled", None)
    assert outbox_count(orders_app, "order.received") == 3

    # A second delivery of the same messages changes nothing.
    with orders_app.app_context():
        for order_id in priced:
            resolve_membership(order_id)
            db.session.commit()
    assert orders.get(URL, headers=staff).json == list(priced.values())
    assert outbox_count(orders_app, "order.received") == 3
