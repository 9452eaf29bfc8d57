"""Moderated events: registrations wait for staff to approve or reject them; approval takes
a seat under the usual rules (so the waiting list still works); each step is announced to
the person, and the audit log records who decided."""
from __future__ import annotations

import sqlalchemy as sa

from shared.audit import AuditEntry
from shared.db import db
from shared.outbox import OutboxMessage
from tests.registration.test_registrations import register, token_of

BASE = "/api/v1/events/police-academy-lisbon"


def announcements(app) -> list[tuple[str, str, str | None]]:
    """(message type, email, reason) of every registration message, in order."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.message_type.like("registration.%"))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        ).all()
        return [(row.message_type, row.envelope["data"]["person"]["email"], row.envelope["data"].get("reason")) for row in rows]


def numbers(client, auth) -> dict[str, int]:
    return {r["email"]: r["number"] for r in client.get(f"{BASE}/registrations", headers=auth).json}


def test_approval_takes_a_seat_and_the_waiting_list_still_works(client, make_event, auth, registration_app):
    make_event(capacity=1, requires_approval=True)
    created = [register(client, "police-academy-lisbon", n) for n in (1, 2, 3)]
    assert [r.json["status"] for r in created] == ["pending_approval"] * 3
    assert client.get(f"{BASE}/staff", headers=auth).json["seats_taken"] == 0
    # the same email again answers with the registration awaiting approval
    again = register(client, "police-academy-lisbon", 1)
    assert (again.status_code, again.json["status"]) == (200, "pending_approval")

    number = numbers(client, auth)
    approved = client.post(f"{BASE}/registrations/{number['ana2@example.org']}/approve", json={"reason": "Welcome, see you in Lisbon."},
                           headers=auth)
    assert approved.status_code == 200 and approved.json["status"] == "confirmed" and approved.json["decided_at"]
    # approval after the seat is gone: the waiting list, in order of approval
    second = client.post(f"{BASE}/registrations/{number['ana1@example.org']}/approve", headers=auth)
    assert second.json["status"] == "waitlisted" and second.json["waitlist_position"] == 1
    rejected = client.post(f"{BASE}/registrations/{number['ana3@example.org']}/reject", json={"reason": "Reserved for trainers."},
                           headers=auth)
    assert rejected.json["status"] == "rejected"
    # deciding twice is refused, naming the status
    twice = client.post(f"{BASE}/registrations/{number['ana3@example.org']}/approve", headers=auth)
    assert twice.status_code == 409 and twice.json["code"] == "not_pending_approval" and "status" in twice.json["errors"]

    # the seat holder cancels: the approved person on the waiting list moves up
    client.post(f"/api/v1/registrations/{token_of(created[1].json['manage_url'])}/cancel")
    assert client.get(f"/api/v1/registrations/{token_of(created[0].json['manage_url'])}").json["status"] == "confirmed"
    # a rejected address may register again: a new registration, awaiting approval
    anew = register(client, "police-academy-lisbon", 3)
    assert (anew.status_code, anew.json["status"]) == (201, "pending_approval")

    assert announcements(registration_app) == [
        ("registration.pending_approval", "ana1@example.org", None),
        ("registration.pending_approval", "ana2@example.org", None),
        ("registration.pending_approval", "ana3@example.org", None),
        ("registration.approved", "ana2@example.org", "Welcome, see you in Lisbon."),
        ("registration.approved", "ana1@example.org", None),
        ("registration.rejected", "ana3@example.org", "Reserved for trainers."),
        ("registration.cancelled", "ana2@example.org", None),
        ("registration.promoted", "ana1@example.org", None),
        ("registration.pending_approval", "ana3@example.org", None),
    ]
    with registration_app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action.in_(("registration.approve", "registration.reject")))
                                     .order_by(AuditEntry.id)).all()
        assert [(e.action, e.staff_email, e.after["status"], e.after["reason_given"]) for e in entries] == [
            ("registration.approve", "events@efus.eu", "confirmed", True),
            ("registration.approve", "events@efus.eu", "waitlisted", False),
            ("registration.reject", "events@efus.eu", "rejected", True),
        ]


def test_bulk_decisions_are_all_or_none(client, make_event, auth, registration_app):
    make_event(capacity=10, requires_approval=True)
    for n in (1, 2, 3):
        register(client, "police-academy-lisbon", n)
    number = numbers(client, auth)
    client.post(f"{BASE}/registrations/{number['ana3@example.org']}/reject", headers=auth)
    # one of three cannot be decided: nothing changes, and the answer names it
    refused = client.post(f"{BASE}/decisions", json={"decision": "approve", "numbers": list(number.values())}, headers=auth)
    assert refused.status_code == 409 and refused.json["code"] == "decision_refused"
    assert list(refused.json["errors"]) == ["numbers.2"]
    assert {r["status"] for r in client.get(f"{BASE}/registrations", headers=auth).json} == {"pending_approval", "rejected"}
    unknown = client.post(f"{BASE}/decisions", json={"decision": "approve", "numbers": [number["ana1@example.org"], 999999]}, headers=auth)
    assert unknown.status_code == 404 and list(unknown.json["errors"]) == ["numbers.1"]
    twice = client.post(f"{BASE}/decisions", json={"decision": "approve", "numbers": [1, 1]}, headers=auth)
    assert twice.status_code == 422 and "numbers" in twice.json["errors"]
    wrong = client.post(f"{BASE}/decisions", json={"decision": "maybe", "numbers": []}, headers=auth)
    assert wrong.status_code == 422 and set(wrong.json["errors"]) == {"decision", "numbers"}

    done = client.post(f"{BASE}/decisions", json={"decision": "approve", "numbers": [number["ana1@example.org"], number["ana2@example.org"]],
                                                   "reason": "Both accepted."}, headers=auth)
    assert done.status_code == 200 and [r["status"] for r in done.json] == ["confirmed", "confirmed"]
    assert [a for a in announcements(registration_app) if a[0] == "registration.approved"] == [
        ("registration.approved", "ana1@example.org", "Both accepted."), ("registration.approved", "ana2@example.org", "Both accepted."),
    ]


def test_double_opt_in_then_approval(client, make_event, auth):
    make_event(capacity=5, double_opt_in=True, requires_approval=True)
    created = register(client, "police-academy-lisbon", 1)
    assert created.json["status"] == "pending"
    number = numbers(client, auth)["ana1@example.org"]
    early = client.post(f"{BASE}/registrations/{number}/approve", headers=auth)
    assert early.status_code == 409  # the address is not verified yet
    verified = client.post(f"/api/v1/registrations/{token_of(created.json['manage_url'])}/verify")
    assert verified.json["status"] == "pending_approval"
    assert client.post(f"{BASE}/registrations/{number}/approve", headers=auth).json["status"] == "confirmed"


def test_awaiting_approval_counts_for_the_organisation_cap_and_can_be_cancelled(client, make_event, auth):
    client.post("/api/v1/members", json={"name": "Ville de Paris", "country": "FR", "domains": ["paris.fr"]}, headers=auth)
    make_event(capacity=10, requires_approval=True, max_per_organisation=1)
    first = register(client, "police-academy-lisbon", 1, email="one@paris.fr")
    assert first.json["status"] == "pending_approval"
    capped = register(client, "police-academy-lisbon", 2, email="two@paris.fr")
    assert capped.status_code == 409 and capped.json["code"] == "organisation_cap"
    cancelled = client.post(f"/api/v1/registrations/{token_of(first.json['manage_url'])}/cancel")
    assert cancelled.json["status"] == "cancelled"
    assert register(client, "police-academy-lisbon", 2, email="two@paris.fr").status_code == 201


def announced_manage_url(app) -> str:
    with app.app_context():
        return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.created_at.desc())).first().envelope["data"]["manage_url"]


def test_pages_say_where_a_moderated_registration_stands(client, make_event, auth, registration_app):
    make_event(capacity=10, requires_approval=True)
    page = client.post("/events/police-academy-lisbon/register?lang=fr", data={
        "first_name": "Ana", "last_name": "Silva", "email": "ana@example.org", "language": "fr", "consent": "on"})
    assert page.status_code == 200
    assert "Votre inscription est en attente d’approbation" in page.get_data(as_text=True)
    token = token_of(announced_manage_url(registration_app))
    manage = client.get(f"/manage/{token}").get_data(as_text=True)
    assert "en attente d’approbation par les organisateurs" in manage
    client.post(f"{BASE}/registrations/{numbers(client, auth)['ana@example.org']}/reject", headers=auth)
    assert "Les organisateurs n’ont pas pu accepter cette inscription." in client.get(f"/manage/{token}").get_data(as_text=True)
