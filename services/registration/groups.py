"""Group registration: a contact registers several participants for one event in one
submission (the API's `POST /events/{slug}/groups`), then sees the group on one page behind
a signed link and may cancel single participants. The rules are `operations.register_group`;
this module says where each participant stands, for the API and the page.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from services.registration import operations, queries
from services.registration.embed import when_text
from services.registration.manage import STATUS_TEXTS
from services.registration.models import ATTENDED, ENDED, WAITLISTED, Registration, RegistrationGroup
from shared.db import db
from shared.i18n import N_, language_or_default, pick, translate

bp = Blueprint("groups", __name__, url_prefix="/groups", template_folder="templates")

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

@bp.get("/<token>")
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


@bp.post("/<token>/participants/<public_id>/cancel")
def cancel(token: str, public_id: str) -> ResponseReturnValue:
    operations.cancel_in_group(operations.group_for_token(token), public_id)
    db.session.commit()
    return redirect(url_for("groups.page", token=token), 303)
