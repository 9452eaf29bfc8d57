"""Compose the email for a message envelope: subject, plain text, HTML and attachments.

Templates live in ``templates/notify/``: for each message type one ``.subject.txt``, one
``.txt`` and one ``.html``, plus the ``_layout``, ``_event`` and ``_order`` partials, written
in English with ``{% trans %}``; they are rendered in the recipient's language from the
catalogue (shared/i18n.py), English for a language we do not speak, so an email never mixes
two languages. The event's title and description are taken in that language, else in
English; dates, times and amounts come from Babel, in the event's time zone.
"""

import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from icalendar import Calendar, Event, vCalAddress
from jinja2 import FileSystemLoader
from markupsafe import Markup

from shared.i18n import JinjaLanguages, format_money, format_span, language_or_default, pick, timezone_name

EVENT_TYPES = frozenset({
    "registration.pending", "registration.confirmed", "registration.waitlisted",
    "registration.promoted", "registration.cancelled", "registration.updated",
    "registration.pending_approval", "registration.approved", "registration.rejected",
    "event.reminder", "event.message", "certificate.issued", "group.registered",
})
#: event emails whose calendar entry takes the event out of the person's calendar
CANCELLING_TYPES = frozenset({"registration.cancelled", "registration.rejected"})
#: event emails that carry the event's calendar entry (a certificate comes after the event;
#: a group's contact may not take part)
CALENDAR_TYPES = EVENT_TYPES - {"certificate.issued", "group.registered"}
ORDER_TYPES = frozenset({"order.received", "invoice.issued", "order.shipped", "credit_note.issued"})

# Data an email cannot do without, beyond what every type of its family needs.
_REQUIRED_DATA = {
    "registration.pending": ("verify_url",),
    "event.message": ("subject", "body"),
    "certificate.issued": ("certificate_number",),
    "invoice.issued": ("document",),
    "credit_note.issued": ("document",),
}
# SEQUENCE must grow with each new version of a calendar entry for clients to apply it: it is
# the seconds from this instant to the envelope's occurred_at plus the registration's revision,
# so it grows with time (as it did before the revision was added: entries already in calendars
# still take updates) and with each change, even two within one second. Fits in 31 bits until 2088.
_SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


class InvalidMessage(ValueError):
    """The envelope cannot become an email (unknown type, missing data, unusable address).

    Retrying will not help: treat it as a permanent failure.
    """


def _paragraphs(text: str) -> Markup:
    """Staff's plain text as HTML: escaped, blank lines separate paragraphs, breaks kept."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(block.split("\n"))) for block in blocks
    )


#: the templates in each language: TEMPLATES(lang).get_template(...)
#: compiled once per worker process, never checked for changes on disk (a deploy restarts the workers)
TEMPLATES = JinjaLanguages(
    FileSystemLoader(Path(__file__).with_name("templates")), trim_blocks=True, lstrip_blocks=True, auto_reload=False,
)
TEMPLATES.filters["paragraphs"] = _paragraphs


def compose(
    envelope: Mapping[str, Any],
    *,
    mail_from: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """Build the email for one message envelope, ready for ``smtp.deliver``.

    ``mail_from`` is the From header (``"EU-POLNET <noreply@efus.eu>"``); its domain also
    names the Message-ID and the calendar UID. ``attachments`` are ``(filename, MIME type,
    content)`` triples, e.g. the invoice PDF. The Message-ID derives from the envelope key,
    so composing a redelivered message again gives the same Message-ID.

    Raises InvalidMessage when the envelope cannot produce an email.
    """
    kind = envelope.get("type")
    if kind not in EVENT_TYPES | ORDER_TYPES:
        raise InvalidMessage(f"unknown message type {kind!r}")
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = mail_from
    sender = message["From"].addresses[0]
    try:
        data = envelope["data"]
        for name in _REQUIRED_DATA.get(kind, ()):
            if not data.get(name):
                raise ValueError(f"data.{name} is required for {kind}")
        recipient = _recipient(data["person"])
        lang = language_or_default(data["person"].get("language"))
        context = _context(kind, data, lang)
        occurred_at = _aware(envelope["occurred_at"])
        revision = int(data.get("revision") or 0)
        message_id = _message_id(str(envelope["key"]), sender.domain)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidMessage(f"{kind}: {exc}") from exc

    templates = TEMPLATES(lang)
    subject = _subject(kind, context)
    context["subject"] = subject
    text = templates.get_template(f"notify/{kind}.txt").render(context)
    html = templates.get_template(f"notify/{kind}.html").render(context)

    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = message_id
    # RFC 3834: no vacation replies or loops; the second header is Exchange's equivalent.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(_tidy(text))
    message.add_alternative(html, subtype="html")
    if context.get("ticket_cid"):
        message.get_payload()[1].add_related(
            _qr_png(data["ticket"]), maintype="image", subtype="png", cid=f"<{context['ticket_cid']}>",
            filename="ticket.png", disposition="inline",
        )
    if kind in CALENDAR_TYPES:
        # the calendar entry has no ticket: the QR code is in the email and on the registration page
        # nor, once cancelled, the invitation to view, correct or cancel the registration
        links = {"ticket_cid": None, **({"manage_url": None} if kind == "registration.cancelled" else {})}
        description = _tidy(templates.get_template("notify/_event.txt").render({**context, **links}))
        ics, method = _calendar(kind, context, description, occurred_at, revision, sender)
        message.add_attachment(
            ics, maintype="text", subtype="calendar", filename="event.ics",
            params={"method": method, "charset": "utf-8"},
        )
    for filename, mime_type, content in attachments:
        maintype, _, subtype = mime_type.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=_one_line(filename))
    message["Content-Language"] = lang  # last: building the MIME tree moves Content-* headers into parts
    return message


def subject(envelope: Mapping[str, Any]) -> str | None:
    """The subject of the email `compose` makes of `envelope`, in the recipient's language
    (what the staff's delivery log shows); None when the envelope cannot become an email or
    was erased."""
    kind = envelope.get("type")
    if kind not in EVENT_TYPES | ORDER_TYPES:
        return None
    try:
        data = envelope["data"]
        context = _context(kind, data, language_or_default(data["person"].get("language")))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return _subject(kind, context)


def _subject(kind: str, context: dict[str, Any]) -> str:
    return _one_line(TEMPLATES(context["lang"]).get_template(f"notify/{kind}.subject.txt").render(context))


def _one_line(text: str) -> str:
    """Collapse control characters (CR, LF...) and runs of white space into single spaces.

    Names and subjects come from registrants and staff: whatever they contain must stay
    inside its header and never start a new one.
    """
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())


def _tidy(text: str) -> str:
    """At most one blank line in a row, whatever the templates' conditionals left behind."""
    return re.sub(r"\n[ \t]*(\n[ \t]*)+\n", "\n\n", text).strip() + "\n"


def _recipient(person: Mapping[str, Any]) -> Address:
    name = _one_line(" ".join(filter(None, (person.get("first_name"), person.get("last_name")))))
    try:
        address = Address(addr_spec=str(person["email"]).strip())
    except (IndexError, HeaderParseError) as exc:  # the parser's other ways of saying "invalid"
        raise ValueError(f"invalid email address {person['email']!r}") from exc
    if not address.domain:
        raise ValueError(f"invalid email address {person['email']!r}")
    return Address(display_name=name, username=address.username, domain=address.domain)


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment


def _message_id(key: str, domain: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _context(kind: str, data: Mapping[str, Any], lang: str) -> dict[str, Any]:
    person = data["person"]
    context: dict[str, Any] = {
        "lang": lang,
        "person": {"first_name": _one_line(person.get("first_name") or ""),
                   "last_name": _one_line(person.get("last_name") or "")},
    }
    if kind in EVENT_TYPES:
        context.update(_event_context(data, lang))
        if kind == "event.message":
            context["message"] = {"subject": _one_line(data["subject"]),
                                  "body": data["body"].replace("\r\n", "\n")}
        if kind == "certificate.issued":
            context["certificate_number"] = _one_line(data["certificate_number"])
        if kind == "group.registered":
            context["participants"] = [{"name": _one_line(f"{p['first_name']} {p['last_name']}"), "status": p["status"]}
                                       for p in data["participants"]]
        if kind in ("registration.approved", "registration.rejected"):
            context["reason"] = (data.get("reason") or "").replace("\r\n", "\n").strip()
    else:
        context.update(_order_context(data, lang))
    return context


def _event_context(data: Mapping[str, Any], lang: str) -> dict[str, Any]:
    event = data["event"]
    zone = ZoneInfo(event["timezone"])
    starts = _aware(event["starts_at"]).astimezone(zone)
    ends = _aware(event["ends_at"]).astimezone(zone)
    return {
        "event": {
            "kind": event["kind"],
            "title": pick(event["title"], lang),
            "description": pick(event.get("description"), lang),
            "starts_at": starts,
            "ends_at": ends,
            "when": format_span(starts, ends, lang, event["timezone"]),
            "timezone_name": timezone_name(event["timezone"], lang),
            "venue": event.get("venue"),
            "online": bool(event.get("online")),
            "join_url": event.get("join_url"),
        },
        "registration_id": str(data.get("registration_id") or data.get("group_id")),
        "status": data.get("status"),
        "manage_url": data.get("manage_url"),
        "verify_url": data.get("verify_url"),
        "waitlist_position": data.get("waitlist_position"),
        # the ticket's QR code, an image of the HTML part (cid:...)
        "ticket_cid": f"ticket.{data['registration_id']}@eupolnet" if data.get("ticket") else None,
    }


def _qr_png(code: str) -> bytes:
    """The ticket's QR code as a PNG (mail programs show no SVG); about 230 pixels wide."""
    image = io.BytesIO()
    segno.make(code, error="m").save(image, kind="png", scale=5, border=4)
    return image.getvalue()


def _order_context(data: Mapping[str, Any], lang: str) -> dict[str, Any]:
    order = data["order"]
    currency = order.get("currency", "EUR")

    def money(cents: int) -> str:
        return format_money(cents, currency, lang)

    document = data.get("document")
    return {
        "order": {
            "number": order["number"],
            "organisation": order.get("organisation"),
            "lines": [{
                "title": pick(line["title"], lang),
                "copies": line["copies"],
                "free_copies": line.get("free_copies", 0),
                "postage": money(line.get("postage_cents", 0)),
            } for line in order["lines"]],
            "total": money(order["total_cents"]),
            "free": order["total_cents"] == 0,
        },
        # A credit note's amount may be stored negative; the wording already says "credited".
        "document": {
            "number": document["number"],
            "total": money(abs(document["total_cents"])),
            "refers_to": document.get("refers_to"),
        } if document else None,
    }


def _calendar(
    kind: str, context: Mapping[str, Any], description: str, occurred_at: datetime, revision: int,
    organiser: Address,
) -> tuple[bytes, str]:
    """The ``event.ics`` attachment and its iTIP method.

    PUBLISH, not REQUEST: the registration already is the answer, and REQUEST would make
    calendar clients offer Accept/Decline replies addressed to our no-reply sender. A
    cancellation sends CANCEL with the same UID, so clients that added the event remove it.

    What is the same for every registrant of an event revision (its dates, place, title, the
    organiser, the time zone's rules) is built once (`_calendar_frame`); each email adds its
    own lines: the registration's UID, the version (SEQUENCE, from `occurred_at` and the
    registration's `revision`, and DTSTAMP, the moment of this change), the description (with
    the registrant's links) and the status.
    """
    method = "CANCEL" if kind in CANCELLING_TYPES else "PUBLISH"
    event = context["event"]
    head, tail = _calendar_frame(
        method, str(event["starts_at"].tzinfo), event["starts_at"], event["ends_at"], event["title"],
        event["venue"], event["join_url"], organiser.addr_spec, organiser.display_name,
    )
    own = Event()
    own.add("uid", f"registration-{context['registration_id']}@{organiser.domain}")
    own.add("dtstamp", occurred_at.astimezone(timezone.utc))
    own.add("sequence", int((occurred_at - _SEQUENCE_EPOCH).total_seconds()) + revision)
    own.add("description", description)
    if method == "CANCEL":
        own.add("status", "CANCELLED")
    else:
        own.add("status", "CONFIRMED" if context["status"] == "confirmed" else "TENTATIVE")
    lines = own.to_ical().removeprefix(_BEGIN_VEVENT).removesuffix(_END_VEVENT)
    return head + lines + tail, method


_BEGIN_VEVENT, _END_VEVENT = b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n"


@lru_cache(maxsize=256)
def _calendar_frame(
    method: str, zone: str, starts_at: datetime, ends_at: datetime, title: str, venue: str | None,
    join_url: str | None, organiser: str, organiser_name: str,
) -> tuple[bytes, bytes]:
    """The calendar of one event revision, split where each email's own VEVENT lines go.

    `zone` is in the key as datetimes in two zones compare (and hash) equal at one instant."""
    vevent = Event()
    vevent.add("dtstart", starts_at)
    vevent.add("dtend", ends_at)
    vevent.add("summary", title)
    if venue or join_url:
        vevent.add("location", venue or join_url)
    if join_url:
        vevent.add("url", join_url)
    organizer = vCalAddress(f"mailto:{organiser}")
    if organiser_name:
        organizer.params["cn"] = organiser_name
    vevent.add("organizer", organizer)

    calendar = Calendar()
    calendar.add("prodid", "-//Efus//EU-POLNET notify//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(vevent)
    # A VTIMEZONE covering a year either side keeps the file small yet correct.
    calendar.add_missing_timezones(
        first_date=starts_at.date() - timedelta(days=366), last_date=ends_at.date() + timedelta(days=366),
    )
    head, end, tail = calendar.to_ical().partition(_END_VEVENT)
    return head, end + tail
