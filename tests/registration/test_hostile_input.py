"""Input an attacker sends: each gets a 4xx naming the field, and nothing is written.

Runs on PostgreSQL and SQLite; before the fix, PostgreSQL answered 500 to NUL bytes and
out-of-range ids, SQLite stored the control characters, and both broke the XLSX export.
"""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from services.registration.models import MemberDomain, MemberOrganisation, Registration
from shared.audit import AuditEntry
from shared.db import db
from shared.outbox import OutboxMessage
from shared.schemas import MAX_ID
from tests.conftest import person

SLUG = "police-academy-lisbon"
URL = f"/api/v1/events/{SLUG}/registrations"


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Registration, OutboxMessage, AuditEntry, MemberOrganisation, MemberDomain)}


@pytest.fixture
def event(make_event, registration_app) -> dict[str, int]:
    """The event exists (its creation is audited); returns the row counts after it."""
    make_event()
    return counts(registration_app)


@pytest.mark.parametrize(("body", "field"), [
    (person(first_name="Ana\x00"), "first_name"),
    (person(last_name="\x00"), "last_name"),
    (person(organisation="Pol\x00ícia"), "organisation"),
    (person(answers={"diet\x00": "x"}), "answers"),
    (person(answers={"diet": "\x00"}), "answers.diet"),
    (person(first_name="Ana\x01"), "first_name"),
    (person(organisation="Polícia\x1f"), "organisation"),
    (person(city="Lisboa\x7f"), "city"),
    (person(position="\x1bInspector"), "position"),
    (person(first_name="Ana\tMaria"), "first_name"),
    (person(last_name="Silva\nDROP"), "last_name"),
    (person(first_name="\ud800"), "first_name"),
    (person(organisation="x\udfff"), "organisation"),
    (person(first_name="   "), "first_name"),
    (person(last_name="\u00a0\u2003"), "last_name"),
])
def test_hostile_text_in_a_registration(client, event, registration_app, body, field):
    response = client.post(URL, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert counts(registration_app) == event


def test_hostile_text_in_the_self_service_correction(client, event, registration_app):
    created = client.post(URL, json=person())
    token = created.json["manage_url"].rsplit("/", 1)[1]
    before = counts(registration_app)
    for changes, field in (({"first_name": "\x00"}, "first_name"), ({"city": "\ud800"}, "city"), ({"last_name": " "}, "last_name")):
        response = client.patch(f"/api/v1/registrations/{token}", json=changes)
        assert response.status_code == 422 and field in response.json["errors"], response.json
    assert counts(registration_app) == before
    assert client.get(f"/api/v1/registrations/{token}").json["first_name"] == "Ana1"


def test_spaces_around_an_email_are_trimmed(client, event, registration_app):
    response = client.post(URL, json=person(email="  Ana1@Example.org \t"))
    assert response.status_code == 201, response.json
    with registration_app.app_context():
        assert db.session.scalar(sa.select(Registration.email)) == "ana1@example.org"
    lookup = client.get("/api/v1/members/lookup", query_string={"email": " ana@example.org "})
    assert lookup.status_code == 200 and lookup.json["member"] is False


@pytest.mark.parametrize(("method", "path", "field"), [
    ("GET", "/api/v1/events/%00x", "slug"),
    ("GET", "/api/v1/events/%00x/form", "slug"),
    ("POST", "/api/v1/events/%00x/registrations", "slug"),
    ("GET", "/events/%00x/register", "slug"),
    ("POST", "/events/%00x/register", "slug"),
    ("GET", "/api/v1/registrations/%00", "token"),
    ("GET", "/manage/x%01y", "token"),
])
def test_a_nul_or_control_character_in_a_path_is_404_naming_it(client, event, registration_app, method, path, field):
    response = client.open(path, method=method, json=person() if "/api/" in path and method == "POST" else None,
                           data={"first_name": "Ana"} if method == "POST" and "/api/" not in path else None)
    assert response.status_code == 404, response.data
    assert field in response.json["errors"]
    assert counts(registration_app) == event


def test_a_nul_in_a_query_or_form_field_is_refused_naming_it(client, auth, event, registration_app):
    listed = client.get(f"{URL}?q=a%00b", headers=auth)
    assert listed.status_code == 422 and "q" in listed.json["errors"], listed.json
    lookup = client.get("/api/v1/members/lookup?email=a%00@example.org")
    assert lookup.status_code == 422 and "email" in lookup.json["errors"]
    form = client.post(f"/events/{SLUG}/register", data={"first_name": "Ana\x00", "last_name": "Silva", "email": "a@example.org"})
    assert form.status_code == 422 and "first_name" in form.json["errors"]
    login = client.post("/staff/login", data={"email": "admin@efus.eu\x00", "password": "x"})
    assert login.status_code == 422 and "email" in login.json["errors"]
    assert counts(registration_app) == event


@pytest.mark.parametrize("depth", [5_000, 20_000])
def test_deeply_nested_json_is_400(client, event, registration_app, depth):
    response = client.post(URL, data="[" * depth + "]" * depth, content_type="application/json")
    assert response.status_code in (400, 422), response.json
    assert "body" in response.json["errors"]
    nested = '{"first_name": ' + "[" * depth + "]" * depth + "}"
    assert client.post(URL, data=nested, content_type="application/json").status_code in (400, 422)
    assert counts(registration_app) == event


@pytest.mark.parametrize("number", [MAX_ID + 1, 2**63, 10**30])
@pytest.mark.parametrize("action", ["check-in", "promote", "demote", "cancel"])
def test_ids_beyond_the_integer_range_are_404(client, auth, event, registration_app, number, action):
    response = client.post(f"{URL}/{number}/{action}", headers=auth)
    assert response.status_code == 404, response.data
    assert client.delete(f"/api/v1/members/{number}", headers=auth).status_code == 404
    assert client.post(f"/staff/events/{SLUG}/registrations/{number}/{action}").status_code == 404
    assert counts(registration_app) == event


def test_a_member_domain_or_address_of_another_member_is_409_naming_it(client, auth, registration_app):
    first = client.post("/api/v1/members", json={"name": "Lisboa", "country": "PT", "domains": ["cm-lisboa.pt"],
                                                 "addresses": ["ana@gmail.com"]}, headers=auth)
    assert first.status_code == 201, first.json
    before = counts(registration_app)
    for body, field in (({"domains": ["CM-Lisboa.pt."]}, "domains"), ({"addresses": [" Ana@gmail.com"]}, "addresses")):
        response = client.post("/api/v1/members", json={"name": "Porto", "country": "PT", **body}, headers=auth)
        assert response.status_code == 409, response.json
        assert field in response.json["errors"] and "Lisboa" in response.json["errors"][field][0]
    assert counts(registration_app) == before
    # the owner itself may send its own domain again
    assert client.post("/api/v1/members", json={"name": "Lisboa", "country": "PT", "domains": ["cm-lisboa.pt"]},
                       headers=auth).status_code == 201


def test_a_member_csv_row_with_a_nul_is_named(client, auth, registration_app):
    before = counts(registration_app)
    response = client.post("/api/v1/members/import", data="name,country,domains\nLis\x00boa,PT,cm-lisboa.pt\n",
                           content_type="text/csv", headers=auth)
    assert response.status_code == 422 and "row 1" in response.json["errors"], response.json
    assert counts(registration_app) == before


def _stored(registration_app, **values) -> None:
    """A registration as rows stored before the door refused such text hold it."""
    client = registration_app.test_client()
    response = client.post(URL, json=person(99))
    assert response.status_code == 201, response.json
    with registration_app.app_context():
        db.session.execute(sa.update(Registration).where(Registration.email == "ana99@example.org").values(**values))
        db.session.commit()


def test_exports_neutralise_formulas_after_a_tab_or_carriage_return(client, auth, event, registration_app):
    _stored(registration_app, first_name="\t=HYPERLINK(\"http://evil\")", last_name="\r+1", organisation="\t@SUM(A1)",
            position="-2+3", city="=1")
    response = client.get(f"{URL}.csv", headers=auth)
    assert response.status_code == 200
    row = next(r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True))) if r["email"] == "ana99@example.org")
    for column in ("first_name", "last_name", "organisation", "position", "city"):
        assert row[column].startswith("'"), (column, row[column])


def _log_in(client, databases) -> None:
    """The test client logs into the back office as an events account."""
    from sqlalchemy.orm import Session
    from werkzeug.security import generate_password_hash

    from shared.auth import StaffAccount
    from tests.backoffice.conftest import PASSWORD, csrf

    engine = sa.create_engine(databases.urls["registration"])
    with Session(engine) as session:
        session.add(StaffAccount(email="desk@efus.eu", role="events", password_hash=generate_password_hash(PASSWORD)))
        session.commit()
    engine.dispose()
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    assert client.post("/staff/login", data={"email": "desk@efus.eu", "password": PASSWORD, "csrf_token": token}).status_code == 302


def test_the_xlsx_export_survives_stored_control_characters(client, auth, event, registration_app, databases):
    _stored(registration_app, first_name="Ana\x01", organisation="Pol\x0bícia\x1f", city="\x1b")
    response = client.get(f"{URL}.xlsx", headers=auth)
    assert response.status_code == 200, response.data[:300]
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [cell.value for cell in next(row for row in sheet.iter_rows() if row[4].value == "ana99@example.org")]
    assert "Ana\ufffd" in values and "Pol\ufffdícia\ufffd" in values
    _log_in(client, databases)
    page = client.get(f"/staff/events/{SLUG}/participants.xlsx")
    assert page.status_code == 200 and page.data[:2] == b"PK"
