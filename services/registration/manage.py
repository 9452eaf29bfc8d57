"""The self-service page behind `manage_url`: view, correct, confirm or cancel a registration.

Plain HTML forms, no JavaScript; the signed token in the address is the only credential.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from marshmallow import ValidationError

from services.registration import operations, queries, tickets
from services.registration.certificates import certificate_response
from services.registration.embed import STATUS_TEXTS, when_text
from services.registration.forms import label
from services.registration.models import SEATED
from services.registration.schemas import RegistrationPatch
from shared.db import db
from shared.errors import ApiError, flatten, translated
from shared.i18n import LANGUAGE_NAMES, translate, language_or_default, pick

bp = Blueprint("manage", __name__, url_prefix="/manage", template_folder="templates")

#: the standard fields a registrant may correct here (text inputs)
CORRECTABLE_FIELDS = ("first_name", "last_name", "organisation", "position", "city")


def _page(token: str, errors: dict[str, list[str]] | None = None, notice: str | None = None, status: int = 200) -> ResponseReturnValue:
    """The page in the registrant's language (their `language`, whatever the browser's)."""
    registration = operations.registration_for_token(token)
    language = language_or_default(registration.language)
    event = registration.event
    ticket = operations.ticket_of(registration)
    with force_locale(language):
        page = render_template(
            "registration/manage.html",
            registration=registration,
            token=token,
            lang=language,
            title=pick(event.title, language),
            description=pick(event.description, language),
            event=event,
            when=when_text(event, language),
            join_url=event.join_url if registration.status in SEATED else None,
            status_text=translate(language, STATUS_TEXTS[registration.status]),
            position=queries.waitlist_position(registration),
            fields=[(name, label(name, language)) for name in CORRECTABLE_FIELDS],
            language_label=label("language", language),
            languages=LANGUAGE_NAMES,
            errors=translated(errors or {}, language),
            notice=notice,
            ticket_svg=tickets.qr_svg(ticket) if ticket else None,
        )
    return page, status


@bp.get("/<token>")
def show(token: str) -> ResponseReturnValue:
    return _page(token, notice=request.args.get("notice"))


@bp.get("/<token>/certificate.pdf")
def certificate(token: str) -> ResponseReturnValue:
    return certificate_response(operations.registration_for_token(token))


@bp.post("/<token>/update")
def update(token: str) -> ResponseReturnValue:
    form = {name: value.strip() for name, value in request.form.items() if name in RegistrationPatch().fields and name != "answers"}
    try:
        changes = RegistrationPatch().load(form)
        operations.correct(operations.registration_for_token(token), changes)
    except ValidationError as error:
        db.session.rollback()
        return _page(token, errors=flatten(error.messages), status=422)
    except ApiError as error:
        db.session.rollback()
        return _page(token, errors=error.errors, status=error.status)
    db.session.commit()
    return redirect(url_for("manage.show", token=token, notice="saved"), 303)


@bp.post("/<token>/cancel")
def cancel(token: str) -> ResponseReturnValue:
    operations.cancel(operations.registration_for_token(token))
    db.session.commit()
    return redirect(url_for("manage.show", token=token), 303)


@bp.post("/<token>/verify")
def verify(token: str) -> ResponseReturnValue:
    operations.verify_email(operations.registration_for_token(token))
    db.session.commit()
    return redirect(url_for("manage.show", token=token), 303)
