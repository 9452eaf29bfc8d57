"""The back office's long lists show one page with a pager: the participants of a big event
(PARTICIPANTS_PER_PAGE rows, the counts the whole event's, the forms of a page coming back
to it) and the events list."""
from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from services.registration.backoffice.events import PARTICIPANTS_PER_PAGE
from services.registration.models import Registration
from shared.db import db
from tests.backoffice.conftest import csrf
from tests.conftest import person

PAGE = "/staff/events/police-academy-lisbon"


def _more_registrations(registration_app, count: int) -> None:
    """`count` more people awaiting approval, stored as copies of the first registration."""
    with registration_app.app_context():
        first = db.session.scalars(sa.select(Registration).order_by(Registration.id)).first()
        row = {column.key: getattr(first, column.key) for column in Registration.__table__.columns if column.key != "id"}
        db.session.execute(sa.insert(Registration), [
            {**row, "public_id": f"copy{number:028d}", "first_name": f"Copy{number}", "email": f"copy{number}@example.org",
             "queued_at": row["queued_at"] + dt.timedelta(seconds=number)} for number in range(1, count + 1)])
        db.session.commit()


def _names(html: str) -> list[str]:
    return re.findall(r'<tr id="r\d+">\s*(?:<td>.*?</td>\s*)?<td>([^<]+)</td>', html)


def test_a_big_event_shows_a_page_of_participants_and_the_whole_events_counts(client, login, make_event, registration_app):
    make_event(capacity=1, requires_approval=True)
    for number in (1, 2):
        assert client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(number)).status_code == 201
    _more_registrations(registration_app, PARTICIPANTS_PER_PAGE + 10)
    total = PARTICIPANTS_PER_PAGE + 12
    login("events")
    page = client.get(PAGE).get_data(as_text=True)
    assert len(_names(page)) == PARTICIPANTS_PER_PAGE and _names(page)[0] == "Ana1 Silva"
    assert f"Participants ({total})" in page and f"Registrations awaiting your approval: {total}." in page
    assert f'<option value="pending_approval">pending_approval ({total})</option>' in page
    assert f"Page 1 of 2 (rows 1 to {PARTICIPANTS_PER_PAGE} of {total})" in page
    assert 'rel="next"' in page and 'rel="prev"' not in page

    second = client.get(f"{PAGE}?page=2").get_data(as_text=True)
    names = _names(second)
    assert len(names) == 12 and names[-1] == f"Copy{PARTICIPANTS_PER_PAGE + 10} Silva" and "Ana1 Silva" not in names
    assert 'rel="prev"' in second and 'rel="next"' not in second and 'name="page" value="2"' in second

    # approving a ticked row of page 2 comes back to page 2; the counts follow
    number = re.search(r'name="numbers" value="(\d+)"', second).group(1)
    response = client.post(f"{PAGE}/decisions", data={"csrf_token": csrf(second), "decision": "approve", "numbers": number,
                                                     "page": "2", "status": "", "q": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{PAGE}?page=2#r{number}")
    after = client.get(f"{PAGE}?page=2").get_data(as_text=True)
    assert f"Registrations awaiting your approval: {total - 1}." in after and '<option value="confirmed">confirmed (1)</option>' in after

    # the filter keeps to its rows, and its pages
    found = client.get(f"{PAGE}?q=copy21").get_data(as_text=True)
    assert _names(found) == [f"Copy{n} Silva" for n in range(1, PARTICIPANTS_PER_PAGE + 11) if str(n).startswith("21")]
    assert 'class="pager"' not in found


def test_the_forms_of_a_page_come_back_to_it(client, login, make_event):
    make_event(capacity=3)
    assert client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1)).status_code == 201
    login("events")
    page = client.get(f"{PAGE}?page=3&status=confirmed").get_data(as_text=True)
    assert "Nobody matches." in page, "a page past the end says so"
    response = client.post(f"{PAGE}/registrations/1/cancel", data={"csrf_token": csrf(page), "status": "confirmed", "page": "3"})
    assert response.headers["Location"].endswith(f"{PAGE}?status=confirmed&page=3#r1")


def test_the_events_list_is_paged(client, login, make_event):
    for number in range(3):
        make_event(slug=f"event-{number}")
    login("events")
    page = client.get("/staff/events").get_data(as_text=True)
    assert all(f"/staff/events/event-{number}" in page for number in range(3)) and 'class="pager"' not in page
    assert "event-0" not in client.get("/staff/events?page=2").get_data(as_text=True)
