"""Validation pieces every service's marshmallow schemas use."""
from __future__ import annotations

import re
from typing import Any, Mapping

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, missing, pre_load, validate

from shared.errors import ApiError, problem
from shared.i18n import LANGUAGES

#: URL-friendly identifiers of events and publications
SLUG = validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error=problem("invalid_slug", "Lower-case letters, digits and dashes."))


#: what the honeypot field (people never see it, bots fill it in) says when filled
HONEYPOT_FILLED = problem("honeypot", "Leave this field empty.")

#: Characters no text we store may hold: NUL and the other C0 controls except tab, line
#: feed and carriage return (a textarea sends those), DEL, and lone UTF-16 surrogates (JSON
#: can spell them, no database or spreadsheet can store them).
FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
FORBIDDEN_MESSAGE = problem("forbidden_character", "Contains a control character or an invalid one (NUL, lone surrogate…).")
#: characters of one line of text: line breaks and tabs belong in multi-line fields only
LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029]")
#: the largest id a path or query may name (the databases' 32-bit integer keys)
MAX_ID = 2**31 - 1


def forbidden_text(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Where `data` (JSON-like: dicts, lists, strings) holds a forbidden character:
    `{"answers.diet": [message]}`, the field of a faulty key being its parent's. Empty when
    all is well. Iterative, so any depth of nesting is walked without recursion."""
    errors: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [(prefix, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if FORBIDDEN_CHARACTERS.search(value):
                errors[path or "body"] = [FORBIDDEN_MESSAGE]
        elif isinstance(value, Mapping):
            for key, item in value.items():
                key = str(key)
                if FORBIDDEN_CHARACTERS.search(key):
                    errors[path or "body"] = [FORBIDDEN_MESSAGE]
                    continue
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value))
    return errors


class StrictSchema(Schema):
    """Unknown fields are an error that names them, never silently dropped; no text holds
    a forbidden character (FORBIDDEN_CHARACTERS), whatever field or depth it is in."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _refuse_forbidden_text(self, data: Any, **kwargs: Any) -> Any:
        errors = forbidden_text(data)
        if errors:
            raise ValidationError(errors)
        return data


class Changes:
    """Mixin of every PATCH body's schema: a PATCH without a body, or with `{}`, would change
    nothing, so it is a 400 naming `body` instead of a silent 200. (Loaded after the staff
    check, so an anonymous caller still gets 401.)"""

    @pre_load
    def _refuse_no_change(self, data: Any, **kwargs: Any) -> Any:
        if data is missing or data is None or data == {}:
            raise ApiError(problem("nothing_to_change", "Nothing to change: send the fields to change as a JSON object."),
                           {"body": [problem("nothing_to_change", "Name at least one field to change.")]})
        return data


#: a required text must say something: documents and lists print it
NOT_BLANK = validate.Regexp(r"\s*\S", error=problem("blank", "Must not be blank."))


def one_line(value: str | None) -> None:
    """Validator: a name, a city… is one line of text."""
    if value is not None and LINE_BREAKS.search(value):
        raise ValidationError(problem("not_one_line", "Must be one line, without tabs or line breaks."))


class Email(fields.Email):
    """An email address; the spaces pasted around it are trimmed, not refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        return super()._deserialize(value.strip() if isinstance(value, str) else value, attr, data, **kwargs)


class Id(fields.Integer):
    """A record's id in a query (a path uses the `int` URL converter of shared.web)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def is_country_code(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


def country_code(value: str | None) -> None:
    """Validator: an ISO 3166-1 alpha-2 code (None passes; `required` decides about it)."""
    if value is not None and not is_country_code(value):
        raise ValidationError(problem("invalid_country", "Choose a country from the list."))


def texts(value: dict) -> None:
    """Validator: texts keyed by our language codes."""
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise ValidationError(problem("unknown_language", "Unknown language(s): %(languages)s.", languages=", ".join(sorted(unknown))))


def titles(value: dict) -> None:
    """Validator: texts keyed by our languages, with at least an English or French one."""
    texts(value)
    if not (value.get("en") or value.get("fr")):
        raise ValidationError(problem("title_required", "Give at least an English or French title."))
