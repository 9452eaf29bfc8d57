"""A rush that meets ordinary behaviour: cancellations, triple submissions and capacity
changes at the same time, against gunicorn with 8 workers on PostgreSQL.

Before the lock order was fixed, the event row lock (`FOR UPDATE`, taken by cancel and
capacity changes) and the seats advisory lock (held shared by the rush) deadlocked:
cancellations, double submissions and PATCHes answered 500.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from ops.testing import ServiceProcess
from tests.conftest import event_payload, person

pytestmark = pytest.mark.postgresql_only

SEATED_AT_START = 40
NEW_PEOPLE = 260
TRIPLED = 80  # of the new people, how many submit three times at once
CANCELLING = 30  # of the people seated at the start
CAPACITY_STEPS = 6  # staff raise the capacity by 2, six times, during the rush


@pytest.fixture
def server(environ, databases):
    if databases.kind != "postgresql":
        pytest.skip("lock conflicts are PostgreSQL behaviour (SQLite runs one writer at a time)")
    process = ServiceProcess("registration", environ, workers=8).start(timeout=120)
    yield process
    process.stop()


def test_mixed_rush_has_no_server_error_and_keeps_every_rule(server, staff_token, databases):
    headers = {"Authorization": f"Bearer {staff_token('events')}"}
    events_url = f"{server.url}/api/v1/events"
    assert requests.post(events_url, json=event_payload(slug="mixed", capacity=SEATED_AT_START), headers=headers).status_code == 201
    register_url = f"{events_url}/mixed/registrations"

    seated = [requests.post(register_url, json=person(n, email=f"early{n}@example.org")) for n in range(SEATED_AT_START)]
    assert {r.json()["status"] for r in seated} == {"confirmed"}
    cancel_urls = [
        r.json()["manage_url"].replace("http://localhost:8001/manage/", f"{server.url}/api/v1/registrations/") + "/cancel"
        for r in seated[:CANCELLING]
    ]

    def register(body: dict) -> requests.Response:
        return requests.post(register_url, json=body, timeout=120)

    def cancel(url: str) -> requests.Response:
        return requests.post(url, timeout=120)

    def raise_capacity() -> list[requests.Response]:
        answers = []
        for step in range(1, CAPACITY_STEPS + 1):
            time.sleep(0.15)
            answers.append(requests.patch(
                f"{events_url}/mixed", json={"capacity": SEATED_AT_START + 2 * step}, headers=headers, timeout=120,
            ))
        return answers

    new_people = [person(n, email=f"new{n}@example.org") for n in range(NEW_PEOPLE)]
    tasks = [(register, body) for body in new_people] + [(register, body) for body in new_people[:TRIPLED] for _ in range(2)]
    tasks += [(cancel, url) for url in cancel_urls]
    random.Random(18).shuffle(tasks)

    with ThreadPoolExecutor(max_workers=64) as pool:
        patches = pool.submit(raise_capacity)
        responses = list(pool.map(lambda task: task[0](task[1]), tasks))
        patch_answers = patches.result()

    codes = Counter(r.status_code for r in responses)
    assert all(code < 500 for code in codes), codes
    assert codes == {201: NEW_PEOPLE, 200: 2 * TRIPLED + CANCELLING}, codes
    assert [r.status_code for r in patch_answers] == [200] * CAPACITY_STEPS, [r.text for r in patch_answers]

    registrations_of: dict[str, set[str]] = {}
    for response in responses:
        if response.request.method == "POST" and response.request.url == register_url:
            body = response.json()
            registrations_of.setdefault(body["id"], set()).add(body["status"])
    assert len(registrations_of) == NEW_PEOPLE  # triple submissions answered with one registration

    capacity = SEATED_AT_START + 2 * CAPACITY_STEPS
    engine = sa.create_engine(databases.urls["registration"])
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT public_id, email, status, queued_at, registration.id FROM registration "
            "JOIN event ON event.id = registration.event_id WHERE event.slug = 'mixed'"
        )).all()
        promoted = Counter(key.split(":")[1] for key in connection.execute(sa.text(
            "SELECT idempotency_key FROM outbox_message WHERE message_type = 'registration.promoted'"
        )).scalars())
        free = connection.execute(sa.text(
            "SELECT count(*) FROM seat JOIN event ON event.id = seat.event_id WHERE event.slug = 'mixed' AND holder IS NULL"
        )).scalar()
        event_capacity = connection.execute(sa.text("SELECT capacity FROM event WHERE slug = 'mixed'")).scalar()
    engine.dispose()

    # Every person registered exactly once.
    assert Counter(row.email for row in rows) == Counter({row.email: 1 for row in rows})
    assert len(rows) == SEATED_AT_START + NEW_PEOPLE
    statuses = Counter(row.status for row in rows)
    assert event_capacity == capacity
    assert statuses["confirmed"] == capacity and free == 0, statuses
    assert statuses["cancelled"] == CANCELLING
    assert statuses["waitlisted"] == SEATED_AT_START + NEW_PEOPLE - CANCELLING - capacity

    # The waiting list kept its order: whoever was promoted stood ahead of everyone still waiting.
    promoted_ids = set(promoted)
    by_id = {row.public_id: row for row in rows}
    waiting = [row for row in rows if row.status == "waitlisted"]
    promoted_rows = [by_id[public_id] for public_id in promoted_ids]
    assert promoted_rows, "cancellations and capacity changes promoted nobody"
    assert all(row.status == "confirmed" for row in promoted_rows)
    last_promoted = max((row.queued_at, row.id) for row in promoted_rows)
    assert all((row.queued_at, row.id) > last_promoted for row in waiting)
    # Every promotion announced (and so emailed) once.
    assert all(count == 1 for count in promoted.values()), promoted
    print(f"\nmixed rush: {len(responses)} requests and {CAPACITY_STEPS} PATCHes, {codes[201]} × 201, {codes[200]} × 200,"
          f" 0 × 5xx; {len(rows)} people registered once each, {statuses['confirmed']} seated,"
          f" {statuses['waitlisted']} waiting, {len(promoted)} promotions announced once each")
    # Everyone who was told "waitlisted" and now holds a seat was promoted.
    told_waitlisted = {public_id for public_id, seen in registrations_of.items() if seen == {"waitlisted"}}
    assert {row.public_id for row in rows if row.status == "confirmed"} & told_waitlisted <= promoted_ids
