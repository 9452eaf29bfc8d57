"""Tickets and check-in at the door: one signed QR code per registration, refused with a reason
when it does not let its holder in, and two phones scanning at once check a person in once."""
from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa

from ops.testing import ServiceProcess
from shared.db import db
from shared.outbox import OutboxMessage
from tests.conftest import event_payload, person, under_way
from tests.embed.helpers import ROOT

EVENT = "/api/v1/events/police-academy-lisbon"


def tickets(app) -> dict[str, str]:
    """Email -> the ticket code its confirmation (or promotion) carried."""
    with app.app_context():
        messages = OutboxMessage.query.filter(OutboxMessage.message_type.in_(["registration.confirmed", "registration.promoted"])).all()
        return {m.envelope["data"]["person"]["email"]: m.envelope["data"]["ticket"] for m in messages}


def test_confirmed_people_get_a_ticket_that_checks_them_in_once(client, make_event, auth, registration_app):
    make_event(capacity=2, **under_way())
    for number in (1, 2, 3):
        client.post(f"{EVENT}/registrations", json=person(number))
    codes = tickets(registration_app)
    assert set(codes) == {"ana1@example.org", "ana2@example.org"}, "the waitlisted person has no ticket yet"

    first = client.post(f"{EVENT}/check-ins", json={"ticket": codes["ana1@example.org"]}, headers=auth)
    assert first.status_code == 200, first.json
    assert first.json["status"] == "attended" and first.json["first_name"] == "Ana1" and first.json["checked_in_at"]

    again = client.post(f"{EVENT}/check-ins?lang=fr", json={"ticket": codes["ana1@example.org"]}, headers=auth)
    assert again.status_code == 409 and again.json["code"] == "already_checked_in"
    assert again.json["message"].startswith("Arrivée déjà enregistrée à ")
    assert again.json["attendee"]["last_name"] == "Silva", "the door sees whose ticket it is"

    # a cancelled ticket, and the waitlisted person who took the seat gets a ticket of their own
    token = client.get(f"{EVENT}/registrations", headers=auth).json
    ana2 = next(r for r in token if r["email"] == "ana2@example.org")
    client.post(f"{EVENT}/registrations/{ana2['number']}/cancel", headers=auth)
    cancelled = client.post(f"{EVENT}/check-ins", json={"ticket": codes["ana2@example.org"]}, headers=auth)
    assert cancelled.status_code == 409 and cancelled.json["code"] == "ticket_cancelled"
    assert "ana3@example.org" in tickets(registration_app), "promoted: the email carries a ticket"

    with registration_app.app_context():
        audit = db.session.execute(sa.text("SELECT action FROM audit_entry WHERE action = 'registration.check-in'")).all()
    assert len(audit) == 1, "one check-in, one audit entry"


def test_tickets_that_are_not_this_events(client, make_event, auth, registration_app):
    make_event()
    make_event(slug="academy-porto")
    client.post(f"{EVENT}/registrations", json=person(1))
    code = tickets(registration_app)["ana1@example.org"]
    public_id, signature = code.split(".", 1)
    other_id = public_id[:-1] + ("1" if public_id.endswith("0") else "0")
    for ticket in (code[:-2] + ("yy" if code.endswith("xx") else "xx"), f"{other_id}.{signature}", "not a ticket", "\u00e9" * 50):
        refused = client.post(f"{EVENT}/check-ins", json={"ticket": ticket}, headers=auth)
        assert refused.status_code == 404 and refused.json["codes"] == {"ticket": ["unknown_ticket"]}, ticket
    other = client.post("/api/v1/events/academy-porto/check-ins", json={"ticket": code}, headers=auth)
    assert other.status_code == 404 and other.json["code"] == "unknown_ticket"
    for body in ({}, {"ticket": code, "number": 1}, {"ticket": ""}, {"number": 2**40}):
        bad = client.post(f"{EVENT}/check-ins", json=body, headers=auth)
        assert bad.status_code == 422, body
    assert client.post(f"{EVENT}/check-ins", json={"ticket": code}).status_code == 401
    with registration_app.app_context():
        assert db.session.execute(sa.text("SELECT count(*) FROM registration WHERE status = 'attended'")).scalar() == 0


def test_search_by_name_checks_in_by_number_and_the_list_is_for_staff(client, make_event, auth):
    make_event(capacity=1, **under_way())
    client.post(f"{EVENT}/registrations", json=person(1, last_name="Zeller"))
    client.post(f"{EVENT}/registrations", json=person(2, last_name="Almeida"))
    listing = client.get(f"{EVENT}/check-in-list", headers=auth).json
    assert [(p["last_name"], p["status"]) for p in listing] == [("Almeida", "waitlisted"), ("Zeller", "confirmed")]
    assert client.get(f"{EVENT}/check-in-list").status_code == 401
    waitlisted = client.post(f"{EVENT}/check-ins", json={"number": listing[0]["number"]}, headers=auth)
    assert waitlisted.status_code == 409 and waitlisted.json["code"] == "ticket_waitlisted"
    assert client.post(f"{EVENT}/check-ins", json={"number": listing[1]["number"]}, headers=auth).json["status"] == "attended"


def test_before_the_events_day_check_in_needs_the_staff_override(client, make_event, auth, registration_app):
    """An academy in a month: its tickets, numbers and the participants page are refused until
    its day (in its time zone) unless staff say `override`, which the audit log keeps."""
    event = make_event(capacity=3, timezone="Pacific/Kiritimati")
    for number in (1, 2, 3):
        client.post(f"{EVENT}/registrations", json=person(number))
    codes = tickets(registration_app)
    first_day = dt.datetime.fromisoformat(event["starts_at"]).astimezone(ZoneInfo("Pacific/Kiritimati")).date().isoformat()

    early = client.post(f"{EVENT}/check-ins?lang=fr", json={"ticket": codes["ana1@example.org"]}, headers=auth)
    assert early.status_code == 409 and early.json["code"] == "check_in_not_open", early.json
    assert early.json["message"] == f"L’enregistrement des arrivées ouvre le jour de l’événement, le {first_day}."
    assert early.json["attendee"]["first_name"] == "Ana1", "the door sees whose ticket it is"
    assert client.post(f"{EVENT}/check-ins", json={"number": 2}, headers=auth).json["code"] == "check_in_not_open"
    assert client.post(f"{EVENT}/registrations/3/check-in", headers=auth).json["codes"] == {"override": ["check_in_not_open"]}

    admitted = client.post(f"{EVENT}/check-ins", json={"ticket": codes["ana1@example.org"], "override": True}, headers=auth)
    assert admitted.status_code == 200 and admitted.json["status"] == "attended"
    assert client.post(f"{EVENT}/check-ins", json={"number": 2, "override": "maybe"}, headers=auth).status_code == 422
    with registration_app.app_context():
        rows = db.session.execute(sa.text("SELECT action, after FROM audit_entry WHERE action = 'registration.check-in'")).all()
        statuses = db.session.execute(sa.text("SELECT status FROM registration ORDER BY id")).scalars().all()
    assert [(action, after if isinstance(after, dict) else json.loads(after)) for action, after in rows] == [
        ("registration.check-in", {"status": "attended", "override": True})]
    assert statuses == ["attended", "confirmed", "confirmed"]


def test_the_self_service_page_shows_the_ticket_of_a_confirmed_person(client, make_event):
    make_event(capacity=1)
    confirmed = client.post(f"{EVENT}/registrations", json=person(1, language="de")).json
    waitlisted = client.post(f"{EVENT}/registrations", json=person(2)).json
    page = client.get(f"/manage/{confirmed['manage_url'].rsplit('/', 1)[1]}").get_data(as_text=True)
    assert "Ihr Ticket" in page and '<svg viewBox="0 0' in page and 'class="ticket-qr"' in page
    assert "ticket-qr" not in client.get(f"/manage/{waitlisted['manage_url'].rsplit('/', 1)[1]}").get_data(as_text=True)


def test_a_web_conference_has_no_ticket(client, make_event, registration_app):
    make_event(kind="webconference", venue=None, join_url="https://meet.example.org/x")
    created = client.post(f"{EVENT}/registrations", json=person(1)).json
    assert tickets(registration_app) == {"ana1@example.org": None}
    assert "ticket-qr" not in client.get(f"/manage/{created['manage_url'].rsplit('/', 1)[1]}").get_data(as_text=True)


def test_two_phones_scanning_the_same_tickets_at_once_check_each_person_in_once(environ, databases, staff_token, registration_app):
    server = ServiceProcess("registration", environ, workers=4 if databases.kind == "postgresql" else 2).start()
    try:
        headers = {"Authorization": f"Bearer {staff_token('events')}"}
        created = requests.post(f"{server.url}/api/v1/events", json=event_payload(capacity=30, **under_way()), headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        for number in range(30):
            requests.post(f"{server.url}{EVENT}/registrations", json=person(number), timeout=10).raise_for_status()
        codes = list(tickets(registration_app).values())
        scans = [code for code in codes for _ in range(4)]  # every ticket scanned by four phones at once

        def scan(code: str) -> int:
            return requests.post(f"{server.url}{EVENT}/check-ins", json={"ticket": code}, headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            answers = list(pool.map(scan, scans))
    finally:
        server.stop()
    assert answers.count(200) == 30 and answers.count(409) == 90, sorted(set(answers))
    with registration_app.app_context():
        rows = db.session.execute(sa.text("SELECT status, count(*) FROM registration GROUP BY status")).all()
        audit = db.session.execute(sa.text("SELECT count(*) FROM audit_entry WHERE action = 'registration.check-in'")).scalar()
    assert rows == [("attended", 30)] and audit == 30


def test_name_badges_for_everyone_seated_each_in_their_language(client, make_event, auth):
    import io

    import pypdf

    make_event(capacity=9, **under_way(), title={"en": "Police academy in Lisbon", "fr": "Académie de police à Lisbonne", "de": "Polizeiakademie in Lissabon"})
    languages = ["fr", "de", "en", "pt", "es", "it", "fr", "de", "en", "fr"]
    for number, language in enumerate(languages, start=1):
        client.post(f"{EVENT}/registrations", json=person(number, language=language, last_name=f"Name{number:02d}"))
    response = client.get(f"{EVENT}/badges.pdf", headers=auth)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = pypdf.PdfReader(io.BytesIO(response.data))
    assert len(pdf.pages) == 2, "nine seated people: eight badges a sheet"
    text = " ".join(page.extract_text() for page in pdf.pages)
    for word in ("Académie de police à Lisbonne", "Polizeiakademie in Lissabon", "Police academy in Lisbon", "PARTICIPANT", "TEILNEHMER/IN",
                 "PARTECIPANTE", "PARTICIPANTE", "NAME01", "NAME09"):
        assert word in text, word
    assert "NAME10" not in text, "the waitlisted person gets no badge"
    assert client.get(f"{EVENT}/badges.pdf").status_code == 401
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "badges.pdf").write_bytes(response.data)
