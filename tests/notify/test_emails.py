"""Emails composed from message envelopes, delivered to a real SMTP server (aiosmtpd)."""

import copy
import email
import shutil
import socket
import ssl
import subprocess
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from icalendar import Calendar


from services.notify import emails
from services.notify.emails import CALENDAR_TYPES, EVENT_TYPES, ORDER_TYPES, InvalidMessage, compose
from services.notify.smtp import PermanentDeliveryError, SmtpSettings, TemporaryDeliveryError, deliver
from shared.i18n import LANGUAGES, translate

MAIL_FROM = "EU-POLNET <noreply@efus.eu>"
JOIN_URL = "https://meet.example.org/j/123?pwd=s3cret"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n\x00\xff"


def registration_envelope(kind: str, lang: str = "en", *, key: str | None = None, **data: Any) -> dict:
    """A web conference registration message; keyword arguments replace parts of ``data``."""
    envelope = {
        "type": kind,
        "version": 1,
        "key": key or f"{kind}:5b1f0c1e",
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "data": {
            "registration_id": "5b1f0c1e-8d3a-4a51-9f6e-2f4c9a7e1d20",
            "status": "confirmed",
            "person": {"first_name": "Ana", "last_name": "Lopez", "email": "ana@madrid.es", "language": lang},
            "event": {
                "slug": "trust-2027",
                "kind": "webconference",
                "title": {"en": "Police & citizens: <trust>", "fr": "Police et citoyens : <confiance>"},
                "starts_at": "2027-03-10T09:00:00+01:00",
                "ends_at": "2027-03-10T11:00:00+01:00",
                "timezone": "Europe/Paris",
                "venue": None,
                "online": True,
                "join_url": JOIN_URL,
            },
            "manage_url": "https://events.efus.eu/manage/tok123",
            "verify_url": "https://events.efus.eu/verify/tok456",
            "waitlist_position": None,
            "subject": "Change of speaker",
            "body": "The programme has changed.\nSee the new agenda.\n\nBest wishes",
        },
    }
    envelope["data"].update(copy.deepcopy(data))
    return envelope


def academy_envelope(kind: str, lang: str) -> dict:
    """A three-day police academy in Lisbon: in person, no join link, Lisbon time."""
    envelope = registration_envelope(kind, lang)
    envelope["data"]["event"] = {
        "slug": "academy-2027",
        "kind": "academy",
        "title": {"en": "Police academy 2027", "fr": "Académie de police 2027"},
        "starts_at": "2027-03-10T09:00:00+01:00",
        "ends_at": "2027-03-12T17:00:00+01:00",
        "timezone": "Europe/Lisbon",
        "venue": "Hôtel de Ville, Lisbon",
        "online": False,
        "join_url": None,
    }
    return envelope


def order_envelope(kind: str, lang: str = "en", **data: Any) -> dict:
    envelope = {
        "type": kind,
        "version": 1,
        "key": f"{kind}:12",
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "data": {
            "order": {
                "id": 12, "number": "O-2026-00012", "status": "invoiced", "member": True,
                "organisation": "Ville de Lyon", "currency": "EUR", "total_cents": 1600,
                "lines": [{
                    "publication": "police-population-relations",
                    "title": {"en": "Police-Population Relations", "fr": "Relations police-population"},
                    "copies": 5, "free_copies": 3, "paid_copies": 2, "postage_cents": 1600,
                }],
            },
            "person": {"first_name": "Luc", "last_name": "Martin", "email": "luc@lyon.fr", "language": lang},
            "document": {"kind": "invoice", "number": "2026-00001", "total_cents": 1600, "refers_to": None},
        },
    }
    envelope["data"].update(copy.deepcopy(data))
    return envelope


def envelope_for(kind: str, lang: str) -> dict:
    if kind in ORDER_TYPES:
        document = {"kind": "credit_note", "number": "2026-00002", "total_cents": -1600, "refers_to": "2026-00001"}
        return order_envelope(kind, lang, **({"document": document} if kind == "credit_note.issued" else {}))
    if kind == "certificate.issued":
        return registration_envelope(kind, lang, status="attended", certificate_number="2027-0A1B2C3D")
    if kind == "group.registered":
        return registration_envelope(kind, lang, group_id="9c2d", participants=GROUP)
    return registration_envelope(kind, lang)


#: the participants a contact registered (group.registered)
GROUP = [{"first_name": "Luis", "last_name": "Gómez", "status": "confirmed"},
         {"first_name": "Marta", "last_name": "Ruiz", "status": "waitlisted"},
         {"first_name": "Pau", "last_name": "Vidal", "status": "pending_approval"}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps what it accepts, or answers with the reply set for a stage."""

    settings: SmtpSettings  # how to reach it, set once it listens

    def __init__(self) -> None:
        self.envelopes: list = []
        self.rcpt_replies: dict[str, str] = {}  # recipient -> reply instead of 250
        self.data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def last(self) -> EmailMessage:
        return email.message_from_bytes(self.envelopes[-1].content, policy=policy.default)


def authenticate(server, session, envelope, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mailer", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@pytest.fixture
def mailbox():
    handler = Mailbox()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    handler.settings = SmtpSettings(host="127.0.0.1", port=controller.port, timeout=5)
    yield handler
    controller.stop()


def body(message: EmailMessage, subtype: str) -> str:
    return message.get_body((subtype,)).get_content().replace("\r\n", "\n")  # CRLF after SMTP


def attachments(message: EmailMessage) -> dict[str, EmailMessage]:
    return {part.get_filename(): part for part in message.iter_attachments()}


def calendar(message: EmailMessage) -> Calendar:
    return Calendar.from_ical(attachments(message)["event.ics"].get_content())


def everything(message: EmailMessage) -> str:
    """Headers and every decoded part, to check that something appears nowhere."""
    decoded = [str(part.get_content()) for part in message.walk() if not part.is_multipart()]
    return "\n".join([str(message.items()), *decoded])


# --- composing and delivering ---------------------------------------------------------

def test_confirmed_web_conference_in_english_arrives_complete(mailbox):
    sent = compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM)
    deliver(sent, mailbox.settings)

    assert mailbox.envelopes[0].mail_from == "noreply@efus.eu"
    assert mailbox.envelopes[0].rcpt_tos == ["ana@madrid.es"]
    received = mailbox.last()
    assert received["From"] == "EU-POLNET <noreply@efus.eu>"
    assert received["To"] == "Ana Lopez <ana@madrid.es>"
    assert received["Subject"] == "Registration confirmed – Police & citizens: <trust>"
    assert received["Message-ID"] == sent["Message-ID"]
    assert received["Message-ID"].endswith("@efus.eu>")
    assert abs(parsedate_to_datetime(received["Date"]) - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Content-Language"] == "en"

    text, html = body(received, "plain"), body(received, "html")
    assert text.startswith("Dear Ana Lopez,\n")
    assert "Wednesday, 10 March 2027, 09:00–11:00 (Central European Time)" in text
    assert f"Join the web conference: {JOIN_URL}" in text
    assert "https://events.efus.eu/manage/tok123" in text
    assert '<html lang="en">' in html
    assert "Police &amp; citizens: &lt;trust&gt;" in html  # autoescaped
    assert 'href="https://meet.example.org/j/123?pwd=s3cret"' in html

    ics = attachments(received)["event.ics"]
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "PUBLISH"
    cal = calendar(received)
    assert cal["METHOD"] == "PUBLISH"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    (event,) = cal.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event["DTSTART"].dt == datetime(2027, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert event["DTEND"].dt == datetime(2027, 3, 10, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert str(event["UID"]) == "registration-5b1f0c1e-8d3a-4a51-9f6e-2f4c9a7e1d20@efus.eu"
    assert str(event["SUMMARY"]) == "Police & citizens: <trust>"
    assert str(event["URL"]) == JOIN_URL
    assert str(event["LOCATION"]) == JOIN_URL
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:noreply@efus.eu"


def test_academy_in_french_shows_dates_in_the_event_time_zone(mailbox):
    deliver(compose(academy_envelope("registration.confirmed", "fr"), mail_from=MAIL_FROM), mailbox.settings)

    received = mailbox.last()
    assert received["Subject"] == "Inscription confirmée – Académie de police 2027"
    assert received["Content-Language"] == "fr"
    text, html = body(received, "plain"), body(received, "html")
    assert text.startswith("Bonjour Ana Lopez,\n")
    # 09:00+01:00 is 08:00 in Lisbon (WET).
    assert "mercredi 10 mars 2027, 08:00 – vendredi 12 mars 2027, 16:00" in text
    assert "Où\u00a0: Hôtel de Ville, Lisbon" in text
    assert '<html lang="fr">' in html
    assert "Votre inscription est confirmée" in html

    (event,) = calendar(received).walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Lisbon"
    assert event["DTSTART"].dt == datetime(2027, 3, 10, 8, 0, tzinfo=ZoneInfo("Europe/Lisbon"))
    assert str(event["LOCATION"]) == "Hôtel de Ville, Lisbon"
    assert "URL" not in event
    assert "DTSTART;TZID=Europe/Lisbon:20270310T080000" in attachments(received)["event.ics"].get_content()


def test_join_link_appears_nowhere_when_not_given(mailbox):
    event = registration_envelope("registration.waitlisted")["data"]["event"] | {"join_url": None}
    envelope = registration_envelope("registration.waitlisted", status="waitlisted", waitlist_position=4, event=event)
    deliver(compose(envelope, mail_from=MAIL_FROM), mailbox.settings)

    received = mailbox.last()
    assert "meet.example.org" not in everything(received)
    assert "Your position on the waiting list: 4." in body(received, "plain")
    assert "The link to join is sent to confirmed participants." in body(received, "plain")
    (vevent,) = calendar(received).walk("VEVENT")
    assert "URL" not in vevent and "LOCATION" not in vevent
    assert str(vevent["STATUS"]) == "TENTATIVE"


#: per language: the event's title and description, the subject, words of the body
SIX = {
    "en": ("Community policing", "Two days in Lisbon.", "Registration confirmed – Community policing",
           "We are pleased to confirm your registration for Community policing.", "Wednesday, 10 March 2027"),
    "fr": ("Police de proximité", "Deux jours à Lisbonne.", "Inscription confirmée – Police de proximité",
           "Nous avons le plaisir de confirmer votre inscription à «\u00a0Police de proximité\u00a0».", "mercredi 10 mars 2027"),
    "es": ("Policía de proximidad", "Dos días en Lisboa.", "Inscripción confirmada – Policía de proximidad",
           "Nos complace confirmar su inscripción en «Policía de proximidad».", "miércoles, 10 de marzo de 2027"),
    "it": ("Polizia di prossimità", "Due giorni a Lisbona.", "Iscrizione confermata – Polizia di prossimità",
           "Siamo lieti di confermare la Sua iscrizione a «Polizia di prossimità».", "mercoledì 10 marzo 2027"),
    "de": ("Bürgernahe Polizeiarbeit", "Zwei Tage in Lissabon.", "Anmeldung bestätigt – Bürgernahe Polizeiarbeit",
           "Gerne bestätigen wir Ihre Anmeldung zu „Bürgernahe Polizeiarbeit“.", "Mittwoch, 10. März 2027"),
    "pt": ("Policiamento de proximidade", "Dois dias em Lisboa.", "Inscrição confirmada – Policiamento de proximidade",
           "Temos o prazer de confirmar a sua inscrição em «Policiamento de proximidade».", "quarta-feira, 10 de março de 2027"),
}


@pytest.mark.parametrize("lang", list(SIX))
def test_the_confirmation_reaches_the_server_in_the_registrants_language(mailbox, lang):
    title, description, subject, sentence, date = SIX[lang]
    event = registration_envelope("registration.confirmed")["data"]["event"] | {
        "title": {code: texts[0] for code, texts in SIX.items()},
        "description": {code: texts[1] for code, texts in SIX.items()}}
    deliver(compose(registration_envelope("registration.confirmed", lang, event=event), mail_from=MAIL_FROM), mailbox.settings)

    received = mailbox.last()
    assert received["Subject"] == subject and received["Content-Language"] == lang
    text, html = body(received, "plain"), body(received, "html")
    assert sentence in text and description in text and date in text
    assert f'<html lang="{lang}">' in html and description in html
    assert str(calendar(received).walk("VEVENT")[0]["SUMMARY"]) == title
    # nothing of the other languages, and no English sentence outside English
    assert all(texts[0] not in text for code, texts in SIX.items() if code != lang)
    assert lang == "en" or "This email was sent automatically." not in text


def test_cancellation_cancels_the_calendar_entry_it_replaces():
    confirmed = compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM)
    envelope = registration_envelope("registration.cancelled", status="cancelled")
    envelope["occurred_at"] = "2026-12-01T08:00:00+00:00"
    cancelled = compose(envelope, mail_from=MAIL_FROM)

    assert attachments(cancelled)["event.ics"].get_param("method") == "CANCEL"
    cal = calendar(cancelled)
    assert cal["METHOD"] == "CANCEL"
    (before,), (after,) = calendar(confirmed).walk("VEVENT"), cal.walk("VEVENT")
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert str(after["STATUS"]) == "CANCELLED"


def test_each_calendar_update_has_a_higher_sequence_and_its_own_stamp_even_within_one_second():
    """waitlisted -> confirmed -> cancelled, all in one second: each version supersedes the
    one before (SEQUENCE grows with the registration's revision), each stamped when it happened."""
    versions = []
    for revision, (kind, status) in enumerate(
            (("registration.waitlisted", "waitlisted"), ("registration.promoted", "confirmed"),
             ("registration.cancelled", "cancelled")), start=1):
        envelope = registration_envelope(kind, key=f"{kind}:{revision}", status=status, revision=revision)
        envelope["occurred_at"] = f"2026-11-23T10:00:00.{revision * 100_000:06d}+00:00"
        (vevent,) = calendar(compose(envelope, mail_from=MAIL_FROM)).walk("VEVENT")
        versions.append(vevent)
    sequences = [int(vevent["SEQUENCE"]) for vevent in versions]
    assert sequences == sorted(set(sequences)), sequences
    assert all(vevent.decoded("DTSTAMP") == datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc) for vevent in versions)
    later = registration_envelope("registration.confirmed", status="confirmed", revision=2)
    later["occurred_at"] = "2026-11-23T10:00:07+00:00"
    (vevent,) = calendar(compose(later, mail_from=MAIL_FROM)).walk("VEVENT")
    assert vevent.decoded("DTSTAMP") == datetime(2026, 11, 23, 10, 0, 7, tzinfo=timezone.utc), "stamped afresh"


def test_the_cancelled_calendar_entry_does_not_invite_to_correct_or_cancel():
    confirmed = calendar(compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM))
    cancelled = calendar(compose(registration_envelope("registration.cancelled", status="cancelled"), mail_from=MAIL_FROM))
    assert "View, correct or cancel" in str(confirmed.walk("VEVENT")[0]["DESCRIPTION"])
    description = str(cancelled.walk("VEVENT")[0]["DESCRIPTION"])
    assert "correct or cancel" not in description and "tok123" not in description
    assert "Police & citizens" in description


def test_invoice_in_french_carries_the_pdf_unchanged(mailbox):
    sent = compose(
        order_envelope("invoice.issued", "fr"), mail_from=MAIL_FROM,
        attachments=[("facture-2026-00001.pdf", "application/pdf", PDF)],
    )
    deliver(sent, mailbox.settings)

    received = mailbox.last()
    assert received["To"] == "Luc Martin <luc@lyon.fr>"
    assert received["Subject"] == "Facture 2026-00001 pour votre commande O-2026-00012"
    text = body(received, "plain")
    assert "Montant à régler\u00a0: 16,00\xa0€" in text
    assert "Relations police-population\u00a0: 5 exemplaires (3 gratuits)" in text
    assert "<th scope=\"col\"" in body(received, "html")
    files = attachments(received)
    assert list(files) == ["facture-2026-00001.pdf"]  # no calendar for an order
    assert files["facture-2026-00001.pdf"].get_content_type() == "application/pdf"
    assert files["facture-2026-00001.pdf"].get_content() == PDF


def test_credit_note_shows_the_credited_amount_and_the_invoice_it_cancels():
    document = {"kind": "credit_note", "number": "2026-00002", "total_cents": -1600, "refers_to": "2026-00001"}
    text = body(compose(order_envelope("credit_note.issued", document=document), mail_from=MAIL_FROM), "plain")
    assert "credit note 2026-00002. It cancels invoice 2026-00001. Amount credited: €16.00." in text


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(EVENT_TYPES | ORDER_TYPES))
def test_every_type_is_complete_in_each_language(kind, lang):
    envelope = envelope_for(kind, lang)
    message = compose(envelope, mail_from=MAIL_FROM)

    assert message["Content-Language"] == lang
    assert message["Subject"].strip()
    text, html = body(message, "plain"), body(message, "html")
    person = envelope["data"]["person"]
    greeting = translate(lang, "Dear %(name)s,", name=f"{person['first_name']} {person['last_name']}")
    assert text.startswith(greeting + "\n") and greeting in html
    assert f'<html lang="{lang}">' in html
    for rendered in (text, html, message["Subject"]):
        assert "None" not in rendered and "{{" not in rendered and "{%" not in rendered and "%(" not in rendered
    assert ("event.ics" in attachments(message)) == (kind in CALENDAR_TYPES)


def test_one_template_per_message_whatever_the_language():
    root = Path(emails.__file__).with_name("templates") / "notify"
    assert not [path for path in root.iterdir() if path.is_dir()], "no folder per language"
    subjects = {path.name.removesuffix(".subject.txt") for path in root.glob("*.subject.txt")}
    assert subjects == EVENT_TYPES | ORDER_TYPES
    for kind in subjects:
        assert (root / f"{kind}.txt").exists() and (root / f"{kind}.html").exists()


# --- languages -------------------------------------------------------------------------

@pytest.mark.parametrize(("requested", "used"), [
    ("fr", "fr"), ("FR-be", "fr"), ("fr_CA", "fr"), ("it", "it"), ("pt-BR", "pt"), ("de", "de"), ("nl", "en"),
    (None, "en"), ("", "en"), ("../fr", "en"), ("fr/../../etc", "en"),
])
def test_language_falls_back_to_english(requested, used):
    message = compose(registration_envelope("registration.confirmed", requested), mail_from=MAIL_FROM)
    assert message["Content-Language"] == used


def test_staff_message_is_escaped_and_keeps_its_paragraphs():
    envelope = registration_envelope("event.message", body="<script>alert(1)</script>\r\nline two\r\n\r\nSecond & last")
    message = compose(envelope, mail_from=MAIL_FROM)
    html = body(message, "html")
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;<br>\nline two</p>\n<p>Second &amp; last</p>" in html
    assert "<script>alert(1)</script>\nline two\n\nSecond & last" in body(message, "plain")


def test_message_id_is_stable_per_envelope_key():
    first = compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM)
    again = compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM)
    other = compose(registration_envelope("registration.confirmed", key="another-key"), mail_from=MAIL_FROM)
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]


# --- delivery failures -----------------------------------------------------------------

@pytest.mark.parametrize(("stage", "reply", "error", "code"), [
    ("RCPT", "451 4.3.0 Mailbox temporarily unavailable", TemporaryDeliveryError, 451),
    ("RCPT", "550 5.1.1 No such user", PermanentDeliveryError, 550),
    ("DATA", "451 4.7.1 Greylisted, try again later", TemporaryDeliveryError, 451),
    ("DATA", "554 5.6.0 Message rejected", PermanentDeliveryError, 554),
])
def test_server_replies_decide_whether_to_retry(mailbox, stage, reply, error, code):
    if stage == "RCPT":
        mailbox.rcpt_replies["ana@madrid.es"] = reply
    else:
        mailbox.data_reply = reply
    with pytest.raises(error) as raised:
        deliver(compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM), mailbox.settings)
    assert raised.value.code == code
    assert mailbox.envelopes == []


def test_partly_refused_message_is_not_retried(mailbox):
    message = compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM)
    message.replace_header("To", "ana@madrid.es, bob@madrid.es")
    mailbox.rcpt_replies["bob@madrid.es"] = "450 4.2.1 Try later"
    with pytest.raises(PermanentDeliveryError, match="bob@madrid.es"):
        deliver(message, mailbox.settings)
    assert mailbox.envelopes[0].rcpt_tos == ["ana@madrid.es"]


def test_closed_port_is_temporary():
    with pytest.raises(TemporaryDeliveryError):
        deliver(compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM),
                SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2))


def test_silent_server_times_out_as_temporary():
    with socket.socket() as silent:  # accepts connections, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings = SmtpSettings(host="127.0.0.1", port=silent.getsockname()[1], timeout=0.3)
        with pytest.raises(TemporaryDeliveryError):
            deliver(compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM), settings)


def test_login_with_the_configured_credentials(mailbox):
    message = compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM)
    deliver(message, SmtpSettings(host="127.0.0.1", port=mailbox.settings.port, user="mailer", password="s3cret"))
    assert len(mailbox.envelopes) == 1

    with pytest.raises(PermanentDeliveryError) as raised:
        deliver(message, SmtpSettings(host="127.0.0.1", port=mailbox.settings.port, user="mailer", password="wrong"))
    assert raised.value.code == 535


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_tls_modes_encrypt_and_verify_the_server(certificate, monkeypatch, tls):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    # STARTTLS: the server refuses mail before the upgrade; ssl: it speaks TLS from the start.
    options = {"tls_context": server_context, "require_starttls": True} if tls == "starttls" else {
        "ssl_context": server_context}
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        settings = SmtpSettings(host="127.0.0.1", port=controller.port, tls=tls, timeout=5)
        message = compose(registration_envelope("registration.confirmed"), mail_from=MAIL_FROM)
        with pytest.raises(TemporaryDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            deliver(message, settings)  # a certificate nobody vouches for
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now trusted, as a real CA-signed one would be
        deliver(message, settings)
    finally:
        controller.stop()
    assert len(handler.envelopes) == 1


def test_unknown_tls_mode_fails_loudly():
    with pytest.raises(ValueError, match="TLS mode"):
        SmtpSettings(tls="yes")


def test_a_confirmed_academy_registrant_gets_the_tickets_qr_code_in_the_email(mailbox):
    envelope = academy_envelope("registration.confirmed", "pt")
    envelope["data"]["ticket"] = "5b1f0c1e8d3a4a519f6e2f4c9a7e1d20.signature"
    deliver(compose(envelope, mail_from=MAIL_FROM), mailbox.settings)

    received = mailbox.last()
    text, html = body(received, "plain"), body(received, "html")
    assert "O seu bilhete: apresente o código QR à entrada." in text
    assert 'alt="Código QR do seu bilhete"' in html
    cid = html.split('src="cid:', 1)[1].split('"', 1)[0]
    [image] = [part for part in received.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{cid}>" and image.get_content_disposition() == "inline"
    assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert "ticket.png" not in attachments(received), "shown in the HTML, not one more attachment"
    description = str(calendar(received).walk("VEVENT")[0]["DESCRIPTION"])
    assert "bilhete" not in description, "the calendar entry has no ticket"

    # a web conference has no door, so no ticket
    deliver(compose(registration_envelope("registration.confirmed", "pt"), mail_from=MAIL_FROM), mailbox.settings)
    assert not [part for part in mailbox.last().walk() if part.get_content_type() == "image/png"]
