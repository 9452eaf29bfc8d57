"""The emails of a moderated event, as a real SMTP server receives them: awaiting approval,
accepted (with a seat or on the waiting list) and rejected, with the organisers' message."""
from __future__ import annotations

from services.notify.emails import compose
from services.notify.smtp import deliver
from tests.notify.test_emails import MAIL_FROM, academy_envelope, attachments, body, calendar, mailbox  # noqa: F401 (fixture)


def decision(kind: str, lang: str, **data) -> dict:
    envelope = academy_envelope(kind, lang)
    envelope["data"].update(data)
    return envelope


def test_an_approval_with_a_message_arrives_in_german(mailbox):
    envelope = decision("registration.approved", "de", status="confirmed", reason="Willkommen!\n\nBitte bringen Sie Ihren Dienstausweis mit.")
    deliver(compose(envelope, mail_from=MAIL_FROM), mailbox.settings)
    received = mailbox.last()
    assert received["Subject"].startswith("Ihre Anmeldung ist angenommen und bestätigt – ")
    text, html = body(received, "plain"), body(received, "html")
    assert "Ihr Platz ist bestätigt." in text and "Nachricht der Veranstalter:" in text
    assert "Bitte bringen Sie Ihren Dienstausweis mit." in text
    assert "<p>Willkommen!</p>" in html and "<p>Bitte bringen Sie Ihren Dienstausweis mit.</p>" in html
    assert calendar(received)["METHOD"] == "PUBLISH"


def test_an_approval_onto_the_waiting_list_says_so(mailbox):
    envelope = decision("registration.approved", "es", status="waitlisted", ticket=None)
    text = body(compose(envelope, mail_from=MAIL_FROM), "plain")
    assert "está en la lista de espera" in text and "Mensaje de los organizadores" not in text


def test_a_rejection_removes_the_event_from_the_calendar(mailbox):
    envelope = decision("registration.rejected", "fr", status="rejected", ticket=None, reason="Places réservées aux formateurs.")
    deliver(compose(envelope, mail_from=MAIL_FROM), mailbox.settings)
    received = mailbox.last()
    assert received["Subject"].startswith("Votre inscription n’a pas pu être acceptée – ")
    text = body(received, "plain")
    assert "Places réservées aux formateurs." in text
    assert "Voir, corriger ou annuler" not in text and "manage/" not in text
    assert attachments(received)["event.ics"].get_param("method") == "CANCEL"
    assert str(calendar(received).walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_awaiting_approval_in_italian(mailbox):
    text = body(compose(decision("registration.pending_approval", "it", status="pending_approval", ticket=None),
                        mail_from=MAIL_FROM), "plain")
    assert "I posti di questo evento sono assegnati dagli organizzatori" in text


def test_the_contact_of_a_group_gets_its_summary_and_link(mailbox):
    from tests.notify.test_emails import envelope_for

    envelope = envelope_for("group.registered", "pt")
    envelope["data"]["manage_url"] = "https://events.efus.eu/groups/tok789"
    deliver(compose(envelope, mail_from=MAIL_FROM), mailbox.settings)
    received = mailbox.last()
    assert received["Subject"].startswith("O seu grupo está inscrito – ")
    text = body(received, "plain")
    assert "- Luis Gómez: lugar confirmado" in text and "- Marta Ruiz: na lista de espera" in text
    assert "https://events.efus.eu/groups/tok789" in text
    assert "event.ics" not in attachments(received)  # the contact may not take part
