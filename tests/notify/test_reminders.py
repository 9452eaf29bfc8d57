"""Reminders, end to end: the registration service's API and outbox, the relay, a worker, SMTP."""
from __future__ import annotations

import datetime as dt
import time

from icalendar import Calendar

from tests.conftest import event_payload, person
from tests.notify.conftest import wait_for

JOIN_URL = "https://meet.example.org/j/77?pwd=trust"


def reminders(mailbox) -> list:
    return [m for m in mailbox.messages if m["Subject"].startswith(("Reminder", "Rappel"))]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_only_people_confirmed_when_it_is_due_get_one_reminder_with_the_join_link_at_the_moved_time(
    client, auth, mailbox, start_worker, relay,
):
    start_worker()
    first_start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=24, seconds=5)
    created = client.post("/api/v1/events", headers=auth, json=event_payload(
        slug="trust-webinar", kind="webconference", venue=None, join_url=JOIN_URL, capacity=1,
        timezone="Europe/Lisbon", starts_at=first_start.isoformat(),
        ends_at=(first_start + dt.timedelta(hours=2)).isoformat(),
    ))
    assert created.status_code == 201, created.json
    ana = client.post("/api/v1/events/trust-webinar/registrations", json=person(1, language="fr")).json
    bob = client.post("/api/v1/events/trust-webinar/registrations", json=person(2, language="fr")).json
    carol = client.post("/api/v1/events/trust-webinar/registrations", json=person(3)).json
    assert [ana["status"], bob["status"], carol["status"]] == ["confirmed", "waitlisted", "waitlisted"]
    # Ana cancels: Bob, first on the waiting list, takes her seat.
    token = ana["manage_url"].rsplit("/", 1)[1]
    assert client.post(f"/api/v1/registrations/{token}/cancel").json["status"] == "cancelled"
    # The event moves six seconds later: its first reminder time passes without a reminder.
    moved_start = first_start + dt.timedelta(seconds=6)
    moved = client.patch("/api/v1/events/trust-webinar", headers=auth, json={
        "starts_at": moved_start.isoformat(), "ends_at": (moved_start + dt.timedelta(hours=2)).isoformat(),
    })
    assert moved.status_code == 200, moved.json

    wait_for(lambda: len(mailbox.messages) == 5)  # confirmed, 2 waitlisted, cancelled, promoted
    # The join link goes to people holding a seat only: Ana's confirmation, Bob's promotion
    # (not their cancellation and waiting list emails), in whatever order they arrived.
    assert sorted(JOIN_URL in body(m) for m in mailbox.to("ana1@example.org")) == [False, True]
    assert sorted(JOIN_URL in body(m) for m in mailbox.to("ana2@example.org")) == [False, True]
    assert [JOIN_URL in body(m) for m in mailbox.to("ana3@example.org")] == [False]

    time.sleep(max((first_start - dt.timedelta(hours=24) - dt.datetime.now(dt.timezone.utc)).total_seconds() + 2, 0))
    assert reminders(mailbox) == []
    [reminder] = wait_for(lambda: reminders(mailbox), timeout=20)
    time.sleep(1.5)  # anything else would have come with it
    assert reminders(mailbox) == [reminder]

    assert reminder["To"] == "Ana2 Silva <ana2@example.org>"
    assert reminder["Content-Language"] == "fr"
    assert JOIN_URL in body(reminder)
    [ics] = [part for part in reminder.iter_attachments() if part.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == moved_start.replace(microsecond=0)
    assert str(event.decoded("dtstart").tzinfo) == "Europe/Lisbon"
