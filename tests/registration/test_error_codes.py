"""Refusals carry stable codes next to their messages, which come in the request's language."""
from __future__ import annotations

from tests.conftest import person

URL = "/api/v1/events/{slug}/registrations"


def test_the_same_refusal_in_two_languages_has_the_same_code(client, make_event):
    make_event(slug="general-assembly", kind="assembly", members_only=True, capacity=None)
    french = client.post(URL.format(slug="general-assembly") + "?lang=fr", json=person()).json
    german = client.post(URL.format(slug="general-assembly"), json=person(), headers={"Accept-Language": "de-AT,de;q=0.9"}).json
    assert french["code"] == german["code"] == "members_only"
    assert french["codes"] == german["codes"] == {"email": ["not_member"]}
    assert french["message"].startswith("Cet événement est réservé aux membres de l’Efus.")
    assert german["message"].startswith("Diese Veranstaltung ist den Mitgliedern des Efus vorbehalten.")
    assert "eupolnet@efus.eu" in french["errors"]["email"][0] and "eupolnet@efus.eu" in german["errors"]["email"][0]


def test_field_errors_keep_the_version_1_shape_with_codes_beside_them(client, make_event):
    make_event()
    body = {k: v for k, v in person(email="not-an-email", consent=False).items() if k != "first_name"}
    spanish = client.post(URL.format(slug="police-academy-lisbon") + "?lang=es", json=body)
    italian = client.post(URL.format(slug="police-academy-lisbon") + "?lang=it", json=body)
    assert spanish.status_code == italian.status_code == 422
    assert spanish.json["code"] == italian.json["code"] == "invalid_fields"
    assert spanish.json["codes"] == italian.json["codes"] == {
        "first_name": ["required"], "email": ["invalid_email"], "consent": ["consent_required"]}
    # `errors` is still {field: [text]}: clients of version 1 read it as before
    assert spanish.json["errors"]["first_name"] == ["Este campo es obligatorio."]
    assert italian.json["errors"]["email"] == ["Inserisca un indirizzo email come nome@esempio.org."]
    assert spanish.json["message"] == "Algunos campos no son válidos."


def test_without_a_language_the_refusal_is_english(client, make_event):
    make_event()
    response = client.post(URL.format(slug="police-academy-lisbon"), json=person(email="x"), headers={"Accept-Language": "nl"})
    assert response.json["errors"]["email"] == ["Enter an email address like name@example.org."]
    assert response.json["codes"]["email"] == ["invalid_email"]


def test_the_openapi_document_describes_the_codes(client):
    schema = client.get("/openapi.json").json["components"]["schemas"]["Error"]
    assert set(schema["properties"]) == {"errors", "codes", "message", "code"}
