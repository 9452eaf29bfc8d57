"""A rush of simultaneous registrations from real HTTP clients against gunicorn."""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from ops.testing import ServiceProcess
from tests.conftest import event_payload, person


@pytest.fixture
def server(environ, databases):
    process = ServiceProcess("registration", environ, workers=4 if databases.kind == "postgresql" else 2).start()
    yield process
    process.stop()


def post_all(url: str, bodies: list[dict], clients: int = 64) -> list[requests.Response]:
    """POST every body from `clients` parallel clients; each response notes when it was sent and received."""

    def post(body: dict) -> requests.Response:
        sent = time.monotonic()
        response = requests.post(url, json=body, timeout=60)
        response.sent, response.received = sent, time.monotonic()
        return response

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(post, bodies))


def assert_arrival_order(queue: list[requests.Response]) -> None:
    """Whoever got an answer before another person even asked must stand ahead of them."""
    earliest_answer_behind = float("inf")
    for response in reversed(queue):
        assert earliest_answer_behind >= response.sent, "someone who registered earlier is behind in the queue"
        earliest_answer_behind = min(earliest_answer_behind, response.received)


def test_rush_never_exceeds_capacity_and_queues_in_arrival_order(server, staff_token, databases):
    people, capacity = (500, 50) if databases.kind == "postgresql" else (150, 15)
    headers = {"Authorization": f"Bearer {staff_token('events')}"}
    created = requests.post(f"{server.url}/api/v1/events", json=event_payload(slug="rush", capacity=capacity), headers=headers)
    assert created.status_code == 201, created.text

    responses = post_all(f"{server.url}/api/v1/events/rush/registrations", [person(n) for n in range(people)])

    assert Counter(r.status_code for r in responses) == {201: people}
    statuses = Counter(r.json()["status"] for r in responses)
    assert statuses == {"confirmed": capacity, "waitlisted": people - capacity}
    by_id = {r.json()["id"]: r for r in responses}
    listing = requests.get(f"{server.url}/api/v1/events/rush/registrations?status=waitlisted&per_page=500", headers=headers).json()
    assert [r["waitlist_position"] for r in listing] == list(range(1, people - capacity + 1))
    assert_arrival_order([by_id[r["id"]] for r in listing])
    # Nobody got a seat after someone else had already been told to wait.
    first_told_to_wait = min(r.received for r in responses if r.json()["status"] == "waitlisted")
    assert all(r.sent <= first_told_to_wait for r in responses if r.json()["status"] == "confirmed")

    # One seat frees up: the first in line is promoted, once.
    first_in_line = listing[0]
    confirmed = next(r.json() for r in responses if r.json()["status"] == "confirmed")
    cancel_url = confirmed["manage_url"].replace("http://localhost:8001/manage/", f"{server.url}/api/v1/registrations/") + "/cancel"
    assert requests.post(cancel_url).json()["status"] == "cancelled"
    assert requests.post(cancel_url).json()["status"] == "cancelled"
    after = requests.get(f"{server.url}/api/v1/events/rush/registrations?per_page=500", headers=headers).json()
    assert Counter(r["status"] for r in after) == {"confirmed": capacity, "waitlisted": people - capacity - 1, "cancelled": 1}
    assert next(r for r in after if r["id"] == first_in_line["id"])["status"] == "confirmed"
    engine = sa.create_engine(databases.urls["registration"])
    with engine.connect() as connection:
        promoted = connection.execute(sa.text("SELECT count(*) FROM outbox_message WHERE message_type = 'registration.promoted'")).scalar()
    engine.dispose()
    assert promoted == 1


def test_per_organisation_cap_holds_under_parallel_requests(server, staff_token):
    headers = {"Authorization": f"Bearer {staff_token('events')}"}
    member = requests.post(f"{server.url}/api/v1/members", json={"name": "Câmara Municipal de Lisboa", "country": "PT", "domains": ["cm-lisboa.pt"]}, headers=headers)
    assert member.status_code == 201
    requests.post(f"{server.url}/api/v1/events", json=event_payload(slug="capped", capacity=None, max_per_organisation=2), headers=headers)

    bodies = [person(n, email=f"agent{n}@cm-lisboa.pt") for n in range(40)] + [person(n) for n in range(10)]
    responses = post_all(f"{server.url}/api/v1/events/capped/registrations", bodies, clients=32)

    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 12, 409: 38}
    from_lisbon = [r for r in responses[:40] if r.status_code == 201]
    assert len(from_lisbon) == 2
    assert all("email" in r.json()["errors"] for r in responses if r.status_code == 409)


def test_a_registration_whose_client_hung_up_is_found_again_by_resubmission(server, staff_token, databases):
    """The browser's connection drops after sending: the server still registers the person,
    and submitting again answers with that registration instead of a second one."""
    import json
    import socket

    headers = {"Authorization": f"Bearer {staff_token('events')}"}
    requests.post(f"{server.url}/api/v1/events", json=event_payload(slug="hung-up", capacity=5), headers=headers)
    body = json.dumps(person(1)).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as connection:
        connection.sendall(
            b"POST /api/v1/events/hung-up/registrations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
    # The client is gone before any answer; wait until the server has committed.
    engine = sa.create_engine(databases.urls["registration"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            stored = connection.execute(sa.text(
                "SELECT public_id, status FROM registration JOIN event ON event.id = registration.event_id WHERE slug = 'hung-up'"
            )).all()
        if stored:
            break
        time.sleep(0.05)
    engine.dispose()
    assert [status for _, status in stored] == ["confirmed"]

    again = requests.post(f"{server.url}/api/v1/events/hung-up/registrations", json=person(1))
    assert again.status_code == 200
    assert again.json() == {"id": stored[0][0], "status": "confirmed"}
