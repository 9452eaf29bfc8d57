"""At the door: the check-in page, made for a phone (scan tickets with the camera, or search
by name; it keeps working offline: services/registration/static/checkin.js), and the name
badges to print beforehand.

The page asks for the list of everyone the door may meet when it opens (and again every
minute while online), and posts each check-in here; the rule and its refusals are those of
the API (`staff.check_in_at_door`, `tickets`).
"""
from __future__ import annotations

from flask import jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from services.registration import operations, staff, tickets
from services.registration.badges import badges_response
from services.registration.backoffice import bp, role_required
from services.registration.backoffice.i18n import gettext as _, language, refusal
from services.registration.schemas import CheckInIn
from shared.db import db
from shared.errors import INVALID_FIELDS, ApiError, error_body, flatten


@bp.get("/events/<slug>/check-in")
@role_required("events")
def check_in_page(slug: str) -> ResponseReturnValue:
    event = operations.get_event(slug, published_only=False)
    texts = {
        "checked_in": _("Checked in"), "refused": _("Not admitted"),
        **{case: refusal(text) for case, text in tickets.door_refusals().items()},
        "count": _("Checked in: {checked} of {expected}"), "queued": _("Check-ins waiting to be sent when the network is back: {count}"),
        "offline": _("Offline: check-ins are kept on this phone and sent when the network is back."),
        "no_camera": _("No camera can be used here: search by name instead."), "no_match": _("Nobody of that name."),
        "check_in": _("Check in"), "start": _("Scan tickets with the camera"), "stop": _("Stop the camera"),
    }
    not_open = operations.check_in_not_open_reason(event)
    return render_template(
        "backoffice/checkin.html", event=event, texts=texts, not_open=not_open and refusal(not_open),
        config={"list": url_for("backoffice.check_in_list", slug=slug), "post": url_for("backoffice.check_in", slug=slug), "event": slug},
    )


@bp.get("/events/<slug>/badges.pdf")
@role_required("events")
def badges(slug: str) -> ResponseReturnValue:
    return badges_response(operations.get_event(slug, published_only=False))


@bp.get("/events/<slug>/check-in/list")
@role_required("events")
def check_in_list(slug: str) -> ResponseReturnValue:
    return jsonify(tickets.check_in_list(operations.get_event(slug, published_only=False)))


@bp.post("/events/<slug>/check-in")
@role_required("events")
def check_in(slug: str) -> ResponseReturnValue:
    """One check-in from the page (a scanned ticket, or a number from the search): JSON answers."""
    event = operations.get_event(slug, published_only=False)
    fields = {name: request.form[name] for name in ("ticket", "number", "override") if request.form.get(name)}
    try:
        registration = staff.check_in_at_door(event, **CheckInIn().load(fields))
    except ValidationError as error:
        return jsonify(error_body(INVALID_FIELDS, flatten(error.messages), language=language())), 422
    except tickets.TicketRefused as refused:
        db.session.rollback()
        return tickets.refusal_response(refused, language())
    except ApiError as error:
        db.session.rollback()
        return jsonify(error_body(error.message, error.errors, error.code, language=language())), error.status
    db.session.commit()
    return jsonify(tickets.attendee(registration))
