"""Back-office pages through the Flask test client: event editing with extra fields,
messages, exports, the member directory import, French, and the audit log."""
from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook

from shared.outbox import OutboxMessage
from tests.backoffice.conftest import audit_entries, csrf, form_fields
from tests.conftest import person, under_way


def _edit_form(client) -> tuple[str, dict[str, str]]:
    """The edit page's CSRF token and its form as a browser would send it."""
    page = client.get("/staff/events/police-academy-lisbon/edit").get_data(as_text=True)
    return csrf(page), form_fields(page)


def _extra_rows(form: dict[str, str]) -> list[str]:
    """The names given in the extra-field rows of the form, blank rows included."""
    return [form[name] for name in form if re.fullmatch(r"extra_\d+_name", name)]


def test_edit_an_event_and_its_extra_fields(client, login, make_event):
    make_event(capacity=1)
    assert client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1)).status_code == 201
    assert client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(2)).status_code == 201
    login("events")
    token, form = _edit_form(client)
    assert form["slug"] == "police-academy-lisbon" and form["title_fr"] == "Académie de police à Lisbonne"
    assert _extra_rows(form) == ["", ""], "two blank rows to fill"
    assert form["kind"] == "academy" and "published" in form and "members_only" not in form

    # a select without choices is refused on its row, nothing changes
    bad = {**form, "csrf_token": token, "extra_0_name": "diet", "extra_0_type": "select",
           "extra_0_label_en": "Diet", "extra_0_choices": ""}
    response = client.post("/staff/events/police-academy-lisbon/edit", data=bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="extra_0_name-error"' in page and "A list needs at least one choice." in page
    assert _extra_rows(form_fields(page)) == ["diet", ""], "the rows as they were sent, without more blank ones"
    assert client.get("/api/v1/events/police-academy-lisbon").json["extra_fields"] == []

    good = {**bad, "extra_0_choices": "none\nvegetarian\nhalal", "extra_0_label_fr": "Régime", "extra_0_required": "on",
            "extra_1_name": "badge", "extra_1_type": "text", "extra_1_label_en": "Name on the badge",
            "capacity": "2", "title_en": "Police academy in Lisbon 2027"}
    response = client.post("/staff/events/police-academy-lisbon/edit", data=good)
    assert response.status_code == 302, response.get_data(as_text=True)
    event = client.get("/api/v1/events/police-academy-lisbon").json
    assert event["title"]["en"] == "Police academy in Lisbon 2027" and event["capacity"] == 2
    assert event["extra_fields"] == [
        {"name": "diet", "type": "select", "required": True, "label": {"en": "Diet", "fr": "Régime"},
         "choices": ["none", "vegetarian", "halal"]},
        {"name": "badge", "type": "text", "required": False, "label": {"en": "Name on the badge"}},
    ]
    questions = [f["name"] for f in client.get("/api/v1/events/police-academy-lisbon/form?lang=fr").json["fields"]]
    assert "answers.diet" in questions and "answers.badge" in questions
    # the raised capacity promoted the waitlisted person at once
    page = client.get("/staff/events/police-academy-lisbon?status=confirmed").get_data(as_text=True)
    assert "ana1@example.org" in page and "ana2@example.org" in page

    entry = next(e for e in audit_entries(client) if e.action == "event.update")
    assert entry.staff_email == "events.desk@efus.eu" and entry.target == "police-academy-lisbon"
    assert entry.before["capacity"] == 1 and entry.after["capacity"] == 2
    assert entry.before["extra_fields"] == [] and len(entry.after["extra_fields"]) == 2
    assert "published" not in entry.after, "only changed fields are recorded"

    # the edit page shows the saved rows, plus blank ones; emptying a row removes the field
    token, form = _edit_form(client)
    assert _extra_rows(form) == ["diet", "badge", "", ""]
    assert form["extra_0_choices"] == "none\nvegetarian\nhalal" and form["extra_0_required"] and "extra_1_required" not in form
    removed = {**form, "csrf_token": token, "extra_1_name": "", "extra_1_label_en": ""}
    assert client.post("/staff/events/police-academy-lisbon/edit", data=removed).status_code == 302
    assert [f["name"] for f in client.get("/api/v1/events/police-academy-lisbon").json["extra_fields"]] == ["diet"]


def test_the_slug_cannot_change_in_the_back_office_nor_through_the_api(client, login, make_event, staff_token):
    make_event()
    login("events")
    token, form = _edit_form(client)
    page = client.get("/staff/events/police-academy-lisbon/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]* id="slug"[^>]* readonly', page) and "it cannot change." in page
    response = client.post("/staff/events/police-academy-lisbon/edit", data={**form, "csrf_token": token, "slug": "lisbon",
                                                                             "title_en": "Renamed"})
    assert response.status_code == 409
    assert re.search(r'<span class="error" id="slug-error">Cannot be changed', response.get_data(as_text=True))
    api = client.patch("/api/v1/events/police-academy-lisbon", json={"slug": "lisbon"},
                       headers={"Authorization": f"Bearer {staff_token('events', 'planner@efus.eu')}"})
    assert api.status_code == 409 and list(api.json["errors"]) == ["slug"]
    event = client.get("/api/v1/events/police-academy-lisbon").json
    assert event["title"]["en"] == "Police academy in Lisbon", "nothing was saved"
    assert client.get("/api/v1/events/lisbon").status_code == 404


def test_the_event_form_refuses_what_it_cannot_read_with_a_4xx_and_writes_nothing(client, login, make_event):
    make_event(capacity=1)
    login("events")
    token, form = _edit_form(client)
    for bad, field in (({"capacity": "-1"}, "capacity"), ({"capacity": "9" * 40}, "capacity"), ({"capacity": "2.5"}, "capacity"),
                       ({"starts_at": "tomorrow"}, "starts_at"), ({"registration_opens_at": "2027-13-40T25:00"}, "registration_opens_at"),
                       ({"timezone": "Europe/Nowhere"}, "timezone"), ({"kind": "party"}, "kind"), ({"join_url": "not a link"}, "join_url"),
                       ({"title_en": "x" * 20001}, "title_en"), ({"title_en": "", "title_fr": ""}, "title_en"),
                       ({"extra_0_name": "diet", "extra_0_type": "poll"}, "extra_0_name"),
                       ({"extra_0_name": "two words", "extra_0_label_en": "Diet"}, "extra_0_name"),
                       ({"extra_0_name": "diet", "extra_1_name": "diet"}, "extra_1_name"),
                       # rows are numbered again from 0: the third row shown
                       ({"extra_7_name": "late", "extra_7_label_en": "Row 8 (sent by hand)", "extra_7_type": "select"}, "extra_2_name")):
        response = client.post("/staff/events/police-academy-lisbon/edit", data={**form, **bad, "csrf_token": token, "capacity": "5",
                                                                                 **{k: v for k, v in bad.items() if k == "capacity"}})
        assert response.status_code == 422, (bad, response.status_code)
        assert f'id="{field}-error"' in response.get_data(as_text=True), bad
    assert client.get("/api/v1/events/police-academy-lisbon").json["capacity"] == 1, "nothing was saved"
    assert not [e for e in audit_entries(client) if e.action == "event.update"]


def test_message_all_registrants_and_download_the_lists(client, login, make_event, registration_app):
    make_event(capacity=1)
    for number in (1, 2, 3):
        assert client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(number)).status_code == 201
    login("events")
    page = client.get("/staff/events/police-academy-lisbon/message").get_data(as_text=True)
    token = csrf(page)
    response = client.post("/staff/events/police-academy-lisbon/message", data={"csrf_token": token, "subject": "", "body": "Hello"})
    assert response.status_code == 422 and 'id="subject-error"' in response.get_data(as_text=True)
    response = client.post("/staff/events/police-academy-lisbon/message",
                           data={"csrf_token": token, "subject": "Bring your badge", "body": "See you in Lisbon.", "statuses": ["waitlisted"]},
                           follow_redirects=True)
    assert "Your message is on its way to 2 people." in response.get_data(as_text=True)
    with registration_app.app_context():
        messages = OutboxMessage.query.filter_by(message_type="event.message").all()
    assert sorted(m.envelope["data"]["person"]["email"] for m in messages) == ["ana2@example.org", "ana3@example.org"]
    assert {m.envelope["data"]["subject"] for m in messages} == {"Bring your badge"}
    entry = audit_entries(client)[0]
    assert entry.action == "event.message" and entry.after == {"subject": "Bring your badge", "statuses": ["waitlisted"], "recipients": 2}

    page = client.get("/staff/events/police-academy-lisbon?status=waitlisted").get_data(as_text=True)
    assert "/staff/events/police-academy-lisbon/participants.csv?status=waitlisted" in page
    response = client.get("/staff/events/police-academy-lisbon/participants.csv?status=waitlisted")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 3 and "ana1@example.org" not in response.get_data(as_text=True)
    response = client.get("/staff/events/police-academy-lisbon/participants.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] == [f"ana{n}@example.org" for n in (1, 2, 3)]
    assert client.get("/staff/events/police-academy-lisbon/participants.pdf").status_code == 404


CSV_OK = "name,country,domains\nVille de Lyon,FR,lyon.fr;mairie-lyon.fr\nComune di Torino,IT,comune.torino.it\n"
CSV_BAD = "name,country,domains\nVille de Lyon,FRANCE,lyon.fr\n,IT,torino\n"


def test_import_the_member_directory_with_a_preview(client, login):
    login("events")
    token = csrf(client.get("/staff/members/import").get_data(as_text=True))
    for upload in ({}, {"file": (io.BytesIO(b""), "")}, {"csv": "  "}):
        response = client.post("/staff/members/import", data={"csrf_token": token, **upload}, content_type="multipart/form-data")
        assert response.status_code == 422 and "Choose a CSV file." in response.get_data(as_text=True), upload
    response = client.post("/staff/members/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO("name,country\nVille de Liège,BE\n".encode("latin-1")), "m.csv")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and '<span class="error" id="file-error">The file is not UTF-8 text' in page
    assert re.search(r'<input[^>]* aria-describedby="file-error" aria-invalid="true"[^>]* type="file"', page)
    response = client.post("/staff/members/import", data={"csrf_token": token, "file": (io.BytesIO(CSV_BAD.encode()), "members.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing can be imported yet" in page
    assert "country &#39;FRANCE&#39; is not an ISO 3166-1 alpha-2 code" in page
    assert "name is empty" in page and "&#39;torino&#39; is not a domain" in page
    assert "Import these" not in page

    response = client.post("/staff/members/import", data={"csrf_token": token, "file": (io.BytesIO(CSV_OK.encode()), "members.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Preview: 2 organisations will be created and 0 updated." in page
    assert "Ville de Lyon" in page and "lyon.fr, mairie-lyon.fr" in page
    assert "No member organisations match." in client.get("/staff/members").get_data(as_text=True), "a preview writes nothing"

    text = form_fields(page)["csv"]
    response = client.post("/staff/members/import", data={"csrf_token": token, "confirm": "yes", "csv": text}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Member directory imported: 2 created, 0 updated." in page
    assert "Comune di Torino" in page and "comune.torino.it" in page
    assert client.get("/api/v1/members/lookup?email=chief@police.lyon.fr").json["member"] is True
    assert "Comune di Torino" not in client.get("/staff/members?q=lyon").get_data(as_text=True)
    entry = audit_entries(client)[0]
    assert entry.action == "member.import" and entry.after == {"created": 2, "updated": 0}


def test_the_back_office_speaks_french(client, login, make_event):
    make_event()
    login("events")
    page = client.get("/staff/events?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Événements" in page and "Créer un événement" in page and "académie de police" in page
    page = client.get("/staff/events/police-academy-lisbon").get_data(as_text=True)
    assert "Académie de police à Lisbonne" in page and "Écrire à tous les inscrits" in page, "the choice stays in the session"
    page = client.get("/staff/events/police-academy-lisbon?lang=en").get_data(as_text=True)
    assert "Message all registrants" in page
    client.get("/staff/events?lang=fr")
    response = client.post("/staff/events/new", data={"csrf_token": csrf(page), "slug": "x"})
    assert "Veuillez corriger les champs signalés" in response.get_data(as_text=True)
    assert "Indiquez au moins un titre en anglais ou en français." in response.get_data(as_text=True)
    # the services' own refusals too, by their code
    for number in (1, 2, 3):
        client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(number))
    response = client.post("/staff/events/police-academy-lisbon/registrations/3/promote", data={"csrf_token": csrf(page)},
                           follow_redirects=True)
    assert "Ana3 Silva\u00a0: L’événement est complet" in response.get_data(as_text=True)


def test_a_french_browser_gets_french_before_logging_in(client):
    page = client.get("/staff/login", headers={"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "Connexion" in page and "Mot de passe" in page


def test_every_stored_value_the_pages_show_is_in_the_vocabulary():
    """Kinds, statuses and roles are shown with `_(value)`: each must be in the catalogue."""
    from services.registration.backoffice.i18n import VOCABULARY
    from services.registration.models import EVENT_KINDS, STATUSES
    from shared.auth import ROLES
    from shared.contracts.notify import DELIVERY_STATUSES
    from shared.contracts.orders import ORDER_STATUSES

    assert sorted(set(EVENT_KINDS + STATUSES + ORDER_STATUSES + DELIVERY_STATUSES + ROLES) - set(VOCABULARY)) == []


def test_an_admin_reads_the_audit_log_through_the_api(client, login, make_event, staff_token):
    make_event()
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    events = {"Authorization": f"Bearer {staff_token('events', 'planner@efus.eu')}"}
    assert client.patch("/api/v1/events/police-academy-lisbon", json={"capacity": 5}, headers=events).status_code == 200
    assert client.get("/api/v1/audit", headers=events).status_code == 403
    entries = client.get("/api/v1/audit?action=event.", headers=admin).json
    assert [(e["staff_email"], e["action"], e["before"], e["after"]) for e in entries][:1] == [
        ("planner@efus.eu", "event.update", {"capacity": 2}, {"capacity": 5})]
    assert {e["action"] for e in entries} == {"event.create", "event.update"}


def test_staff_cancel_a_registration_and_the_seat_goes_to_the_next_in_line(client, login, make_event):
    make_event(capacity=1)
    for number in (1, 2):
        assert client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(number)).status_code == 201
    login("events")
    page = client.get("/staff/events/police-academy-lisbon").get_data(as_text=True)
    assert 'data-confirm="Cancel the registration of Ana1 Silva? They are told by email."' in page
    response = client.post("/staff/events/police-academy-lisbon/registrations/1/cancel", data={"csrf_token": csrf(page)},
                           follow_redirects=True)
    assert "Ana1 Silva is now cancelled." in response.get_data(as_text=True)
    page = client.get("/staff/events/police-academy-lisbon?status=confirmed").get_data(as_text=True)
    assert "ana2@example.org" in page and "ana1@example.org" not in page
    entry = audit_entries(client)[0]
    assert (entry.action, entry.before, entry.after) == ("registration.cancel", {"status": "confirmed"}, {"status": "cancelled"})


def test_the_back_office_sends_and_shows_certificates(client, login, make_event):
    make_event(**under_way())
    client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1))
    login("events")
    page = client.get("/staff/events/police-academy-lisbon").get_data(as_text=True)
    assert "Send attendance certificates" not in page, "nobody checked in yet"
    client.post("/staff/events/police-academy-lisbon/registrations/1/check-in", data={"csrf_token": csrf(page)})
    page = client.get("/staff/events/police-academy-lisbon").get_data(as_text=True)
    assert "Send attendance certificates (1)" in page
    assert client.get("/staff/events/police-academy-lisbon/registrations/1/certificate.pdf").data.startswith(b"%PDF-")
    response = client.post("/staff/events/police-academy-lisbon/certificates", data={"csrf_token": csrf(page)}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Certificates of attendance are on their way to 1 people." in page
    assert "Send attendance certificates" not in page and "(sent)" in page
    assert audit_entries(client)[0].action == "event.certificates"


def test_the_back_office_sends_no_certificates_before_the_event(client, login, make_event, auth):
    make_event(starts_at="2027-05-10T09:00:00+01:00", ends_at="2027-05-11T17:00:00+01:00")
    client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1))
    client.post("/api/v1/events/police-academy-lisbon/check-ins", json={"number": 1, "override": True}, headers=auth)
    login("events")
    page = client.get("/staff/events/police-academy-lisbon?lang=fr").get_data(as_text=True)
    response = client.post("/staff/events/police-academy-lisbon/certificates", data={"csrf_token": csrf(page)}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Les attestations de participation ne sont envoyées qu’une fois l’événement commencé" in page, page
    assert "Send attendance certificates" in page or "attestations de participation (1)" in page, "still to send"


def test_staff_write_the_title_and_description_in_six_languages_and_see_event_times(client, login, make_event):
    make_event(starts_at="2027-05-10T09:00:00+01:00", ends_at="2027-05-11T17:00:00+01:00", timezone="Europe/Lisbon")
    login("events")
    token, form = _edit_form(client)
    assert {f"title_{lang}" for lang in ("en", "fr", "es", "it", "de", "pt")} <= set(form)
    texts = {"title_de": "Polizeiakademie in Lissabon", "description_pt": "Dois dias sobre policiamento de proximidade.",
             "title_es": "Academia de policía en Lisboa"}
    response = client.post("/staff/events/police-academy-lisbon/edit", data={**form, **texts, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    event = client.get("/api/v1/events/police-academy-lisbon").json
    assert event["title"]["de"] == "Polizeiakademie in Lissabon" and event["title"]["es"] == "Academia de policía en Lisboa"
    assert event["description"]["pt"] == "Dois dias sobre policiamento de proximidade."
    # times in the event's time zone (09:00 in Lisbon), not UTC (08:00)
    assert "10 May 2027, 09:00" in client.get("/staff/events?lang=en").get_data(as_text=True)
    assert "10 mai 2027, 09:00" in client.get("/staff/events?lang=fr").get_data(as_text=True)
