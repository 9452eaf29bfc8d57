"""Back-office pages for events: list, create, edit, publish, participants, check-in,
messages to all registrants and participant exports."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from services.registration import certificates, exports, operations, queries, staff
from services.registration.backoffice import bp, role_required
from services.registration.backoffice.forms import DecisionForm, EventForm, MessageForm, event_form_data
from services.registration.backoffice.i18n import gettext as _, language, refusal
from services.registration.models import PENDING_APPROVAL, STATUSES, Event
from services.registration.schemas import DecisionsIn, EventIn, MessageIn
from shared.db import db
from shared.errors import ApiError, flatten
from shared.i18n import pick
from shared.pagination import requested_page

#: empty extra-field rows offered below the event's own (more after saving)
BLANK_EXTRA_ROWS = 2
#: rows of the events list and of the participants page (the counts are the whole event's)
EVENTS_PER_PAGE = 100
PARTICIPANTS_PER_PAGE = 200


@bp.get("/events")
@role_required("events")
def events() -> ResponseReturnValue:
    return render_template("backoffice/events.html", page=queries.events_page(requested_page(), EVENTS_PER_PAGE))


# --- the event form ----------------------------------------------------------------------

def _save_event(form: EventForm, event: Event | None) -> tuple[Event | None, int]:
    """Create (`event` None) or update `event` from the posted form: the event, or None and
    the status to answer (the refusals then on the form's fields, nothing written)."""
    readable = form.check()
    try:
        data = EventIn().load(form.payload())
        if not readable:
            return None, 422
        event = staff.create_event(data) if event is None else staff.update_event(event, data)
        db.session.commit()
        return event, 200
    except ValidationError as error:
        db.session.rollback()
        form.refuse_event(flatten(error.messages))
        return None, 422
    except ApiError as error:
        db.session.rollback()
        form.refuse_event(error.errors or {"form": [error.message]})
        return None, error.status


def _render_form(form: EventForm, event: Event | None, status: int = 200) -> ResponseReturnValue:
    if request.method == "GET":
        for _row in range(BLANK_EXTRA_ROWS):
            form.extra.append_entry()
    return render_template("backoffice/event_form.html", form=form, event=event), status


@bp.route("/events/new", methods=["GET", "POST"])
@role_required("events")
def new_event() -> ResponseReturnValue:
    if request.method == "GET":
        return _render_form(EventForm(), None)
    form = EventForm(request.form)
    event, status = _save_event(form, None)
    if event is None:
        return _render_form(form, None, status)
    flash(_("Event “{title}” created.", title=pick(event.title, language()) or event.slug))
    return redirect(url_for("backoffice.participants", slug=event.slug))


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@role_required("events")
def edit_event(slug: str) -> ResponseReturnValue:
    """The slug is shown, not editable: embedded forms use it (a changed one is refused)."""
    event = operations.get_event(slug, published_only=False)
    if request.method == "GET":
        return _render_form(EventForm(data=event_form_data(event)), event)
    form = EventForm(request.form, data=event_form_data(event))
    saved, status = _save_event(form, event)
    if saved is None:
        return _render_form(form, event, status)
    flash(_("Event “{title}” saved.", title=pick(saved.title, language()) or saved.slug))
    return redirect(url_for("backoffice.participants", slug=slug))


@bp.post("/events/<slug>/publish")
@role_required("events")
def publish_event(slug: str) -> ResponseReturnValue:
    event = operations.get_event(slug, published_only=False)
    staff.update_event(event, {"published": not event.published})
    db.session.commit()
    flash(_("Event published.") if event.published else _("Event unpublished."))
    return redirect(url_for("backoffice.events"))


# --- participants ------------------------------------------------------------------------

def _filters() -> dict[str, str | None]:
    status = request.values.get("status", "")
    return {"status": status if status in STATUSES else None, "q": request.values.get("q", "").strip() or None}


def _back_to_participants(slug: str, anchor: str = "") -> str:
    """The participants page a form was posted from: its filters and page kept."""
    filters = {key: value for key, value in _filters().items() if value}
    page = requested_page()
    return url_for("backoffice.participants", slug=slug, **filters, page=page if page > 1 else None) + anchor


@bp.get("/events/<slug>")
@role_required("events")
def participants(slug: str) -> ResponseReturnValue:
    """One page of the participants (PARTICIPANTS_PER_PAGE); the counts are the whole event's."""
    filters = _filters()
    event = queries.with_counts(operations.get_event(slug, published_only=False))
    page = queries.participants_page(event, filters["status"], filters["q"], requested_page(), PARTICIPANTS_PER_PAGE)
    return render_template(
        "backoffice/participants.html", event=event, page=page, rows=page.items, statuses=STATUSES,
        status=filters["status"] or "", q=filters["q"] or "", positions=queries.waitlist_positions(event),
        free=operations.free_seats(event), formats=exports.FORMATS, certificates_to_send=certificates.to_send(event),
        awaiting=event.status_counts[PENDING_APPROVAL],
    )


@bp.get("/events/<slug>/participants.<format_>")
@role_required("events")
def export_participants(slug: str, format_: str) -> ResponseReturnValue:
    if format_ not in exports.FORMATS:
        abort(404)
    event = operations.get_event(slug, published_only=False)
    filters = _filters()
    return exports.download(event, queries.participants(event, filters["status"], filters["q"]), format_)


@bp.post("/events/<slug>/certificates")
@role_required("events")
def send_certificates(slug: str) -> ResponseReturnValue:
    try:
        count = staff.issue_certificates(operations.get_event(slug, published_only=False))
    except ApiError as error:
        db.session.rollback()
        flash(refusal(error.message), "error")
        return redirect(url_for("backoffice.participants", slug=slug))
    db.session.commit()
    flash(_("Certificates of attendance are on their way to {count} people.", count=count))
    return redirect(url_for("backoffice.participants", slug=slug))


@bp.get("/events/<slug>/registrations/<int:number>/certificate.pdf")
@role_required("events")
def certificate(slug: str, number: int) -> ResponseReturnValue:
    return certificates.certificate_response(staff.registration_of(slug, number))


@bp.post("/events/<slug>/registrations/<int:number>/<action>")
@role_required("events")
def registration_action(slug: str, number: int, action: str) -> ResponseReturnValue:
    if action not in staff.REGISTRATION_ACTIONS:
        abort(404)
    registration = staff.registration_of(slug, number)
    name = f"{registration.first_name} {registration.last_name}"
    try:
        staff.act_on_registration(registration, action)
        db.session.commit()
    except ApiError as error:
        db.session.rollback()
        flash(_("{name}: {message}", name=name, message=refusal(error.message)), "error")
    else:
        flash(_("{name} is now {status}.", name=name, status=_(registration.status)))
    return redirect(_back_to_participants(slug, f"#r{number}"))


@bp.post("/events/<slug>/decisions")
@role_required("events")
def decide(slug: str) -> ResponseReturnValue:
    """Approve or reject registrations of a moderated event: one row's, or those ticked."""
    back = _back_to_participants(slug)
    form = DecisionForm(request.form)
    if not form.numbers.data:
        flash(_("Tick the registrations to approve or reject first."), "error")
        return redirect(back)
    try:
        data = DecisionsIn().load(form.payload())
        registrations = staff.decide(staff.registrations_of(slug, data["numbers"]), data["decision"], data.get("reason"))
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        for message in flatten(error.messages).values():
            flash(refusal(" ".join(message)), "error")
        return redirect(back)
    except ApiError as error:
        db.session.rollback()
        flash(refusal(error.message), "error")
        return redirect(back)
    for registration in registrations:
        flash(_("{name} is now {status}.", name=f"{registration.first_name} {registration.last_name}", status=_(registration.status)))
    return redirect(back + (f"#r{registrations[0].id}" if len(registrations) == 1 else ""))


@bp.route("/events/<slug>/message", methods=["GET", "POST"])
@role_required("events")
def message(slug: str) -> ResponseReturnValue:
    event = operations.get_event(slug, published_only=False)
    form = MessageForm(request.form if request.method == "POST" else None, data={"statuses": ["confirmed", "waitlisted"]})
    if request.method == "POST":
        form.check()
        try:
            data = MessageIn().load(form.payload())
            if not data["statuses"]:
                raise ValidationError({"statuses": [_("Choose at least one group of registrants.")]})
        except ValidationError as error:
            form.refuse(flatten(error.messages))
        else:
            count = staff.message_registrants(event, data["subject"], data["body"], tuple(data["statuses"]))
            db.session.commit()
            flash(_("Your message is on its way to {count} people.", count=count))
            return redirect(url_for("backoffice.participants", slug=slug))
    return render_template("backoffice/message.html", event=queries.with_counts(event), form=form,
                           statuses=STATUSES), 422 if form.has_errors() else 200
