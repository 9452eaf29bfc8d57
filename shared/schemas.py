"""Validation pieces both services' marshmallow schemas use."""
from __future__ import annotations

import pycountry
from marshmallow import RAISE, Schema, ValidationError, validate

from shared.contracts.registration import LANGUAGES

#: URL-friendly identifiers of events and publications
SLUG = validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="Lower-case letters, digits and dashes.")


class StrictSchema(Schema):
    """Unknown fields are an error that names them, never silently dropped."""

    class Meta:
        unknown = RAISE


def is_country_code(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


def country_code(value: str | None) -> None:
    """Validator: an ISO 3166-1 alpha-2 code (None passes; `required` decides about it)."""
    if value is not None and not is_country_code(value):
        raise ValidationError("Not an ISO 3166-1 alpha-2 country code.")


def texts(value: dict) -> None:
    """Validator: texts keyed by our language codes."""
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise ValidationError(f"Unknown language(s): {', '.join(sorted(unknown))}.")


def titles(value: dict) -> None:
    """Validator: texts keyed by our languages, with at least an English or French one."""
    texts(value)
    if not (value.get("en") or value.get("fr")):
        raise ValidationError("Give at least an English or French title.")
