"""Back-office pages for events: list, create, edit, publish, participants, check-in,
messages to all registrants and participant exports."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.registration import certificates, exports, operations, queries, staff
from services.registration.backoffice import bp, role_required
from services.registration.backoffice.forms import DecisionForm, MessageForm
from services.registration.backoffice.i18n import gettext as _, language, refusal
from services.registration.forms import EXTRA_FIELD_TYPES
from services.registration.models import EVENT_KINDS, PENDING_APPROVAL, STATUSES, Event
from services.registration.schemas import DecisionsIn, EventIn, MessageIn
from shared.db import db
from shared.errors import ApiError, flatten
from shared.i18n import LANGUAGES, pick

#: empty extra-field rows offered below the event's own (more after saving)
BLANK_EXTRA_ROWS = 2
#: the form's date fields (EventIn's names) and whether each is required
DATE_FIELDS = (("starts_at", True), ("ends_at", True), ("registration_opens_at", False), ("registration_closes_at", False))


@bp.get("/events")
@role_required("events")
def events() -> ResponseReturnValue:
    rows = [queries.with_counts(event) for event in db.session.scalars(sa.select(Event).order_by(Event.starts_at.desc()))]
    return render_template("backoffice/events.html", events=rows)


# --- the event form ----------------------------------------------------------------------

def _texts(form: MultiDict, prefix: str) -> dict[str, str]:
    return {lang: form.get(f"{prefix}_{lang}", "").strip() for lang in LANGUAGES if form.get(f"{prefix}_{lang}", "").strip()}


def _extra_fields(form: MultiDict) -> list[dict[str, Any]]:
    """The extra-field rows of the form; a row without a name and labels is left out."""
    definitions = []
    for index in range(int(form.get("extra_rows", "0") or 0)):
        name = form.get(f"extra_{index}_name", "").strip()
        label = _texts(form, f"extra_{index}_label")
        if not name and not label:
            continue
        definition: dict[str, Any] = {"name": name, "type": form.get(f"extra_{index}_type", "text"),
                                      "required": form.get(f"extra_{index}_required") == "on", "label": label}
        if definition["type"] == "select":
            definition["choices"] = [c.strip() for c in form.get(f"extra_{index}_choices", "").splitlines() if c.strip()]
        definitions.append(definition)
    return definitions


def _event_data(form: MultiDict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form's fields as EventIn expects them (dates are local to the chosen time zone),
    and the errors found in fields EventIn cannot read."""
    zone_name = form.get("timezone", "").strip() or "Europe/Brussels"
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "slug": form.get("slug", "").strip(),
        "kind": form.get("kind", ""),
        "title": _texts(form, "title"),
        "description": _texts(form, "description"),
        "timezone": zone_name,
        "venue": form.get("venue", "").strip() or None,
        "join_url": form.get("join_url", "").strip() or None,
        "members_only": form.get("members_only") == "on",
        "double_opt_in": form.get("double_opt_in") == "on",
        "published": form.get("published") == "on",
        "extra_fields": _extra_fields(form),
    }
    for name in ("capacity", "max_per_organisation"):
        value = form.get(name, "").strip()
        data[name] = int(value) if value.isdigit() else None
        if value and not value.isdigit():
            errors[name] = [_("Enter a whole number, or leave empty for no limit.")]
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [_("Not an IANA time zone name (e.g. Europe/Paris).")]
        zone = ZoneInfo("UTC")
    for name, required in DATE_FIELDS:
        value = form.get(name, "").strip()
        if not value and not required:
            data[name] = None
            continue
        try:
            data[name] = dt.datetime.fromisoformat(value).replace(tzinfo=zone).isoformat()
        except ValueError:
            errors[name] = [_("Enter a date and time.")]
    return data, errors


def _form_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """EventIn's errors under the form's field names (`title.fr` → `title_fr`,
    `extra_fields.1._schema` → `extra_1`)."""
    named: dict[str, list[str]] = {}
    for key, messages in errors.items():
        base, _dot, rest = key.partition(".")
        if base in ("title", "description"):
            key = f"{base}_{rest if rest in LANGUAGES else 'en'}"
        elif base == "extra_fields":
            key = f"extra_{rest.partition('.')[0]}" if rest[:1].isdigit() else "extra_fields"
        named.setdefault(key, []).extend(messages)
    return named


def _form_of(event: Event) -> MultiDict:
    """What the form shows for an existing event (dates in its own time zone)."""
    zone = ZoneInfo(event.timezone)
    values: dict[str, Any] = {"slug": event.slug, "kind": event.kind, "timezone": event.timezone,
                              "venue": event.venue or "", "join_url": event.join_url or "",
                              "capacity": "" if event.capacity is None else event.capacity,
                              "max_per_organisation": event.max_per_organisation or ""}
    for prefix, texts in (("title", event.title), ("description", event.description or {})):
        values.update({f"{prefix}_{lang}": texts.get(lang, "") for lang in LANGUAGES})
    for name, _required in DATE_FIELDS:
        moment = getattr(event, name)
        values[name] = moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""
    for name in ("members_only", "double_opt_in", "published"):
        if getattr(event, name):
            values[name] = "on"
    for index, definition in enumerate(event.extra_fields or []):
        values.update({f"extra_{index}_name": definition["name"], f"extra_{index}_type": definition["type"],
                       f"extra_{index}_choices": "\n".join(definition.get("choices", []))})
        values.update({f"extra_{index}_label_{lang}": (definition.get("label") or {}).get(lang, "") for lang in LANGUAGES})
        if definition.get("required"):
            values[f"extra_{index}_required"] = "on"
    values["extra_rows"] = len(event.extra_fields or [])
    return MultiDict(values)


def _save_event(event: Event | None) -> tuple[Event | None, dict[str, list[str]]]:
    """Create (`event` None) or update `event` from the posted form; the event, or the errors."""
    data, form_errors = _event_data(request.form)
    try:
        try:
            data = EventIn().load(data)
        except ValidationError as error:
            raise ValidationError({**error.messages, **form_errors}) from None
        if form_errors:
            raise ValidationError(form_errors)
        if event is None:
            event = staff.create_event(data)
        else:
            data.pop("slug")
            event = staff.update_event(event, data)
        db.session.commit()
        return event, {}
    except ValidationError as error:
        db.session.rollback()
        return None, _form_errors(flatten(error.messages))
    except ApiError as error:
        db.session.rollback()
        return None, error.errors or {"form": [error.message]}


def _render_form(form: MultiDict, errors: dict[str, list[str]], event: Event | None) -> ResponseReturnValue:
    # The form posts back as many rows as it showed; a fresh form gets blank rows to fill.
    rows = int(form.get("extra_rows", "0") or 0) + (BLANK_EXTRA_ROWS if request.method == "GET" else 0)
    return render_template("backoffice/event_form.html", form=form, errors=errors, kinds=[(k, _(k)) for k in EVENT_KINDS], event=event,
                           extra_rows=rows, extra_types=EXTRA_FIELD_TYPES, languages=LANGUAGES), 422 if errors else 200


@bp.route("/events/new", methods=["GET", "POST"])
@role_required("events")
def new_event() -> ResponseReturnValue:
    if request.method == "GET":
        return _render_form(MultiDict(), {}, None)
    event, errors = _save_event(None)
    if event is None:
        return _render_form(request.form, errors, None)
    flash(_("Event “{title}” created.", title=pick(event.title, language()) or event.slug))
    return redirect(url_for("backoffice.participants", slug=event.slug))


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@role_required("events")
def edit_event(slug: str) -> ResponseReturnValue:
    event = operations.get_event(slug, published_only=False)
    if request.method == "GET":
        return _render_form(_form_of(event), {}, event)
    saved, errors = _save_event(event)
    if saved is None:
        return _render_form(request.form, errors, event)
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


@bp.get("/events/<slug>")
@role_required("events")
def participants(slug: str) -> ResponseReturnValue:
    filters = _filters()
    event = operations.get_event(slug, published_only=False)
    rows = queries.participants(event, filters["status"], filters["q"])
    positions = queries.waitlist_positions(event)
    return render_template(
        "backoffice/participants.html", event=queries.with_counts(event), rows=rows, statuses=STATUSES,
        status=filters["status"] or "", q=filters["q"] or "", positions=positions, free=operations.free_seats(event),
        formats=exports.FORMATS, certificates_to_send=certificates.to_send(event),
        awaiting=sum(1 for row in rows if row.status == PENDING_APPROVAL),
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
    count = staff.issue_certificates(operations.get_event(slug, published_only=False))
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
    filters = {key: value for key, value in _filters().items() if value}
    return redirect(url_for("backoffice.participants", slug=slug, **filters) + f"#r{number}")


@bp.post("/events/<slug>/decisions")
@role_required("events")
def decide(slug: str) -> ResponseReturnValue:
    """Approve or reject registrations of a moderated event: one row's, or those ticked."""
    filters = {key: value for key, value in _filters().items() if value}
    back = url_for("backoffice.participants", slug=slug, **filters)
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
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = MessageIn().load(MessageForm(request.form).payload())
            if not data["statuses"]:
                raise ValidationError({"statuses": [_("Choose at least one group of registrants.")]})
        except ValidationError as error:
            errors = flatten(error.messages)
        else:
            count = staff.message_registrants(event, data["subject"], data["body"], tuple(data["statuses"]))
            db.session.commit()
            flash(_("Your message is on its way to {count} people.", count=count))
            return redirect(url_for("backoffice.participants", slug=slug))
    form = request.form if request.method == "POST" else MultiDict([("statuses", s) for s in ("confirmed", "waitlisted")])
    return render_template("backoffice/message.html", event=queries.with_counts(event), form=form, errors=errors,
                           statuses=STATUSES), 422 if errors else 200
