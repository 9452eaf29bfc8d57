"""Messages through real Dramatiq worker processes to a real SMTP server, and the delivery log."""
from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa
from icalendar import Calendar

from services.notify.operations import anonymise_expired
from shared.auth import read_service_token, read_token
from shared.db import db
from tests.notify.conftest import (
    JOIN_URL, deliveries, drained, enqueue, order_envelope, registration_envelope, staff_headers, wait_for,
)


def test_confirmation_arrives_in_the_recipients_language_with_text_html_and_calendar(
    broker, mailbox, start_worker, notify_db,
):
    start_worker()
    enqueue(broker, registration_envelope(lang="fr"))
    wait_for(lambda: mailbox.messages)
    wait_for(lambda: deliveries(notify_db, status="sent"))

    [message] = mailbox.to("ana@madrid.es")
    assert message["From"] == "EU-POLNET <noreply@efus.eu>"
    assert message["To"] == "Ana López <ana@madrid.es>"
    assert message["Subject"].startswith("Inscription confirmée")
    assert message["Content-Language"] == "fr"
    assert message["Message-ID"].endswith("@efus.eu>")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Police et citoyens : la confiance" in text and JOIN_URL in text
    assert "Police et citoyens : la confiance" in html and JOIN_URL.replace("&", "&amp;") in html
    assert "mercredi 10 mars 2027" in text
    [ics] = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == dt.datetime(2027, 3, 10, 8, tzinfo=dt.timezone.utc)
    assert str(event.decoded("dtstart").tzinfo) == "Europe/Paris"
    assert str(event["url"]) == JOIN_URL

    [row] = deliveries(notify_db)
    assert (row["status"], row["recipient"], row["language"], row["attempts"]) == ("sent", "ana@madrid.es", "fr", 1)
    assert row["template"] == "notify/fr/registration.confirmed"
    assert row["message_type"] == "registration.confirmed" and row["last_error"] is None
    assert row["sent_at"] is not None


def test_the_same_message_delivered_three_times_sends_one_email(broker, mailbox, start_worker, notify_db):
    """As when the relay hands a message over again: same id, three copies in the queue.

    Taken at the same time, two copies find the first one sending and retry later, when
    they find the email sent."""
    envelope = registration_envelope()
    for _ in range(3):
        enqueue(broker, envelope, message_id="outbox-row-1")
    start_worker(threads=4)
    wait_for(lambda: drained(broker))

    assert len(mailbox.to("ana@madrid.es")) == 1
    [row] = deliveries(notify_db)
    assert (row["status"], row["attempts"]) == ("sent", 1)


def test_smtp_down_for_a_while_every_email_arrives_once_it_is_back(broker, mailbox, start_worker, notify_db, relay):
    mailbox.stop()
    start_worker()
    addresses = [f"person{n}@example.org" for n in range(5)]
    for address in addresses:
        enqueue(broker, registration_envelope(email=address))
    rows = wait_for(lambda: [r for r in deliveries(notify_db) if r["last_error"]] if len(deliveries(notify_db)) == 5 else None)
    assert {row["status"] for row in rows} == {"queued"}
    assert all("Connection refused" in row["last_error"] for row in rows)

    mailbox.start()
    wait_for(lambda: len(deliveries(notify_db, status="sent")) == 5, timeout=30)
    assert sorted(recipient for recipients, _ in mailbox.received for recipient in recipients) == sorted(addresses)
    assert all(row["attempts"] >= 2 and row["last_error"] is None for row in deliveries(notify_db))


def test_permanent_refusal_fails_the_delivery_staff_see_it_and_resend_it(
    broker, mailbox, start_worker, notify_db, notify_client, staff_token, relay,
):
    mailbox.refuse["gone@example.org"] = "550 5.1.1 No such user"
    start_worker()
    enqueue(broker, registration_envelope(email="gone@example.org", lang="fr"))
    enqueue(broker, registration_envelope(email="here@example.org"))
    wait_for(lambda: deliveries(notify_db, status="failed"))
    wait_for(lambda: deliveries(notify_db, status="sent"))

    events = staff_headers(staff_token, "events")
    failed = notify_client.get("/api/v1/deliveries?status=failed", headers=events)
    assert failed.status_code == 200
    [delivery] = failed.json
    assert delivery["recipient"] == "gone@example.org" and delivery["attempts"] == 1
    assert delivery["subject"] == "Inscription confirmée – Police et citoyens : la confiance", "in the recipient's language"
    [sent] = notify_client.get("/api/v1/deliveries?status=sent", headers=events).json
    assert sent["subject"] == mailbox.to("here@example.org")[0]["Subject"] == "Registration confirmed – Police and citizens: trust"
    assert "550" in delivery["last_error"] and "No such user" in delivery["last_error"]
    assert mailbox.to("gone@example.org") == []

    # Order emails are the publications team's: they neither see nor resend event emails.
    publications = staff_headers(staff_token, "publications")
    assert notify_client.get("/api/v1/deliveries?status=failed", headers=publications).json == []
    refused = notify_client.post(f"/api/v1/deliveries/{delivery['id']}/resend", headers=publications)
    assert refused.status_code == 403

    mailbox.refuse.clear()  # the address was fixed at the recipient's end
    resent = notify_client.post(f"/api/v1/deliveries/{delivery['id']}/resend", headers=events)
    assert resent.status_code == 202 and resent.json["status"] == "queued"
    [row] = wait_for(lambda: deliveries(notify_db, recipient="gone@example.org", status="sent"))
    assert row["attempts"] == 2 and row["id"] == delivery["id"]
    assert deliveries(notify_db, status="failed") == []

    again = notify_client.post(f"/api/v1/deliveries/{delivery['id']}/resend", headers=events)
    assert again.status_code == 409
    assert len(mailbox.to("gone@example.org")) == 1 and len(mailbox.to("here@example.org")) == 1


def test_a_message_that_cannot_become_an_email_fails_at_once(broker, mailbox, start_worker, notify_db):
    """An invoice the orders service does not know (404) is failed without retrying."""
    start_worker()
    enqueue(broker, order_envelope("invoice.issued", order={**order_envelope()["data"]["order"], "id": 999}))
    [row] = wait_for(lambda: deliveries(notify_db, status="failed"))
    assert "HTTP 404" in row["last_error"] and row["attempts"] == 0
    assert mailbox.messages == []


def test_the_subject_of_an_erased_or_unusable_delivery_is_null_and_documented(notify_client):
    from services.notify.emails import subject

    assert subject({}) is None and subject({"type": "registration.confirmed", "data": {"person": {}}}) is None
    schema = notify_client.get("/openapi.json").json["components"]["schemas"]["DeliveryOut"]["properties"]["subject"]
    assert schema["type"] == "string" and schema["nullable"] is True


def test_deliveries_api_checks_its_input_and_its_callers(notify_client, staff_token):
    assert notify_client.get("/api/v1/deliveries").status_code == 401
    admin = staff_headers(staff_token, "admin")
    bad = notify_client.get("/api/v1/deliveries?status=lost&limit=0", headers=admin)
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"status", "limit"}
    missing = notify_client.post("/api/v1/deliveries/12345/resend", headers=admin)
    assert missing.status_code == 404 and missing.json["errors"] == {"id": ["Unknown delivery."]}


def test_service_token_is_the_notify_services_own_and_no_staff_token(notify_app, settings):
    from services.notify.operations import service_token

    with notify_app.app_context():
        token = service_token()
    assert read_service_token(token, settings.secret_key) == "notify"
    assert read_token(token, settings.secret_key) is None


def test_erasing_a_person_reaches_the_delivery_log(broker, mailbox, start_worker, notify_db):
    """The registration service's `person.erased` message anonymises notify's copies."""
    start_worker()
    enqueue(broker, registration_envelope(email="ana@madrid.es"))
    enqueue(broker, registration_envelope(email="luis@madrid.es"))
    wait_for(lambda: len(deliveries(notify_db, status="sent")) == 2)
    assert registrants(notify_db) == ["reg-ana@madrid.es", "reg-luis@madrid.es"]

    erased = {"type": "person.erased", "version": 1, "key": "person.erased:1", "occurred_at": "2026-11-23T12:00:00+00:00",
              "data": {"email": "ana@madrid.es", "registration_ids": ["reg-ana@madrid.es"]}}
    enqueue(broker, erased)
    wait_for(lambda: not deliveries(notify_db, recipient="ana@madrid.es"))
    rows = deliveries(notify_db, status="sent")
    assert sorted(row["recipient"] for row in rows) == ["erased", "luis@madrid.es"]
    assert next(row for row in rows if row["recipient"] == "erased")["envelope"] in ({}, "{}")
    assert registrants(notify_db) == ["reg-luis@madrid.es"]


def test_the_retention_period_anonymises_the_delivery_log_and_reminder_records(
        broker, mailbox, start_worker, notify_db, notify_app):
    start_worker()
    enqueue(broker, registration_envelope(email="ana@madrid.es"))
    wait_for(lambda: len(deliveries(notify_db, status="sent")) == 1)
    with notify_app.app_context():
        assert anonymise_expired(30) == 0, "nothing is old yet"
        in_a_year = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
        assert anonymise_expired(30, now=in_a_year) == 2
        db.session.commit()
    [row] = deliveries(notify_db)
    assert row["recipient"] == "erased" and row["envelope"] in ({}, "{}") and row["status"] == "sent"
    assert registrants(notify_db) == []


def registrants(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT registration_id FROM registrant")).scalars())


def test_the_emails_about_one_order_go_out_in_the_order_of_their_events(broker, mailbox, start_worker, notify_db, relay):
    """"Received" fails for a while (SMTP 451); "shipped", which happened after it, waits for it
    instead of overtaking it, and each goes out once. Another order's email does not wait."""
    mailbox.refuse_subjects["We have received your order"] = "451 4.3.0 Try again later"
    start_worker(threads=4)
    received = order_envelope("order.received", lang="en")
    received["key"] = "order.received:12"
    enqueue(broker, received)
    wait_for(lambda: [d["retries"] for d in deliveries(notify_db)] == [1], timeout=30)

    shipped = order_envelope("order.shipped", lang="en")
    shipped["key"], shipped["occurred_at"] = "order.shipped:12", "2026-11-23T10:00:03+00:00"
    other = order_envelope("order.shipped", lang="en", order={**order_envelope()["data"]["order"], "id": 13, "number": "O-2026-00013"})
    other["key"] = "order.shipped:13"
    enqueue(broker, shipped)
    enqueue(broker, other)
    wait_for(lambda: any("O-2026-00013" in m["Subject"] for m in mailbox.messages), timeout=30)
    time.sleep(2)  # "shipped" of order 12 has been handled, and let go again
    assert [m["Subject"] for m in mailbox.messages] == ["Your order O-2026-00013 has been shipped"]
    assert {d["idempotency_key"]: d["status"] for d in deliveries(notify_db)}["order.shipped:12"] == "queued"

    del mailbox.refuse_subjects["We have received your order"]
    # "received" has been failing with a doubling backoff meanwhile: on a loaded machine its
    # next try can be half a minute away, then "shipped" follows it within a second or two
    wait_for(lambda: len(mailbox.messages) == 3, timeout=90)
    assert [m["Subject"] for m in mailbox.messages] == [
        "Your order O-2026-00013 has been shipped", "We have received your order O-2026-00012",
        "Your order O-2026-00012 has been shipped"]
    time.sleep(1.5)
    rows = {d["idempotency_key"]: d for d in deliveries(notify_db)}
    assert {key: (row["status"], row["thread"]) for key, row in rows.items()} == {
        "order.received:12": ("sent", "order:12"), "order.shipped:12": ("sent", "order:12"), "order.shipped:13": ("sent", "order:13")}
    assert rows["order.shipped:12"]["attempts"] == 1 and rows["order.shipped:12"]["retries"] == 0, "waiting is no attempt"
    assert len(mailbox.messages) == 3, "each once"
