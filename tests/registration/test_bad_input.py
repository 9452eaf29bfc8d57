"""Bad input of every kind answers 4xx naming the field, and writes nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.registration.models import Registration
from shared.db import db
from shared.outbox import OutboxMessage
from tests.conftest import person

URL = "/api/v1/events/police-academy-lisbon/registrations"


def nothing_written(app) -> bool:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 0 and \
            db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.message_type.like("registration.%"))) == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({k: v for k, v in person().items() if k != "email"}, 422, "email"),
        ({k: v for k, v in person().items() if k != "first_name"}, 422, "first_name"),
        (person(email="not-an-email"), 422, "email"),
        (person(first_name=42), 422, "first_name"),
        (person(consent=False), 422, "consent"),
        (person(consent="yes please"), 422, "consent"),
        (person(country="XX"), 422, "country"),
        (person(language="klingon"), 422, "language"),
        (person(first_name="x" * 101), 422, "first_name"),
        (person(unexpected="field"), 422, "unexpected"),
        (person(answers={"diet": "carnivore"}), 422, "answers.diet"),
        (person(answers={"unknown": "x"}), 422, "answers.unknown"),
        (person(answers={"arrival": "tomorrow"}), 422, "answers.arrival"),
        (person(website="http://spam.example"), 422, "website"),
        ([person()], 422, "body"),
    ],
)
def test_invalid_registration_names_the_field(client, make_event, registration_app, body, status, field):
    make_event(extra_fields=[
        {"name": "diet", "type": "select", "choices": ["none", "vegetarian"], "required": True},
        {"name": "arrival", "type": "date"},
    ])
    if not (isinstance(body, dict) and "answers" in body):
        body = body if not isinstance(body, dict) else {**body, "answers": {"diet": "none"}}
    response = client.post(URL, json=body)
    assert response.status_code == status, response.json
    assert field in response.json["errors"], response.json
    assert response.json["message"]
    assert nothing_written(registration_app)


def test_every_faulty_field_is_named_at_once_extra_answers_too(client, make_event, registration_app):
    make_event(extra_fields=[{"name": "diet", "type": "select", "choices": ["none", "vegetarian"], "required": True}])
    body = {k: v for k, v in person(email="not-an-email").items() if k != "first_name"}
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert {"first_name", "email", "answers.diet"} <= set(response.json["errors"]), response.json
    assert nothing_written(registration_app)


def test_non_json_body(client, make_event, registration_app):
    make_event()
    form = client.post(URL, data={"first_name": "Ana"})
    assert form.status_code == 415 and "body" in form.json["errors"]
    broken = client.post(URL, data="{not json", content_type="application/json")
    assert broken.status_code == 400 and "body" in broken.json["errors"]
    assert nothing_written(registration_app)


def test_oversized_body(client, make_event, registration_app):
    make_event()
    response = client.post(URL, json=person(position="x" * 100_000))
    assert response.status_code == 413
    assert response.json["message"]
    assert nothing_written(registration_app)


def test_unknown_and_unpublished_event(client, make_event, registration_app):
    make_event(slug="draft", published=False)
    for slug in ("nope", "draft"):
        response = client.post(f"/api/v1/events/{slug}/registrations", json=person())
        assert response.status_code == 404 and "slug" in response.json["errors"]
    assert nothing_written(registration_app)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"starts_at": "2027-01-01T10:00:00"}, "starts_at"),
        ({"title": {"xx": "?"}}, "title"),
        ({"capacity": -1}, "capacity"),
        ({"slug": "Bad Slug"}, "slug"),
        ({"extra_fields": [{"name": "a b", "type": "text"}]}, "extra_fields.0"),
        ({"extra_fields": [{"name": "diet", "type": "select"}]}, "extra_fields.0"),
    ],
)
def test_invalid_event_names_the_field(client, auth, overrides, field):
    from tests.conftest import event_payload

    response = client.post("/api/v1/events", json=event_payload(**overrides), headers=auth)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert client.get("/api/v1/staff/events", headers=auth).json == []
