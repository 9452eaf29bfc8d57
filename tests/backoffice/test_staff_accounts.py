"""Staff accounts as an attacker tries them: throttled logins that lock no one out,
sessions that end at logout, tokens that follow the account's rights on every service."""
from __future__ import annotations

import logging
import re

import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.auth import StaffAccount, StaffSession, issue_token, revoke_staff_account, save_staff_account
from tests.backoffice.conftest import PASSWORD, csrf

ATTACKER = {"X-Forwarded-For": "203.0.113.66"}
OFFICE = {"X-Forwarded-For": "198.51.100.7"}


def _post_login(client, email: str, password: str, headers: dict[str, str]):
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    return client.post("/staff/login", data={"email": email, "password": password, "csrf_token": token}, headers=headers)


def test_an_attacker_is_throttled_but_cannot_lock_the_real_admin_out(registration_app, staff_account):
    email = staff_account("admin", "admin@efus.eu")
    attacker, office = registration_app.test_client(), registration_app.test_client()
    for _ in range(5):
        assert _post_login(attacker, email, "guess", ATTACKER).status_code == 401
    assert _post_login(attacker, email, PASSWORD, ATTACKER).status_code == 429, "that address waits, even with the password"
    response = _post_login(office, email, PASSWORD, OFFICE)
    assert response.status_code == 302, "the right password from the office still gets in"


def test_one_address_trying_many_emails_is_throttled(registration_app, staff_account):
    attacker = registration_app.test_client()
    for number in range(30):
        assert _post_login(attacker, f"guess{number}@efus.eu", "guess", ATTACKER).status_code == 401
    assert _post_login(attacker, "guess99@efus.eu", "guess", ATTACKER).status_code == 429
    email = staff_account("events")
    assert _post_login(registration_app.test_client(), email, PASSWORD, OFFICE).status_code == 302


def test_unknown_and_known_emails_get_the_same_answer_and_the_logs_name_no_one(registration_app, staff_account, caplog):
    email = staff_account("events", "ana.desk@efus.eu")
    client = registration_app.test_client()
    with caplog.at_level(logging.WARNING, logger="eupolnet.backoffice"):
        known = _post_login(client, email, "wrong", ATTACKER)
        unknown = _post_login(client, "nobody.here@efus.eu", "wrong", ATTACKER)
    assert known.status_code == unknown.status_code == 401
    strip = lambda page, address: re.sub(r'nonce="[^"]*"', "", page.get_data(as_text=True).replace(address, ""))  # noqa: E731
    assert strip(known, email) == strip(unknown, "nobody.here@efus.eu")
    lines = " ".join(record.getMessage() for record in caplog.records)
    assert "login failed" in lines and "a•••@efus.eu" in lines
    assert email not in lines and "nobody.here@efus.eu" not in lines


def test_a_copied_session_cookie_ends_at_logout_and_at_a_password_change(registration_app, staff_account, databases):
    email = staff_account("events")
    desk, copy, tablet = (registration_app.test_client() for _ in range(3))
    assert _post_login(desk, email, PASSWORD, OFFICE).status_code == 302
    assert _post_login(tablet, email, PASSWORD, OFFICE).status_code == 302
    copy.set_cookie("session", desk.get_cookie("session").value)
    assert copy.get("/staff/events").status_code == 200, "the copy works while the session lasts"
    page = desk.get("/staff/events").get_data(as_text=True)
    assert desk.post("/staff/logout", data={"csrf_token": csrf(page)}).status_code == 302
    assert copy.get("/staff/events").status_code == 302, "the copied cookie is dead after logout"
    assert tablet.get("/staff/events").status_code == 200, "another session of the account goes on"

    save_staff_account(databases.urls["registration"], email, "events", password="a new long password")
    assert tablet.get("/staff/events").status_code == 302, "a new password ends the other sessions"
    engine = sa.create_engine(databases.urls["registration"])
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 0
    engine.dispose()


def _account(databases, email: str) -> StaffAccount:
    engine = sa.create_engine(databases.urls["registration"])
    with Session(engine, expire_on_commit=False) as session:
        account = session.scalar(sa.select(StaffAccount).where(StaffAccount.email == email))
    engine.dispose()
    return account


def test_tokens_follow_the_account_on_every_service(services, databases, settings, staff_account):
    url = databases.urls["registration"]
    email = staff_account("admin", "boss@efus.eu")
    old = {"Authorization": f"Bearer {issue_token(_account(databases, email), settings.secret_key)}"}
    calls = {
        "registration": f"{services.registration.url}/api/v1/audit",
        "orders": f"{services.orders.url}/api/v1/audit",
        "notify": f"{services.notify.url}/api/v1/audit",
    }
    for service, call in calls.items():
        assert requests.get(call, headers=old, timeout=10).status_code == 200, service

    save_staff_account(url, email, "events")
    for service, call in calls.items():
        response = requests.get(call, headers=old, timeout=10)
        assert response.status_code == 401, (service, "a demoted account's old token is refused")
    new = {"Authorization": f"Bearer {issue_token(_account(databases, email), settings.secret_key)}"}
    assert requests.get(calls["orders"], headers=new, timeout=10).status_code == 403, "the new token has the new role"
    assert requests.get(f"{services.registration.url}/api/v1/staff/me", headers=new, timeout=10).json()["role"] == "events"

    revoke_staff_account(url, email)
    for service, call in calls.items():
        assert requests.get(call.replace("/audit", "/staff/me") if service == "registration" else call,
                            headers=new, timeout=10).status_code == 401, (service, "a revoked token is refused")

    save_staff_account(url, email, "admin")
    active = {"Authorization": f"Bearer {issue_token(_account(databases, email), settings.secret_key)}"}
    assert requests.get(calls["notify"], headers=active, timeout=10).status_code == 200
    revoke_staff_account(url, email, deactivate=True)
    assert requests.get(calls["notify"], headers=active, timeout=10).status_code == 401, "a deactivated account's token"

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.delete(StaffAccount.__table__).where(StaffAccount.__table__.c.email == email))
    engine.dispose()
    forged = {"Authorization": f"Bearer {issue_token(StaffAccount(id=999_999, token_version=1), settings.secret_key)}"}
    for service, call in calls.items():
        assert requests.get(call, headers=forged, timeout=10).status_code == 401, (service, "a signed token of no account")
