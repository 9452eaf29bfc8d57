"""Group registration: a contact registers several participants in one submission; each
passes the usual rules (members only, per-organisation cap, capacity, waiting list), all or
none; each gets their own confirmation; the contact sees the group and cancels single people."""
from __future__ import annotations

import sqlalchemy as sa

from shared.db import db
from shared.outbox import OutboxMessage
from tests.conftest import person

GROUPS = "/api/v1/events/police-academy-lisbon/groups"
CONTACT = {"first_name": "Carla", "last_name": "Mendes", "email": "formacao@example.org", "language": "pt"}


def group(*numbers: int, **overrides) -> dict:
    participants = [{k: v for k, v in person(n).items() if k not in ("consent",)} for n in numbers]
    return {"contact": CONTACT, "participants": participants, "consent": True, **overrides}


def outbox(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)).all()
        return [(row.message_type, row.envelope["data"]["person"]["email"]) for row in rows if "person" in row.envelope["data"]]


def test_a_group_is_placed_and_the_answer_says_who_waits_and_why(client, make_event, registration_app):
    make_event(capacity=2)
    already = client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(4))
    created = client.post(f"{GROUPS}?lang=fr", json=group(1, 2, 3, 4))
    assert created.status_code == 201, created.json
    answer = created.json
    assert [(p["email"], p["status"], p["already_registered"]) for p in answer["participants"]] == [
        ("ana1@example.org", "confirmed", False), ("ana2@example.org", "waitlisted", False),
        ("ana3@example.org", "waitlisted", False), ("ana4@example.org", "confirmed", True)]
    assert answer["participants"][1]["reason"] == {
        "code": "event_full", "message": "L’événement est complet\u00a0: cette personne est sur la liste d’attente."}
    assert answer["participants"][1]["waitlist_position"] == 1 and answer["participants"][0]["reason"] is None
    assert answer["participants"][3]["id"] == already.json["id"]
    # each new participant their own confirmation; the contact the group's summary
    assert outbox(registration_app)[1:] == [  # after ana4's own registration
        ("registration.confirmed", "ana1@example.org"), ("registration.waitlisted", "ana2@example.org"),
        ("registration.waitlisted", "ana3@example.org"), ("group.registered", "formacao@example.org")]

    token = answer["manage_url"].rsplit("/", 1)[1]
    seen = client.get(f"/api/v1/groups/{token}").json
    assert [p["email"] for p in seen["participants"]] == ["ana1@example.org", "ana2@example.org", "ana3@example.org"]
    # the contact cancels one participant: the seat goes to the next in line
    first = seen["participants"][0]["id"]
    after = client.post(f"/api/v1/groups/{token}/participants/{first}/cancel").json
    assert [p["status"] for p in after["participants"]] == ["cancelled", "confirmed", "waitlisted"]
    # not a participant of this group: 404
    assert client.post(f"/api/v1/groups/{token}/participants/{already.json['id']}/cancel").status_code == 404
    assert client.get(f"/api/v1/groups/{token}x").status_code == 404


def test_refused_participants_are_named_and_nobody_is_registered(client, make_event, auth, registration_app):
    client.post("/api/v1/members", json={"name": "Ville de Paris", "country": "FR", "domains": ["paris.fr"]}, headers=auth)
    make_event(capacity=10, members_only=True, max_per_organisation=2)
    participants = group(1, 2, 3, 4)["participants"]
    for index, address in enumerate(["a@paris.fr", "b@paris.fr", "c@paris.fr", "d@example.org"]):
        participants[index]["email"] = address
    refused = client.post(GROUPS, json={**group(), "participants": participants})
    assert refused.status_code in (403, 409) and refused.json["code"] == "group_refused"
    assert set(refused.json["errors"]) == {"participants.2.email", "participants.3.email"}
    assert "2 participants cannot be registered, so nobody was" in refused.json["message"]
    assert outbox(registration_app) == []
    assert client.get("/api/v1/events/police-academy-lisbon/registrations", headers=auth).json == []


def test_bad_input_names_each_participants_field(client, make_event):
    make_event(extra_fields=[{"name": "rank", "type": "text", "required": True, "label": {"en": "Rank"}}])
    body = group(1, 2, 3)
    body["participants"][1]["email"] = "not an address"
    body["participants"][2]["email"] = body["participants"][0]["email"].upper()
    body["participants"][0]["answers"] = {"rank": "Inspector"}
    body["contact"] = {**CONTACT, "first_name": ""}
    response = client.post(GROUPS, json={**body, "consent": False})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"participants.1.email", "contact.first_name", "consent"}
    body["participants"][1]["email"] = "other@example.org"
    twice = client.post(GROUPS, json=body)
    assert twice.status_code == 422 and set(twice.json["errors"]) == {"contact.first_name", "participants.2.email"}
    # the fields pass: the event's own questions are checked for each participant
    for participant in body["participants"][1:]:
        participant["email"] = f"x{len(participant['first_name'])}{participant['first_name']}@example.org"
    body["contact"] = CONTACT
    response = client.post(GROUPS, json=body)
    assert response.status_code == 422 and set(response.json["errors"]) == {"participants.1.answers.rank", "participants.2.answers.rank"}
    assert client.post(GROUPS, json={**group(1), "participants": []}).status_code == 422


def test_the_group_page_lists_the_participants_in_the_contacts_language(client, make_event):
    make_event(capacity=1)
    answer = client.post(GROUPS, json=group(1, 2)).json
    token = answer["manage_url"].rsplit("/", 1)[1]
    page = client.get(f"/groups/{token}").get_data(as_text=True)
    assert '<html lang="pt">' in page and "O seu grupo" in page
    assert "Ana1 Silva" in page and "Ana2 Silva" in page and "lista de espera" in page
    cancelled = client.post(f"/groups/{token}/participants/{answer['participants'][0]['id']}/cancel")
    assert cancelled.status_code == 303
    assert client.get(f"/api/v1/groups/{token}").json["participants"][1]["status"] == "confirmed"


def test_the_contacts_data_is_exported_and_erased(client, make_event, staff_token):
    make_event(capacity=5)
    answer = client.post(GROUPS, json=group(1)).json
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    exported = client.get("/api/v1/personal-data?email=formacao@example.org", headers=admin).json
    assert exported["groups"][0]["last_name"] == "Mendes" and exported["registrations"] == []
    assert client.delete("/api/v1/personal-data?email=formacao@example.org", headers=admin).status_code == 200
    token = answer["manage_url"].rsplit("/", 1)[1]
    assert client.get(f"/api/v1/groups/{token}").status_code == 404
    assert client.get("/api/v1/personal-data?email=formacao@example.org", headers=admin).json["groups"] == []


def test_the_group_form_without_javascript_adds_blocks_and_registers(client, make_event):
    """The plain page: "Add a participant" keeps what was typed; blocks left empty are no one."""
    make_event(capacity=2)
    page = client.get("/events/police-academy-lisbon/register-group?lang=en")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    data = {"count": "2", "contact.first_name": "Carla", "contact.last_name": "Mendes", "contact.email": "c@example.org", "contact.language": "en",
            "participants.0.first_name": "Ana", "participants.0.last_name": "S", "participants.0.email": "a@example.org", "participants.0.language": "en",
            "participants.1.language": "en", "consent": "true"}
    added = client.post("/events/police-academy-lisbon/register-group?lang=en", data={**data, "add": "1"})
    assert added.status_code == 200 and "Participant 3" in added.get_data(as_text=True)
    done = client.post("/events/police-academy-lisbon/register-group?lang=en", data=data)
    assert done.status_code == 200, done.get_data(as_text=True)[-1500:]
    assert "Your group is registered" in done.get_data(as_text=True)
