"""The lists that grow answer one page at a time (shared.pagination): the participants of an
event, the public events (also the past ones) and the staff's events, each in a stable
order, with `Link` headers to the other pages and the total in `X-Total-Count`."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from services.registration.models import Event
from shared.db import db
from tests.conftest import person

SLUG = "police-academy-lisbon"
URL = f"/api/v1/events/{SLUG}/registrations"


def _links(response) -> dict[str, str]:
    """rel → URL of a `Link` header (RFC 8288)."""
    links = {}
    for part in response.headers.get("Link", "").split(", "):
        url, rel = part.split("; ")
        links[rel.removeprefix('rel="').removesuffix('"')] = url.strip("<>")
    return links


def _follow(client, url: str, headers: dict | None = None) -> list[dict]:
    """Every row of a paged list, following its `next` links from `url`."""
    rows: list[dict] = []
    while url:
        response = client.get(url.removeprefix("http://localhost"), headers=headers)
        assert response.status_code == 200, response.json
        rows += response.json
        url = _links(response).get("next")
    return rows


def test_the_participants_come_a_page_at_a_time_in_waiting_list_order(client, auth, make_event):
    make_event(capacity=2)
    for number in range(1, 6):
        assert client.post(URL, json=person(number)).status_code == 201
    first = client.get(f"{URL}?per_page=2", headers=auth)
    assert first.status_code == 200 and first.headers["X-Total-Count"] == "5"
    assert [row["email"] for row in first.json] == ["ana1@example.org", "ana2@example.org"]
    links = _links(first)
    assert set(links) == {"first", "next", "last"} and links["next"].endswith("/registrations?per_page=2&page=2")
    assert links["last"].endswith("page=3")
    everyone = _follow(client, links["first"], auth)
    assert [row["email"] for row in everyone] == [f"ana{n}@example.org" for n in range(1, 6)]
    assert [row["waitlist_position"] for row in everyone] == [None, None, 1, 2, 3], "places over the whole list"

    last = client.get(f"{URL}?per_page=2&page=3", headers=auth)
    assert len(last.json) == 1 and set(_links(last)) == {"first", "prev", "last"}
    beyond = client.get(f"{URL}?per_page=2&page=9", headers=auth)
    assert beyond.json == [] and _links(beyond)["prev"].endswith("page=3"), "past the end: empty, leading back"

    # the filters stay in the links, and the total is the filtered one
    waiting = client.get(f"{URL}?status=waitlisted&per_page=2", headers=auth)
    assert waiting.headers["X-Total-Count"] == "3" and "status=waitlisted" in _links(waiting)["next"]


def test_bad_page_arguments_are_refused_by_name(client, auth, make_event):
    make_event()
    response = client.get(f"{URL}?page=0&per_page=501", headers=auth)
    assert response.status_code == 422 and set(response.json["errors"]) == {"page", "per_page"}
    assert client.get("/api/v1/events?page=x").status_code == 422
    assert client.get("/api/v1/staff/events?per_page=0", headers=auth).status_code == 422


def test_past_events_page_by_page_the_latest_first(client, auth, registration_app):
    now = dt.datetime.now(dt.timezone.utc)
    with registration_app.app_context():
        for day in range(1, 8):
            starts = now - dt.timedelta(days=day)
            db.session.add(Event(slug=f"past-{day}", kind="webconference", title={"en": f"Past {day}"}, description={},
                                 starts_at=starts, ends_at=starts + dt.timedelta(hours=2), timezone="Europe/Paris",
                                 published=True, extra_fields=[]))
        db.session.commit()
    first = client.get("/api/v1/events?past=true&per_page=3")
    assert first.headers["X-Total-Count"] == "7" and [e["slug"] for e in first.json] == ["past-1", "past-2", "past-3"]
    assert "past=true" in _links(first)["next"]
    assert [e["slug"] for e in _follow(client, _links(first)["next"])] == [f"past-{day}" for day in range(4, 8)]
    assert client.get("/api/v1/events").json == [] and client.get("/api/v1/events").headers["X-Total-Count"] == "0"


def test_the_staff_events_page_counts_each_event_in_one_query(client, auth, make_event, registration_app):
    for slug in ("first", "second", "third"):
        make_event(slug=slug, capacity=1)
        for number in range(1, 4):
            assert client.post(f"/api/v1/events/{slug}/registrations", json=person(number)).status_code == 201
    statements: list[str] = []

    def capture(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with registration_app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        response = client.get("/api/v1/staff/events?per_page=2", headers=auth)
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    assert response.status_code == 200 and response.headers["X-Total-Count"] == "3" and len(response.json) == 2
    assert [(e["seats_taken"], e["waitlisted"]) for e in response.json] == [(1, 2), (1, 2)]
    assert sum("GROUP BY" in statement and "registration" in statement for statement in statements) == 1

