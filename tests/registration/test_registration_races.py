"""The races the registration's two round trips leave open on PostgreSQL, each lost on
purpose: what the request read before its seats lock was granted is checked when it writes
(services/registration/operations.py, `register`), and the request runs again."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from ops.testing import ServiceProcess
from tests.conftest import event_payload, person

pytestmark = pytest.mark.postgresql_only
SLUG = "police-academy-lisbon"


@pytest.fixture
def server(environ, databases):
    if databases.kind != "postgresql":
        pytest.skip("the seats lock and the two round trips are PostgreSQL's")
    process = ServiceProcess("registration", environ, workers=2).start()
    yield process
    process.stop()


def test_an_event_changed_while_the_request_waited_for_the_seats_lock_is_read_again(server, staff_token, databases):
    headers = {"Authorization": f"Bearer {staff_token('events')}"}
    assert requests.post(f"{server.url}/api/v1/events", json=event_payload(capacity=None), headers=headers).status_code == 201
    engine = sa.create_engine(databases.urls["registration"])
    try:
        with engine.connect() as staff:
            # What a staff change does: the seats lock, exclusively, then the event row. The
            # event gets a capacity of 0 while the registration waits for the lock, having
            # read the event without one.
            staff.execute(sa.text("SELECT pg_advisory_xact_lock(1, hashtext(:slug))"), {"slug": SLUG})
            answer: list[requests.Response] = []
            thread = threading.Thread(target=lambda: answer.append(
                requests.post(f"{server.url}/api/v1/events/{SLUG}/registrations", json=person(1), timeout=30)))
            thread.start()
            _wait_for_lock_waiter(engine)
            staff.execute(sa.text("UPDATE event SET capacity = 0 WHERE slug = :slug"), {"slug": SLUG})
            staff.commit()
            thread.join(30)
        assert answer[0].status_code == 201
        assert answer[0].json()["status"] == "waitlisted", "decided on the event as it is now, not as first read"
    finally:
        engine.dispose()


def test_simultaneous_submissions_of_one_email_make_one_registration(server, staff_token, databases):
    headers = {"Authorization": f"Bearer {staff_token('events')}"}
    assert requests.post(f"{server.url}/api/v1/events", json=event_payload(capacity=50), headers=headers).status_code == 201
    url = f"{server.url}/api/v1/events/{SLUG}/registrations"
    for round_ in range(5):
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: requests.post(url, json=person(round_), timeout=30), range(8)))
        assert sorted(answer.status_code for answer in answers) == [200] * 7 + [201], [a.text for a in answers]
        assert len({answer.json()["id"] for answer in answers}) == 1
    engine = sa.create_engine(databases.urls["registration"])
    try:
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT count(*) FROM registration")) == 5
            assert connection.scalar(sa.text("SELECT count(*) FROM seat WHERE holder IS NOT NULL")) == 5, "no seat taken twice"
            assert connection.scalar(sa.text("SELECT count(*) FROM outbox_message WHERE message_type = 'registration.confirmed'")) == 5
    finally:
        engine.dispose()


def _wait_for_lock_waiter(engine: sa.Engine, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            if watcher.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")):
                return
            time.sleep(0.02)
    raise AssertionError("the registration never waited for the seats lock")
