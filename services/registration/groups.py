"""Group registration: a contact registers several participants for one event in one
submission (the API's `POST /events/{slug}/groups`, or the plain page of this module, which
works without JavaScript), then sees the group on one page behind a signed link and may
cancel single participants. The rules are `operations.register_group`; this module says
where each participant stands, for the API and the pages.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.registration import operations, queries
from services.registration.embed import STATUS_TEXTS, closed_text, when_text
from services.registration.forms import form_description
from services.registration.models import ATTENDED, ENDED, WAITLISTED, Event, Registration, RegistrationGroup
from services.registration.schemas import GROUP_MAX, GroupContactIn, GroupIn
from shared.db import db
from shared.errors import ApiError, described, flatten, translated
from shared.forms import AUTOCOMPLETE, HONEYPOT, error_summary, form_submission, same_origin, texts
from shared.i18n import N_, language_or_default, pick, request_language, translate
from shared.web import embeddable, settings

bp = Blueprint("groups", __name__, template_folder="templates")
#: the contact's fields on the group form (the rest of a participant's are theirs alone)
CONTACT_FIELDS = tuple(GroupContactIn._declared_fields)
#: participants the group form opens with
FIRST_PARTICIPANTS = 2

#: why a participant of a group is not confirmed, by status
NOT_CONFIRMED = {
    WAITLISTED: ("event_full", N_("The event is full: this participant is on the waiting list.")),
    "pending": ("email_not_verified", N_("This participant must first confirm their email address (link sent to them).")),
    "pending_approval": ("awaiting_approval", N_("Places at this event are granted by the organisers: this participant awaits their decision.")),
}


def participant(registration: Registration, language: str, already_registered: bool = False) -> dict[str, Any]:
    """Where one participant stands, and why when not confirmed (in `language`)."""
    code, text = NOT_CONFIRMED.get(registration.status, (None, None))
    return {
        "public_id": registration.public_id, "first_name": registration.first_name, "last_name": registration.last_name,
        "email": registration.email, "status": registration.status, "waitlist_position": queries.waitlist_position(registration),
        "already_registered": already_registered,
        "reason": {"code": code, "message": translate(language, text)} if code else None,
    }


def answer(group: RegistrationGroup, placed: list[tuple[Registration, bool]], language: str) -> dict[str, Any]:
    """The answer to a group's submission: each participant in the order given."""
    return {"public_id": group.public_id, "event": group.event,
            "participants": [participant(registration, language, not created) for registration, created in placed]}


def members(group: RegistrationGroup, language: str) -> dict[str, Any]:
    """The group as its page and `GET /groups/{token}` show it."""
    db.session.refresh(group)
    return {"public_id": group.public_id, "event": group.event,
            "participants": [participant(registration, language) for registration in group.registrations
                             if registration.anonymised_at is None]}


# --- the group's page ----------------------------------------------------------------------

@bp.get("/groups/<token>")
def page(token: str) -> ResponseReturnValue:
    group = operations.group_for_token(token)
    language = language_or_default(group.language)
    event = group.event
    with force_locale(language):
        return render_template(
            "registration/group.html", group=group, token=token, lang=language, title=pick(event.title, language),
            event=event, when=when_text(event, language), participants=members(group, language)["participants"],
            status_texts={status: translate(language, text) for status, text in STATUS_TEXTS.items()},
            cancellable=lambda status: status not in ENDED and status != ATTENDED,
        )


@bp.post("/groups/<token>/participants/<public_id>/cancel")
def cancel(token: str, public_id: str) -> ResponseReturnValue:
    operations.cancel_in_group(operations.group_for_token(token), public_id)
    db.session.commit()
    return redirect(url_for("groups.page", token=token), 303)


# --- the group form without JavaScript ----------------------------------------------------

@bp.route("/events/<slug>/register-group", methods=["GET", "POST"])
@embeddable
def register_page(slug: str) -> ResponseReturnValue:
    """The group form. "Add a participant" posts the form back with one more block, keeping
    what was typed; "Register the group" submits it to the same schema and rules as the API."""
    language = request_language()
    event = operations.get_event(slug)
    description = form_description(event, language, settings().consent_version, request.path)
    count = _participant_count(request.form if request.method == "POST" else request.args)
    if request.method == "GET" or "add" in request.form:
        return _form_page(event, language, description, min(count + ("add" in request.form), GROUP_MAX))
    if not same_origin():
        return _form_page(event, language, description, count, message=texts(language)["failed"], status=403)
    fields = _participant_fields(description)
    participants = [form_submission(request.form, fields, f"participants.{index}.") for index in range(count)]
    # blocks left empty are not participants (a language is always chosen)
    blocks = [index for index, participant in enumerate(participants)
              if participant["answers"] or any(name not in ("answers", "language") for name in participant)]
    submission = {
        "contact": {name: value for name, value in form_submission(request.form, fields, "contact.").items() if name in CONTACT_FIELDS},
        "participants": [participants[index] for index in blocks],
        "consent": "consent" in request.form, HONEYPOT: request.form.get(HONEYPOT, ""),
    }
    try:
        data = GroupIn().load(submission)
        group, placed = operations.register_group(slug, data["contact"], data["participants"])
        outcome = {**answer(group, placed, language), "email": group.email}
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        return _form_page(event, language, description, count, errors=_in_blocks(flatten(error.messages), blocks), status=422)
    except ApiError as error:
        db.session.rollback()
        return _form_page(event, language, description, count, errors=_in_blocks(error.errors, blocks),
                          message=described(error.message).translated(language), status=error.status)
    return _form_page(event, language, description, count, outcome=outcome)


def _in_blocks(errors: dict[str, list], blocks: list[int]) -> dict[str, list]:
    """Refusals of the participants sent (`participants.1.email`, the second one sent) named
    after the block of the form each came from (`participants.2.email` when a block before it
    was left empty)."""
    def named(name: str) -> str:
        match = re.fullmatch(r"participants\.(\d+)(\..*)?", name)
        if match is None or int(match[1]) >= len(blocks):
            return name
        return f"participants.{blocks[int(match[1])]}{match[2] or ''}"
    return {named(name): messages for name, messages in errors.items()}


def _participant_count(values: MultiDict) -> int:
    count = values.get("count", "")
    return max(1, min(int(count), GROUP_MAX)) if count.isdigit() else FIRST_PARTICIPANTS


def _participant_fields(description: dict[str, Any]) -> list[dict[str, Any]]:
    """A participant's fields: the event's form, without the consent (given once, by the contact)."""
    return [field for field in description["fields"] if field["name"] != "consent"]


def _form_page(event: Event, language: str, description: dict[str, Any], count: int, *,
               errors: dict[str, list[str]] | None = None, outcome: dict[str, Any] | None = None,
               message: str | None = None, status: int = 200) -> ResponseReturnValue:
    fields = _participant_fields(description)
    contact_fields = [field for field in fields if field["name"] in CONTACT_FIELDS]
    consent = description["fields"][-1]
    t = texts(language)
    # each field named with its block in the error summary: "Participant 2: Email"
    named = [{"name": f"contact.{field['name']}", "label": f"{t['contact_legend']}: {field['label']}"} for field in contact_fields]
    for index in range(count):
        legend = t["participant_legend"] % {"number": index + 1}
        named += [{"name": f"participants.{index}.{field['name']}", "label": f"{legend}: {field['label']}"} for field in fields]
    errors = translated(errors or {}, language)
    with force_locale(language):
        page = render_template(
            "registration/register_group.html", lang=language, t=t, title=pick(event.title, language), event=event,
            when=when_text(event, language), closed=closed_text(event, language), full=operations.free_seats(event) == 0,
            contact_fields=contact_fields, fields=fields, consent=consent, count=count, autocomplete=AUTOCOMPLETE,
            honeypot=HONEYPOT, values=request.form if request.method == "POST" else MultiDict({"contact.language": language}),
            errors=errors, summary=error_summary(errors, [*named, consent]), message=message, outcome=outcome,
            status_texts={status: translate(language, text) for status, text in STATUS_TEXTS.items()},
        )
    db.session.rollback()
    return page, status
