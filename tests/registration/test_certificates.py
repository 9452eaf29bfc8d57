"""Attendance certificates: rendered for people checked in, sent once, downloadable by them."""
from __future__ import annotations

import io
import re

import pypdf
import sqlalchemy as sa

from shared.db import db
from shared.outbox import OutboxMessage
from tests.conftest import person, under_way

EVENT = "/api/v1/events/police-academy-lisbon"


def text_of(pdf: bytes) -> str:
    return " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def test_a_certificate_for_each_person_checked_in(client, make_event, auth, registration_app):
    make_event(**under_way())
    created = [client.post(f"{EVENT}/registrations", json=person(n, language=lang)).json for n, lang in ((1, "fr"), (2, "en"))]
    numbers = {r["email"]: r["number"] for r in client.get(f"{EVENT}/registrations", headers=auth).json}
    ana1 = numbers["ana1@example.org"]

    refused = client.get(f"/api/v1/certificates/{created[0]['id']}.pdf", headers=auth)
    assert refused.status_code == 409 and "status" in refused.json["errors"], "not checked in yet"
    assert client.post(f"{EVENT}/registrations/{ana1}/check-in", headers=auth).status_code == 200

    response = client.get(f"/api/v1/certificates/{created[0]['id']}.pdf", headers=auth)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = text_of(response.data)
    assert "Attestation de participation" in text and "Ana1 Silva" in text
    assert "Académie de police à Lisbonne" in text and "Inspector, Polícia Municipal" in text
    assert re.search(r"Attestation n° \d{4}-[0-9A-F]{8}", text)
    assert client.get(f"/api/v1/certificates/{created[0]['id']}.pdf").status_code == 401, "staff only"

    # the registrant downloads it from their self-service link
    token = created[0]["manage_url"].rsplit("/", 1)[1]
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    assert "Télécharger votre attestation de participation (PDF)" in page
    assert client.get(f"/manage/{token}/certificate.pdf").data.startswith(b"%PDF-")
    assert client.get(f"/api/v1/registrations/{token}/certificate.pdf").data.startswith(b"%PDF-")
    other = created[1]["manage_url"].rsplit("/", 1)[1]
    assert client.get(f"/api/v1/registrations/{other}/certificate.pdf").status_code == 409

    # sending: once per person checked in
    assert client.post(f"{EVENT}/certificates", headers=auth).json == {"sent": 1}
    assert client.post(f"{EVENT}/certificates", headers=auth).json == {"sent": 0}
    with registration_app.app_context():
        [message] = OutboxMessage.query.filter_by(message_type="certificate.issued").all()
    assert message.envelope["data"]["person"]["email"] == "ana1@example.org"
    assert message.envelope["data"]["certificate_number"] in text


def test_certificates_are_sent_only_once_the_event_has_started(client, make_event, auth, registration_app):
    make_event(starts_at="2027-05-10T09:00:00+01:00", ends_at="2027-05-11T17:00:00+01:00")
    client.post(f"{EVENT}/registrations", json=person(1))
    assert client.post(f"{EVENT}/check-ins", json={"number": 1, "override": True}, headers=auth).status_code == 200
    early = client.post(f"{EVENT}/certificates?lang=de", headers=auth)
    assert early.status_code == 409 and early.json["code"] == "event_not_started"
    assert early.json["message"] == ("Teilnahmebescheinigungen werden erst nach Beginn der Veranstaltung versandt "
                                     "(2027-05-10T09:00:00+01:00).")
    with registration_app.app_context():
        assert OutboxMessage.query.filter_by(message_type="certificate.issued").count() == 0
        assert db.session.execute(sa.text("SELECT certificate_sent_at FROM registration")).scalar() is None


CERTIFICATE = {"es": ("Certificado de asistencia", "Por la presente se certifica que", "Academia de policía"),
               "it": ("Attestato di partecipazione", "Si attesta che", "Accademia di polizia"),
               "de": ("Teilnahmebescheinigung", "Hiermit wird bescheinigt, dass", "Polizeiakademie"),
               "pt": ("Certificado de participação", "Certifica-se que", "Academia de polícia")}


def test_the_certificate_is_in_the_registrants_language(client, make_event, auth):
    make_event(title={"en": "Police academy in Lisbon", "de": "Polizeiakademie in Lissabon"}, capacity=None, **under_way())
    created = {lang: client.post(f"{EVENT}/registrations", json=person(n, language=lang)).json
               for n, lang in enumerate(CERTIFICATE, start=1)}
    for number, registration in enumerate(created.values(), start=1):
        assert client.post(f"{EVENT}/registrations/{number}/check-in", headers=auth).status_code == 200
    for lang, (title, certify, kind) in CERTIFICATE.items():
        text = text_of(client.get(f"/api/v1/certificates/{created[lang]['id']}.pdf", headers=auth).data)
        assert title in text and certify in text and kind in text, (lang, text)
        assert ("Polizeiakademie in Lissabon" if lang == "de" else "Police academy in Lisbon") in text
