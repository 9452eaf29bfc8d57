"""The back office through the Flask test client: login, CSRF, roles, events and participants."""
from __future__ import annotations

from tests.backoffice.conftest import PASSWORD, audit_entries, csrf
from tests.conftest import person, under_way


def test_anonymous_is_redirected_to_login(client):
    for path in ("/staff/", "/staff/events", "/staff/events/new", "/staff/events/any", "/staff/orders"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/staff/login" in response.headers["Location"]


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(client, staff_account):
    email = staff_account("events")
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login?next=/staff/events", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/events"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/staff/events")
    assert page.status_code == 200 and email in page.get_data(as_text=True)

    response = client.post("/staff/logout", data={"csrf_token": csrf(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert client.get("/staff/events").status_code == 302
    assert [(e.action, e.staff_email) for e in audit_entries(client)] == [("staff.logout", email), ("staff.login", email)]


def test_login_refuses_a_wrong_password_and_locks_out_after_five_failures(client, staff_account):
    email = staff_account("events")
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    for _ in range(5):
        response = client.post("/staff/login", data={"email": email, "password": "wrong", "csrf_token": token})
        assert response.status_code == 401
        assert "Wrong email or password" in response.get_data(as_text=True)
    response = client.post("/staff/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429, "even the right password is refused during the lockout"
    assert client.get("/staff/events").status_code == 302


def test_a_post_without_its_csrf_token_is_refused(client, staff_account, login, make_event):
    email = staff_account("events", "other@efus.eu")
    client.get("/staff/login")
    assert client.post("/staff/login", data={"email": email, "password": PASSWORD}).status_code == 400
    assert client.post("/staff/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"}).status_code == 400

    login("events")
    make_event(published=False)
    assert client.post("/staff/events/police-academy-lisbon/publish").status_code == 400
    assert client.get("/api/v1/events/police-academy-lisbon").status_code == 404, "still unpublished"
    token = csrf(client.get("/staff/events").get_data(as_text=True))
    assert client.post("/staff/events/police-academy-lisbon/publish", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/events/police-academy-lisbon").status_code == 200, "published with the token"


def test_roles_are_enforced_on_every_page_and_action(client, login, make_event):
    make_event()
    login("publications")
    assert client.get("/staff/").headers["Location"].endswith("/staff/orders")
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    for path in ("/staff/events", "/staff/events/new", "/staff/events/police-academy-lisbon", "/staff/events/police-academy-lisbon/edit",
                 "/staff/events/police-academy-lisbon/message", "/staff/events/police-academy-lisbon/participants.csv",
                 "/staff/members", "/staff/members/import", "/staff/audit"):
        assert client.get(path).status_code == 403, path
    assert client.post("/staff/events/police-academy-lisbon/publish", data={"csrf_token": token}).status_code == 403
    assert client.post("/staff/events/police-academy-lisbon/registrations/1/promote", data={"csrf_token": token}).status_code == 403


def test_an_events_user_cannot_open_or_act_on_orders_or_emails(client, login):
    login("events")
    token = csrf(client.get("/staff/events").get_data(as_text=True))
    assert client.get("/staff/emails").status_code == 403
    assert client.post("/staff/emails/1/resend", data={"csrf_token": token}).status_code == 403
    assert client.get("/staff/orders").status_code == 403
    assert client.post("/staff/orders/1/approve", data={"csrf_token": token}).status_code == 403
    assert client.get("/staff/orders/1/invoice.pdf").status_code == 403
    assert client.get("/staff/free-copies").status_code == 403
    assert client.get("/staff/audit").status_code == 403


def test_an_admin_opens_every_page(client, login, make_event):
    make_event()
    login("admin")
    for path in ("/staff/events", "/staff/events/new", "/staff/events/police-academy-lisbon", "/staff/events/police-academy-lisbon/edit",
                 "/staff/events/police-academy-lisbon/message", "/staff/members", "/staff/members/import"):
        assert client.get(path).status_code == 200, path


def test_participants_filter_search_promote_demote_check_in(client, login, make_event):
    make_event(capacity=1, **under_way())
    for number in (1, 2, 3):
        assert client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(number)).status_code == 201
    login("events")

    page = client.get("/staff/events").get_data(as_text=True)
    assert "Police academy in Lisbon" in page and "1 / 1" in page

    page = client.get("/staff/events/police-academy-lisbon?status=waitlisted").get_data(as_text=True)
    assert "ana2@example.org" in page and "ana3@example.org" in page and "ana1@example.org" not in page
    page = client.get("/staff/events/police-academy-lisbon?q=ANA3").get_data(as_text=True)
    assert "ana3@example.org" in page and "ana2@example.org" not in page

    token = csrf(page)
    ids = {r["email"]: r["number"] for r in client.get("/api/v1/events/police-academy-lisbon/registrations",
                                                    headers=_bearer(client)).json}
    # promoting into a full event is refused with a message, nothing changes
    response = client.post(f"/staff/events/police-academy-lisbon/registrations/{ids['ana3@example.org']}/promote",
                           data={"csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "The event is full" in client.get(response.headers["Location"]).get_data(as_text=True)

    client.post(f"/staff/events/police-academy-lisbon/registrations/{ids['ana1@example.org']}/demote", data={"csrf_token": token})
    response = client.post(f"/staff/events/police-academy-lisbon/registrations/{ids['ana2@example.org']}/check-in",
                           data={"csrf_token": token}, follow_redirects=True)
    assert "Ana2 Silva is now attended." in response.get_data(as_text=True)
    statuses = {r["email"]: r["status"] for r in client.get("/api/v1/events/police-academy-lisbon/registrations",
                                                             headers=_bearer(client)).json}
    assert statuses == {"ana1@example.org": "waitlisted", "ana2@example.org": "attended", "ana3@example.org": "waitlisted"}
    entries = audit_entries(client)
    assert [(e.staff_email, e.action, e.target, e.before, e.after) for e in entries[:2]] == [
        ("events.desk@efus.eu", "registration.check-in", f"police-academy-lisbon/{ids['ana2@example.org']}",
         {"status": "confirmed"}, {"status": "attended"}),
        ("events.desk@efus.eu", "registration.demote", f"police-academy-lisbon/{ids['ana1@example.org']}",
         {"status": "confirmed"}, {"status": "waitlisted"}),
    ]
    # the refused promotion left no entry
    assert not [e for e in entries if e.action == "registration.promote"]


def test_create_and_publish_an_event_in_two_languages(client, login):
    login("events")
    token = csrf(client.get("/staff/events/new").get_data(as_text=True))
    form = {"csrf_token": token, "slug": "assembly-2027", "kind": "assembly", "title_en": "General assembly",
            "title_fr": "Assemblée générale", "description_en": "Yearly.", "description_fr": "Annuelle.",
            "starts_at": "2027-03-01T09:00", "ends_at": "2027-03-01T17:00", "timezone": "Europe/Paris",
            "capacity": "50", "venue": "Paris", "join_url": "", "published": "on", "requires_approval": "on"}
    bad = client.post("/staff/events/new", data={**form, "capacity": "many", "timezone": "Mars/Olympus", "starts_at": ""})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Enter a whole number" in text and "Not an IANA time zone name" in text and "Enter a date and time." in text
    bad = client.post("/staff/events/new", data={**form, "ends_at": "2027-02-01T17:00"})
    assert bad.status_code == 422 and "The end must not be before the start." in bad.get_data(as_text=True)
    response = client.post("/staff/events/new", data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/events/assembly-2027"
    event = client.get("/api/v1/events/assembly-2027").json
    assert event["title"] == {"en": "General assembly", "fr": "Assemblée générale"}
    assert event["starts_at"].startswith("2027-03-01T09:00") and event["timezone"] == "Europe/Paris"
    assert event["capacity"] == 50 and event["requires_approval"] is True


def _bearer(client) -> dict[str, str]:
    from shared.auth import StaffAccount, issue_token
    from shared.db import db

    app = client.application
    with app.app_context():
        account = db.session.scalars(db.select(StaffAccount)).first()
        return {"Authorization": f"Bearer {issue_token(account, app.config['SECRET_KEY'])}"}
