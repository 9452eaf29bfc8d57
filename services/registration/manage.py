"""The self-service page behind `manage_url`: view, correct, confirm or cancel a registration.

Plain HTML forms, no JavaScript; the signed token in the address is the only credential.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from services.registration import operations
from services.registration.certificates import certificate_response
from services.registration.forms import LANGUAGE_NAMES, STANDARD_FIELDS, pick
from services.registration.schemas import RegistrationPatch
from shared.db import db
from shared.errors import ApiError, flatten

STANDARD_FIELDS_BY_NAME = {name: labels for name, _, _, _, labels in STANDARD_FIELDS}

bp = Blueprint("manage", __name__, url_prefix="/manage", template_folder="templates")

TEXTS = {
    "en": {"title": "Your registration", "status": "Status", "save": "Save my details", "cancel": "Cancel my registration",
           "verify": "Confirm my email address", "cancelled": "This registration is cancelled.", "position": "Position on the waiting list",
           "pending": "confirmation of your email address pending", "confirmed": "confirmed", "waitlisted": "on the waiting list",
           "attended": "attended", "saved": "Your details were saved.", "when": "When", "where": "Where", "online": "Online",
           "errors": "Please correct the fields marked below.", "confirm_cancel": "Cancel your registration? Your seat will go to the next person on the waiting list.",
           "certificate": "Download your certificate of attendance (PDF)"},
    "fr": {"title": "Votre inscription", "status": "Statut", "save": "Enregistrer mes informations", "cancel": "Annuler mon inscription",
           "verify": "Confirmer mon adresse électronique", "cancelled": "Cette inscription est annulée.", "position": "Rang sur la liste d'attente",
           "pending": "en attente de confirmation de votre adresse", "confirmed": "confirmée", "waitlisted": "sur liste d'attente",
           "attended": "présent", "saved": "Vos informations ont été enregistrées.", "when": "Quand", "where": "Où", "online": "En ligne",
           "errors": "Veuillez corriger les champs signalés ci-dessous.", "confirm_cancel": "Annuler votre inscription ? Votre place ira à la prochaine personne sur la liste d'attente.",
           "certificate": "Télécharger votre attestation de participation (PDF)"},
}


def _page(token: str, errors: dict[str, list[str]] | None = None, notice: str | None = None, status: int = 200) -> ResponseReturnValue:
    registration = operations.registration_for_token(token)
    language = registration.language if registration.language in TEXTS else "en"
    fields = [(name, pick(labels, language)) for name, type_, _, _, labels in STANDARD_FIELDS if name not in ("email", "language", "country")]
    return render_template(
        "registration/manage.html",
        registration=registration,
        token=token,
        t=TEXTS[language],
        lang=language,
        title=pick(registration.event.title, language),
        event=operations.event_summary(registration.event, with_join_url=registration.status in ("confirmed", "attended")),
        position=operations.waitlist_position(registration),
        fields=fields,
        language_label=pick(STANDARD_FIELDS_BY_NAME["language"], language),
        languages=LANGUAGE_NAMES,
        errors=errors or {},
        notice=notice,
    ), status


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
