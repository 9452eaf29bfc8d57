"""Registration rules through the HTTP API: capacity, waiting list, self-service, caps."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from shared.outbox import OutboxMessage
from shared.db import db
from tests.conftest import person, under_way


def register(client, slug: str, number: int, **overrides):
    return client.post(f"/api/v1/events/{slug}/registrations", json=person(number, **overrides))


def token_of(manage_url: str) -> str:
    return manage_url.rsplit("/", 1)[1]


def messages(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.message_type.like("registration.%"))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        ).all()
        return [(row.message_type, row.envelope["data"]["person"]["email"]) for row in rows]


def test_third_person_is_waitlisted_and_promoted_when_a_seat_frees(client, make_event, registration_app):
    make_event(capacity=2)
    first, second, third = (register(client, "police-academy-lisbon", n) for n in (1, 2, 3))
    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    assert [r.json["status"] for r in (first, second, third)] == ["confirmed", "confirmed", "waitlisted"]
    assert client.get(f"/api/v1/registrations/{token_of(third.json['manage_url'])}").json["waitlist_position"] == 1

    cancelled = client.post(f"/api/v1/registrations/{token_of(first.json['manage_url'])}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    promoted = client.get(f"/api/v1/registrations/{token_of(third.json['manage_url'])}")
    assert promoted.json["status"] == "confirmed"
    # cancelling twice changes nothing and promotes nobody else
    client.post(f"/api/v1/registrations/{token_of(first.json['manage_url'])}/cancel")
    assert messages(registration_app) == [
        ("registration.confirmed", "ana1@example.org"),
        ("registration.confirmed", "ana2@example.org"),
        ("registration.waitlisted", "ana3@example.org"),
        ("registration.cancelled", "ana1@example.org"),
        ("registration.promoted", "ana3@example.org"),
    ]


def test_resubmission_returns_the_existing_registration(client, make_event):
    make_event(capacity=None)
    first = register(client, "police-academy-lisbon", 1)
    again = register(client, "police-academy-lisbon", 1, email="ANA1@Example.org")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    # Knowing someone's address must not give their self-service link.
    assert "manage_url" not in again.json


def test_public_api_never_shows_the_join_link(client, make_event, auth):
    make_event(slug="webconf", kind="webconference", venue=None, join_url="https://meet.example.org/secret-room", capacity=None)
    assert "join_url" not in client.get("/api/v1/events/webconf").json
    assert all("join_url" not in e for e in client.get("/api/v1/events").json)
    assert "secret-room" not in client.get("/api/v1/events/webconf/form").get_data(as_text=True)
    created = register(client, "webconf", 1)
    own = client.get(f"/api/v1/registrations/{token_of(created.json['manage_url'])}").json
    assert own["event"]["join_url"] == "https://meet.example.org/secret-room"
    assert client.get("/api/v1/events/webconf/staff", headers=auth).json["join_url"].endswith("secret-room")


def test_raising_capacity_promotes_in_arrival_order(client, make_event, auth):
    make_event(capacity=1)
    for number in range(1, 5):
        register(client, "police-academy-lisbon", number)
    response = client.patch("/api/v1/events/police-academy-lisbon", json={"capacity": 3}, headers=auth)
    assert response.status_code == 200 and response.json["seats_taken"] == 3
    listing = client.get("/api/v1/events/police-academy-lisbon/registrations", headers=auth).json
    assert [(r["email"], r["status"]) for r in listing] == [
        ("ana1@example.org", "confirmed"), ("ana2@example.org", "confirmed"),
        ("ana3@example.org", "confirmed"), ("ana4@example.org", "waitlisted"),
    ]
    lowered = client.patch("/api/v1/events/police-academy-lisbon", json={"capacity": 2}, headers=auth)
    assert lowered.status_code == 409 and "capacity" in lowered.json["errors"]


def test_self_service_correction_and_page(client, make_event):
    make_event()
    created = register(client, "police-academy-lisbon", 1)
    token = token_of(created.json["manage_url"])
    fixed = client.patch(f"/api/v1/registrations/{token}", json={"last_name": "Costa", "language": "fr"})
    assert fixed.status_code == 200 and fixed.json["last_name"] == "Costa"
    refused = client.patch(f"/api/v1/registrations/{token}", json={"email": "other@example.org"})
    assert refused.status_code == 422 and "email" in refused.json["errors"]
    page = client.get(f"/manage/{token}")
    assert page.status_code == 200 and "Votre inscription" in page.get_data(as_text=True)
    assert client.get(f"/manage/{token}x").status_code == 404
    assert client.get(f"/api/v1/registrations/{token[:-2]}").status_code == 404


def test_manage_page_cancel_promotes(client, make_event):
    make_event(capacity=1)
    first = register(client, "police-academy-lisbon", 1)
    second = register(client, "police-academy-lisbon", 2)
    response = client.post(f"/manage/{token_of(first.json['manage_url'])}/cancel")
    assert response.status_code == 303
    assert client.get(f"/api/v1/registrations/{token_of(second.json['manage_url'])}").json["status"] == "confirmed"


def test_double_opt_in_takes_a_seat_only_after_verification(client, make_event):
    make_event(capacity=1, double_opt_in=True)
    first = register(client, "police-academy-lisbon", 1)
    second = register(client, "police-academy-lisbon", 2)
    assert [first.json["status"], second.json["status"]] == ["pending", "pending"]
    verified = client.post(f"/api/v1/registrations/{token_of(second.json['manage_url'])}/verify")
    assert verified.json["status"] == "confirmed"
    assert client.post(f"/api/v1/registrations/{token_of(first.json['manage_url'])}/verify").json["status"] == "waitlisted"


def test_members_only_event_refuses_non_members_with_the_contact(client, make_event, auth):
    client.post("/api/v1/members", json={"name": "Ville de Paris", "country": "FR", "domains": ["paris.fr"]}, headers=auth)
    make_event(slug="general-assembly", kind="assembly", members_only=True, capacity=None)
    refused = register(client, "general-assembly", 1)
    assert refused.status_code == 403
    assert "eupolnet@efus.eu" in refused.json["message"] and "email" in refused.json["errors"]
    accepted = register(client, "general-assembly", 2, email="maire@police.paris.fr")
    assert accepted.status_code == 201


def test_staff_promote_demote_and_check_in(client, make_event, auth):
    make_event(capacity=1, **under_way())
    register(client, "police-academy-lisbon", 1)
    register(client, "police-academy-lisbon", 2)
    base = "/api/v1/events/police-academy-lisbon/registrations"
    first, second = client.get(base, headers=auth).json
    full = client.post(f"{base}/{second['number']}/promote", headers=auth)
    assert full.status_code == 409
    demoted = client.post(f"{base}/{first['number']}/demote", headers=auth)
    assert demoted.status_code == 200 and demoted.json["status"] == "waitlisted"
    statuses = {r["email"]: r["status"] for r in client.get(base, headers=auth).json}
    assert statuses == {"ana1@example.org": "waitlisted", "ana2@example.org": "confirmed"}
    checked = client.post(f"{base}/{second['number']}/check-in", headers=auth)
    assert checked.json["status"] == "attended"
    assert client.post(f"{base}/{second['number']}/check-in", headers=auth).status_code == 200
    assert client.post(f"{base}/{first['number']}/check-in", headers=auth).status_code == 409


def test_exports(client, make_event, auth):
    make_event(extra_fields=[{"name": "diet", "type": "select", "choices": ["none", "vegetarian"], "label": {"en": "Diet"}}])
    register(client, "police-academy-lisbon", 1, answers={"diet": "vegetarian"}, organisation="=cmd|' /C calc'!A0")
    csv_text = client.get("/api/v1/events/police-academy-lisbon/registrations.csv", headers=auth).get_data(as_text=True)
    assert "answer_diet" in csv_text and "vegetarian" in csv_text and "'=cmd" in csv_text
    xlsx = client.get("/api/v1/events/police-academy-lisbon/registrations.xlsx", headers=auth)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.values)
    assert rows[0][0] == "number" and rows[1][4] == "ana1@example.org"


def test_staff_endpoints_need_a_token_and_the_role(client, staff_token):
    assert client.get("/api/v1/staff/events").status_code == 401
    assert client.get("/api/v1/staff/events", headers={"Authorization": "Bearer forged"}).status_code == 401
    publications = {"Authorization": f"Bearer {staff_token('publications')}"}
    assert client.get("/api/v1/staff/events", headers=publications).status_code == 403
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    assert client.get("/api/v1/staff/events", headers=admin).status_code == 200


def test_registration_window(client, make_event):
    now = dt.datetime.now(dt.timezone.utc)
    make_event(slug="later", registration_opens_at=(now + dt.timedelta(days=1)).isoformat())
    make_event(slug="closed", registration_closes_at=(now - dt.timedelta(minutes=1)).isoformat(),
               registration_opens_at=(now - dt.timedelta(days=3)).isoformat())
    for slug in ("later", "closed"):
        response = register(client, slug, 1)
        assert response.status_code == 409 and "event" in response.json["errors"]
    assert client.get("/api/v1/events/closed/form").json["closed_reason"]
