"""Attendance certificates across services: staff send them from the registration service,
the relay hands the messages over, and each email carries the PDF rendered for that person."""
from __future__ import annotations

import io

import pypdf
import requests

from tests.conftest import event_payload, person, under_way
from tests.notify.conftest import staff_headers, wait_for
from tests.notify.test_order_emails import pdf_of


def test_people_checked_in_get_their_certificate_by_email_once(registration_url, mailbox, start_worker, relay, staff_token):
    start_worker()
    staff = staff_headers(staff_token, "events")
    assert requests.post(f"{registration_url}/api/v1/events", json=event_payload(**under_way()), headers=staff, timeout=10).status_code == 201
    url = f"{registration_url}/api/v1/events/police-academy-lisbon"
    for number, language in ((1, "fr"), (2, "en")):
        response = requests.post(f"{url}/registrations", json=person(number, language=language), timeout=10)
        assert response.status_code == 201, response.text
    numbers = {r["email"]: r["number"] for r in requests.get(f"{url}/registrations", headers=staff, timeout=10).json()}
    assert requests.post(f"{url}/registrations/{numbers['ana1@example.org']}/check-in", headers=staff, timeout=10).ok

    assert requests.post(f"{url}/certificates", headers=staff, timeout=30).json() == {"sent": 1}
    assert requests.post(f"{url}/certificates", headers=staff, timeout=30).json() == {"sent": 0}, "sent once only"

    wait_for(lambda: any("attestation" in m["Subject"] for m in mailbox.to("ana1@example.org")), timeout=30)
    [email] = [m for m in mailbox.to("ana1@example.org") if "attestation" in m["Subject"]]
    assert email["Subject"] == "Votre attestation de participation – Académie de police à Lisbonne"
    filename, content = pdf_of(email)
    assert filename.startswith("certificate-") and filename.endswith(".pdf")
    text = pypdf.PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Attestation de participation" in text and "Ana1 Silva" in text and "Académie de police à Lisbonne" in text
    assert not [m for m in mailbox.to("ana2@example.org") if "certificate" in m["Subject"].lower()], "not checked in"
