"""JSON errors with stable codes, in the request's language.

Every refusal answers
`{"errors": {"<field>": ["message", ...]}, "codes": {"<field>": ["code", ...]}, "message": "...", "code": "..."}`:
`errors` and `message` keep the shape of version 1 (texts, now translated from `?lang=`,
then `Accept-Language`), and `codes` runs parallel to `errors` (same fields, same order)
with a stable code per message, e.g. `not_member`, `event_full`, `required`. Clients
decide on codes, never on the wording.

Operations and our validators raise `Problem`s (`problem("event_closed", "Registration
... is closed.")`): English text with a code, translated when answered. Marshmallow's own
messages get their code and translation from `KNOWN`.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields
from werkzeug.exceptions import HTTPException

from shared.i18n import N_, translate, translate_plural, request_language


class Problem(str):
    """An error text: English as a `str` (logs, tests, old callers), with its stable `code`;
    `text` (a catalogue msgid with `%(name)s` placeholders) and `values` translate it."""

    code: str
    text: str
    values: dict[str, Any]
    plural: str | None = None

    def __new__(cls, code: str, text: str, **values: Any) -> Problem:
        self = super().__new__(cls, text % values if values else text)
        self.code, self.text, self.values = code, text, values
        return self

    def translated(self, language: str) -> str:
        if self.plural is not None:
            return translate_plural(language, self.text, self.plural, self.values["num"], **self.values)
        return translate(language, self.text, **self.values)

    def format(self, *args: Any, **kwargs: Any) -> Problem:  # type: ignore[override]
        """Itself: marshmallow's validators format their `error=` text, and ours have no
        `{...}` placeholders, so a Problem given as `error=` comes out whole, code included."""
        return self


problem = Problem


def plural_problem(code: str, singular: str, plural: str, num: int, **values: Any) -> Problem:
    """A Problem whose wording depends on the number `num` (`%(num)d` in the texts)."""
    self = Problem(code, singular if num == 1 else plural, num=num, **values)
    self.text, self.plural = singular, plural
    return self


def current_status(status: str) -> Problem:
    """The field error of a refused state change: the current status (a code, e.g. `waitlisted`)."""
    return problem("status_is", "Current status: %(status)s.", status=status)

#: Marshmallow's own messages: (code, message as marshmallow writes it, msgid).
#: `{name}` in a message matches any text and fills `%(name)s` in the msgid.
KNOWN: tuple[tuple[str, str, str], ...] = (
    ("required", "Missing data for required field.", N_("This field is required.")),
    ("required", "Field may not be null.", N_("This field is required.")),
    ("invalid_email", "Not a valid email address.", N_("Enter an email address like name@example.org.")),
    ("too_long", "Longer than maximum length {max}.", N_("At most %(max)s characters.")),
    ("too_short", "Shorter than minimum length {min}.", N_("At least %(min)s characters.")),
    ("length", "Length must be between {min} and {max}.", N_("Between %(min)s and %(max)s characters.")),
    ("not_a_choice", "Must be one of: {choices}.", N_("Choose one of the options.")),
    # before too_small, whose `{min}` would match "1 and less than or equal to 1000"
    ("out_of_range", "Must be greater than or equal to {min} and less than or equal to {max}.",
     N_("Between %(min)s and %(max)s.")),
    ("too_small", "Must be greater than or equal to {min}.", N_("At least %(min)s.")),
    ("too_large", "Must be less than or equal to {max}.", N_("At most %(max)s.")),
    ("invalid_date", "Not a valid date.", N_("Enter a date like 2026-05-31.")),
    ("invalid_date", "Not a valid date (YYYY-MM-DD).", N_("Enter a date like 2026-05-31.")),
    ("invalid_datetime", "Not a valid datetime.", N_("Enter a date and time like 2026-05-31T14:00:00+02:00.")),
    ("invalid_datetime", "Not a valid aware datetime.", N_("Enter a date and time like 2026-05-31T14:00:00+02:00.")),
    ("invalid_url", "Not a valid URL.", N_("Enter a web address like https://example.org.")),
    ("invalid", "Not a valid string.", N_("Enter a text.")),
    ("invalid", "Not a valid integer.", N_("Enter a whole number.")),
    ("invalid", "Not a valid number.", N_("Enter a number.")),
    ("invalid", "Not a valid boolean.", N_("Answer yes or no.")),
    ("invalid", "Not a valid mapping type.", N_("Expected an object.")),
    ("invalid", "Not a valid list.", N_("Expected a list.")),
    ("invalid", "Invalid input type.", N_("This value has the wrong type.")),
    ("invalid", "Invalid value.", N_("This value is not valid.")),
    ("invalid", "Invalid input.", N_("This value is not valid.")),
    ("invalid", "Invalid type.", N_("This value has the wrong type.")),
    ("invalid", "String does not match expected pattern.", N_("This value has the wrong format.")),
    ("unknown_field", "Unknown field.", N_("Unknown field.")),
)


def _pattern(message: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(message)) + "$")


_KNOWN = tuple((code, _pattern(message), text) for code, message, text in KNOWN)


def described(message: str) -> Problem:
    """`message` as a Problem: itself, one of KNOWN, or (wording of its own) `invalid`."""
    if isinstance(message, Problem):
        return message
    for code, pattern, text in _KNOWN:
        found = pattern.match(message)
        if found:
            return Problem(code, text, **found.groupdict())
    return Problem("invalid", "%(message)s", message=str(message))


class ApiError(Exception):
    """A refusal the caller can act on; raised by operations, answered by the web layer."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        if status is not None:
            self.status = status
        if isinstance(message, Problem):
            self.code = message.code


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The request is valid but not allowed in the current state (409)."""

    status = 409
    code = "conflict"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


def flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested errors into `{"lines.0.copies": [...]}`."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if key == "_schema":
                name = prefix or "body"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten(value, name))
        return flat
    if isinstance(errors, list) and all(isinstance(item, str) for item in errors):
        return {prefix or "body": list(errors)}
    if isinstance(errors, list):
        flat = {}
        for item in errors:
            flat.update(flatten(item, prefix))
        return flat
    return {prefix or "body": [str(errors)]}


def translated(errors: dict[str, list[str]], language: str) -> dict[str, list[str]]:
    """Each field's messages in `language` (for pages showing them next to their fields)."""
    return {name: [described(message).translated(language) for message in messages] for name, messages in errors.items()}


def error_body(message: str, errors: dict[str, list[str]] | None = None, code: str | None = None,
               language: str | None = None) -> dict[str, Any]:
    """The JSON of a refusal (see the module's docstring) in `language` (default: the request's)."""
    language = language or request_language()
    problems = {name: [described(text) for text in texts] for name, texts in (errors or {}).items()}
    top = described(message)
    return {
        "errors": {name: [item.translated(language) for item in items] for name, items in problems.items()},
        "codes": {name: [item.code for item in items] for name, items in problems.items()},
        "message": top.translated(language),
        "code": code or top.code,
    }


class ErrorSchema(Schema):
    """The JSON of every refusal, for the OpenAPI document (see the module's docstring)."""

    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "messages per faulty field, in the request's language (?lang=, Accept-Language)"})
    codes = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                        metadata={"description": "a stable code per message of `errors`, same fields, same order"})
    message = fields.String(metadata={"description": "what went wrong, in the request's language"})
    code = fields.String(metadata={"description": "stable code of the refusal, e.g. members_only, event_full, invalid_fields"})


def error_response(status: int, message: str, errors: dict[str, list[str]] | None = None,
                   code: str | None = None) -> ResponseReturnValue:
    return jsonify(error_body(message, errors, code)), status


INVALID_FIELDS = Problem("invalid_fields", N_("Some fields are invalid."))


def _webargs_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """webargs nests errors under their location (`json`, `query`); callers only care for the field."""
    messages = data.get("errors") or data.get("messages") or {}
    merged: dict[str, Any] = {}
    for location in ("json", "query", "form", "files", "view_args"):
        if isinstance(messages.get(location), dict):
            merged.update(messages[location])
    return flatten(merged or messages)


_HTTP_CODES = {400: "bad_request", 401: "unauthorised", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_fields",
               429: "too_many_requests"}


def handle_http_exception(error: HTTPException) -> ResponseReturnValue:
    data = getattr(error, "data", None) or {}
    errors = _webargs_errors(data) if data else {}
    message = data.get("message") or (INVALID_FIELDS if error.code == 422 else (error.description or error.name))
    response = error_response(error.code or 500, message, errors, code=_HTTP_CODES.get(error.code or 500, "error"))
    # the exception's own headers (a 405's Allow, a 401's WWW-Authenticate), then webargs'
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    for name, value in [*headers, *(data.get("headers") or {}).items()]:
        response[0].headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> ResponseReturnValue:
        return error_response(error.status, error.message, error.errors, code=error.code)

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError) -> ResponseReturnValue:
        return error_response(422, INVALID_FIELDS, flatten(error.messages))

    app.register_error_handler(HTTPException, handle_http_exception)
