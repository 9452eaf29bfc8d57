"""The registration form: standard fields, per-event extra fields, the consent; labels in the person's language."""
from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError

from shared.errors import Problem, problem
from shared.forms import country_choices
from shared.i18n import LANGUAGE_NAMES, LANGUAGES, N_, translate, pick

EXTRA_FIELD_TYPES = ("text", "textarea", "select", "checkbox", "date")
MAX_ANSWER_LENGTH = 2000

#: (name, type, required, max_length, label): labels are translated where the form is shown
STANDARD_FIELDS: tuple[tuple[str, str, bool, int | None, str], ...] = (
    ("first_name", "text", True, 100, N_("First name")),
    ("last_name", "text", True, 100, N_("Last name")),
    ("email", "email", True, 254, N_("Email")),
    ("organisation", "text", False, 200, N_("Organisation")),
    ("position", "text", False, 200, N_("Position / rank")),
    ("city", "text", False, 100, N_("City")),
    ("country", "country", False, 2, N_("Country")),
    ("language", "language", True, 2, N_("Preferred language")),
)
LABELS = {name: label for name, _, _, _, label in STANDARD_FIELDS}

#: The consent people give, stored with its version (CONSENT_VERSION): a new wording needs a
#: new version, and every translation must say exactly the same.
CONSENT_TEXT = N_(
    "I agree that Efus stores the data in this form to manage my registration and to contact me about this event. "
    "I can view, correct or delete it at any time from the link in my confirmation email."
)


def label(name: str, language: str) -> str:
    """The label of standard field `name` in `language`."""
    return translate(language, LABELS[name])


def form_description(event: Any, language: str, consent_version: str, submit_url: str) -> dict[str, Any]:
    """What the embedded widget needs to render the form of `event` in `language`."""
    fields: list[dict[str, Any]] = []
    for name, type_, required, max_length, text in STANDARD_FIELDS:
        field: dict[str, Any] = {"name": name, "type": type_, "required": required, "label": translate(language, text),
                                 "max_length": max_length}
        if type_ == "language":
            field["type"] = "select"
            field["choices"] = [{"value": code, "label": LANGUAGE_NAMES[code]} for code in LANGUAGES]
        if type_ == "country":
            field["choices"] = country_choices(language)
        fields.append(field)
    for extra in event.extra_fields or []:
        field = {
            "name": f"answers.{extra['name']}",
            "type": extra["type"],
            "required": bool(extra.get("required")),
            "label": pick(extra.get("label") or {"en": extra["name"]}, language),
            "max_length": extra.get("max_length") or (MAX_ANSWER_LENGTH if extra["type"] in ("text", "textarea") else None),
        }
        if extra["type"] == "select":
            field["choices"] = [{"value": choice, "label": choice} for choice in extra.get("choices", [])]
        fields.append(field)
    fields.append({"name": "consent", "type": "checkbox", "required": True, "label": translate(language, CONSENT_TEXT),
                   "max_length": None})
    return {"fields": fields, "consent_version": consent_version, "submit_url": submit_url, "language": language}


def validate_extra_field_definitions(definitions: list[dict[str, Any]]) -> None:
    """Staff-defined extra fields must be well-formed before an event stores them."""
    errors: dict[str, dict[str, list[Problem]]] = {}
    seen: set[str] = set()
    for index, definition in enumerate(definitions):
        problems: list[Problem] = []
        name = definition.get("name")
        if not isinstance(name, str) or not name.isidentifier() or len(name) > 50:
            problems.append(problem("invalid_field_name", "The name must be a short identifier (letters, digits, underscore)."))
        elif name in seen:
            problems.append(problem("duplicate_field_name", "Duplicate field name '%(name)s'.", name=name))
        seen.add(str(name))
        if definition.get("type") not in EXTRA_FIELD_TYPES:
            problems.append(problem("invalid_field_type", "The type must be one of %(types)s.", types=", ".join(EXTRA_FIELD_TYPES)))
        if definition.get("type") == "select" and not (
            isinstance(definition.get("choices"), list) and definition["choices"] and all(isinstance(c, str) for c in definition["choices"])
        ):
            problems.append(problem("choices_required", "A list needs at least one choice."))
        label = definition.get("label")
        if label is not None and not (isinstance(label, dict) and all(isinstance(v, str) for v in label.values())):
            problems.append(problem("invalid_label", "The question must be texts keyed by language."))
        if problems:
            errors[str(index)] = {"_schema": problems}
    if errors:
        raise ValidationError({"extra_fields": errors})


def clean_answers(definitions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """Check answers against the event's extra fields; return them cleaned.

    Raises ValidationError naming each faulty answer as `answers.<name>`.
    """
    known = {definition["name"]: definition for definition in definitions}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in answers:
        if name not in known:
            errors[name] = ["Unknown field."]
    for name, definition in known.items():
        value = answers.get(name)
        if value in (None, "", False):
            if definition.get("required"):
                errors[name] = ["Missing data for required field."]
            continue
        type_ = definition["type"]
        if type_ == "checkbox":
            if not isinstance(value, bool):
                errors[name] = ["Not a valid boolean."]
                continue
        elif not isinstance(value, str):
            errors[name] = ["Not a valid string."]
            continue
        elif len(value) > (definition.get("max_length") or MAX_ANSWER_LENGTH):
            errors[name] = [f"Longer than maximum length {definition.get('max_length') or MAX_ANSWER_LENGTH}."]
            continue
        elif type_ == "select" and value not in definition.get("choices", []):
            errors[name] = [f"Must be one of: {', '.join(definition.get('choices', []))}."]
            continue
        elif type_ == "date":
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                errors[name] = ["Not a valid date (YYYY-MM-DD)."]
                continue
        cleaned[name] = value.strip() if isinstance(value, str) else value
    if errors:
        raise ValidationError({"answers": errors})
    return cleaned
