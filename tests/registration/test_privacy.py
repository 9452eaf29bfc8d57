"""Personal data: export, erasure on request, anonymisation after the retention period."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from services.registration.privacy import anonymise_expired
from shared.db import db
from shared.outbox import OutboxMessage
from tests.conftest import person


def test_export_and_erase_on_request(client, make_event, staff_token, auth, registration_app):
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    make_event(capacity=1)
    client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1, answers={}))
    client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(2))
    assert client.get("/api/v1/personal-data?email=ana1@example.org", headers=auth).status_code == 403

    exported = client.get("/api/v1/personal-data?email=ana1@example.org", headers=admin).json
    assert exported["registrations"][0]["first_name"] == "Ana1"
    assert exported["registrations"][0]["consent_version"] == "2026-01"

    assert client.delete("/api/v1/personal-data?email=ana1@example.org", headers=admin).json == {"anonymised": 1}
    assert client.get("/api/v1/personal-data?email=ana1@example.org", headers=admin).json["registrations"] == []
    listing = client.get("/api/v1/events/police-academy-lisbon/registrations", headers=auth).json
    assert [(r["first_name"], r["status"]) for r in listing] == [("-", "cancelled"), ("Ana2", "confirmed")]
    # The notify service is told to erase its copies too.
    with registration_app.app_context():
        [erased] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.message_type == "person.erased")).all()
        assert erased.envelope["data"] == {"email": "ana1@example.org", "registration_ids": [listing[0]["id"]]}


def test_old_registrations_are_anonymised_after_the_retention_period(client, make_event, registration_app, staff_token):
    make_event()
    client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1))
    with registration_app.app_context():
        assert anonymise_expired(30) == 0
        db.session.execute(sa.update(OutboxMessage).values(sent_at=dt.datetime.now(dt.timezone.utc)))  # relayed
        in_a_year = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
        assert anonymise_expired(30, now=in_a_year) == 1
        db.session.commit()
        naming = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.message_type.like("registration.%"), OutboxMessage.sent_at.is_not(None))).all()
        assert naming == [], "relayed messages naming the person are gone"
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    assert client.get("/api/v1/personal-data?email=ana1@example.org", headers=admin).json["registrations"] == []
    assert client.get("/api/v1/personal-data?email=ana1@example.org").status_code == 401
