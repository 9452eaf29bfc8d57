"""Attendance certificates: a one-page PDF for each person checked in at an event.

Staff send them once the event has started (409 `event_not_started` before) (`issue_certificates`: one `certificate.issued`
message per attended registration not yet sent; the notify service emails the PDF, which it
fetches from `GET /api/v1/certificates/<registration id>.pdf`). Registrants can also
download theirs from their self-service link. The PDF is rendered again on each request
from the registration: it holds nothing that changes once the person attended, and no
file has to be stored (or erased).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, render_template
from flask_babel import force_locale

from services.registration.models import ATTENDED, Event, Registration
from services.registration.operations import local_iso, registration_message
from shared.db import db, utcnow
from shared.errors import Conflict, current_status, problem
from shared.i18n import N_, format_date, translate, language_or_default, pick
from shared.outbox import emit
from shared.pdf import render_pdf

#: each kind of event as the certificate names it
KINDS = {"webconference": N_("Web conference"), "academy": N_("Police academy"), "assembly": N_("General assembly"),
         "conference": N_("Conference")}


def check_attended(registration: Registration) -> None:
    if registration.status != ATTENDED:
        raise Conflict(problem("not_attended", "Only people checked in at the event get a certificate of attendance."),
                       {"status": [current_status(registration.status)]})


def certificate_number(registration: Registration) -> str:
    return f"{registration.event.starts_at:%Y}-{registration.public_id[:8].upper()}"


def certificate_pdf(registration: Registration) -> bytes:
    """The certificate of `registration` (409 unless the person attended)."""
    check_attended(registration)
    event = registration.event
    language = language_or_default(registration.language)
    zone = ZoneInfo(event.timezone)
    first, last = event.starts_at.astimezone(zone).date(), event.ends_at.astimezone(zone).date()
    dates = format_date(first, language)
    if last != first:
        dates = f"{dates} – {format_date(last, language)}"
    with force_locale(language):
        html = render_template(
            "certificate.html", lang=language, registration=registration,
            event_title=pick(event.title, language), kind=translate(language, KINDS[event.kind]), dates=dates,
            place=event.venue or translate(language, "online"), number=certificate_number(registration),
            issued=format_date((registration.certificate_sent_at or utcnow()).date(), language),
        )
    return render_pdf(html)


def _unsent(event: Event) -> sa.Select:
    return sa.select(Registration).where(Registration.event_id == event.id, Registration.status == ATTENDED,
                                         Registration.certificate_sent_at.is_(None), Registration.anonymised_at.is_(None))


def to_send(event: Event) -> int:
    """How many people checked in at `event` have not had their certificate yet."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(_unsent(event).subquery())) or 0


def issue_certificates(event: Event) -> int:
    """Send their certificate to everyone checked in at `event` who has not had it yet; not
    before the event has started (someone checked in early by override has not attended yet)."""
    if utcnow() < event.starts_at:
        raise Conflict(problem("event_not_started", "Certificates of attendance are sent once the event has started (%(start)s).",
                               start=local_iso(event.starts_at, event.timezone)))
    count = 0
    for registration in db.session.scalars(_unsent(event)):
        registration.certificate_sent_at = utcnow()
        data = {**registration_message(registration), "certificate_number": certificate_number(registration)}
        emit("certificate.issued", f"certificate.issued:{registration.public_id}", data)
        count += 1
    return count


def certificate_response(registration: Registration) -> Response:
    """The certificate as an HTTP answer (409 unless the person attended)."""
    return Response(certificate_pdf(registration), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificate-{certificate_number(registration)}.pdf"',
        "Cache-Control": "private, no-store",
    })
