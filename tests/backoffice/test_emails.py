"""Failed emails in the back office: admins see them with their error and resend them."""
from __future__ import annotations

import json

import sqlalchemy as sa

from tests.backoffice.conftest import csrf
from tests.backoffice.test_orders import logged_in
from tests.notify.conftest import registration_envelope


#: the subject of the failed email, as its French recipient got it
SUBJECT = "Inscription confirmée – Police et citoyens : la confiance"


def failed_delivery(databases) -> None:
    """A confirmation to ana1@example.org, in French, that her mail server refused."""
    engine = sa.create_engine(databases.urls["notify"])
    envelope = registration_envelope(email="ana1@example.org", lang="fr", key="k1")
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO delivery (idempotency_key, message_type, recipient, template, language, status, attempts, last_error,"
            " envelope, created_at) VALUES ('k1', 'registration.confirmed', 'ana1@example.org', 'notify/fr/registration.confirmed',"
            " 'fr', 'failed', 5, '550 mailbox unavailable', :envelope, CURRENT_TIMESTAMP)"
        ), {"envelope": json.dumps(envelope)})
    engine.dispose()


def test_an_admin_sees_a_failed_email_with_its_error_and_resends_it(services, databases, staff_account):
    failed_delivery(databases)
    url = services.registration.url
    events = logged_in(url, staff_account("events"))
    assert events.get(f"{url}/staff/emails", timeout=10, allow_redirects=False).status_code == 403

    admin = logged_in(url, staff_account("admin"))
    page = admin.get(f"{url}/staff/emails", timeout=10)
    assert page.ok and "ana1@example.org" in page.text and "550 mailbox unavailable" in page.text
    assert f'<span lang="fr">{SUBJECT}</span>' in page.text, "the subject the person read, not the message type"
    response = admin.post(f"{url}/staff/emails/1/resend", data={"csrf_token": csrf(page.text), "status": "failed"}, timeout=10)
    assert response.ok and "The email to ana1@example.org is queued again." in response.text
    assert "No emails with this status." in response.text
    # a second resend is refused by the notify service and says why
    response = admin.post(f"{url}/staff/emails/1/resend", data={"csrf_token": csrf(response.text)}, timeout=10)
    assert "Only a failed delivery can be resent. status: Current status: queued." in response.text
