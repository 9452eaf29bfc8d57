"""Failed emails in the back office: admins see them with their error and resend them."""
from __future__ import annotations

import sqlalchemy as sa

from tests.backoffice.conftest import csrf
from tests.backoffice.test_orders import logged_in


def failed_delivery(databases) -> None:
    engine = sa.create_engine(databases.urls["notify"])
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO delivery (idempotency_key, message_type, recipient, template, language, status, attempts, last_error,"
            " envelope, created_at) VALUES ('k1', 'registration.confirmed', 'ana1@example.org', 'notify/en/registration.confirmed',"
            " 'en', 'failed', 5, '550 mailbox unavailable', '{}', CURRENT_TIMESTAMP)"
        ))
    engine.dispose()


def test_an_admin_sees_a_failed_email_with_its_error_and_resends_it(services, databases, staff_account):
    failed_delivery(databases)
    url = services.registration.url
    events = logged_in(url, staff_account("events"))
    assert events.get(f"{url}/staff/emails", timeout=10, allow_redirects=False).status_code == 403

    admin = logged_in(url, staff_account("admin"))
    page = admin.get(f"{url}/staff/emails", timeout=10)
    assert page.ok and "ana1@example.org" in page.text and "550 mailbox unavailable" in page.text
    response = admin.post(f"{url}/staff/emails/1/resend", data={"csrf_token": csrf(page.text), "status": "failed"}, timeout=10)
    assert response.ok and "The email to ana1@example.org is queued again." in response.text
    assert "No emails with this status." in response.text
    # a second resend is refused by the notify service and says why
    response = admin.post(f"{url}/staff/emails/1/resend", data={"csrf_token": csrf(response.text)}, timeout=10)
    assert "Only a failed delivery can be resent. status: Current status: queued." in response.text
