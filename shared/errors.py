"""JSON errors as in API.md: `{"errors": {"<field>": ["message", ...]}, "message": "..."}`."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """A refusal the caller can act on; raised by operations, answered by the web layer."""

    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        if status is not None:
            self.status = status


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    """The request is valid but not allowed in the current state (409)."""

    status = 409


class Forbidden(ApiError):
    status = 403


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


def error_response(status: int, message: str, errors: dict[str, list[str]] | None = None) -> ResponseReturnValue:
    return jsonify({"errors": errors or {}, "message": message}), status


def _webargs_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """webargs nests errors under their location (`json`, `query`); callers only care for the field."""
    messages = data.get("errors") or data.get("messages") or {}
    merged: dict[str, Any] = {}
    for location in ("json", "query", "form", "files", "view_args"):
        if isinstance(messages.get(location), dict):
            merged.update(messages[location])
    return flatten(merged or messages)


def handle_http_exception(error: HTTPException) -> ResponseReturnValue:
    data = getattr(error, "data", None) or {}
    errors = _webargs_errors(data) if data else {}
    message = data.get("message") or (
        "Some fields are invalid." if error.code == 422 else (error.description or error.name)
    )
    response = error_response(error.code or 500, message, errors)
    for name, value in (data.get("headers") or {}).items():
        response[0].headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> ResponseReturnValue:
        return error_response(error.status, error.message, error.errors)

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError) -> ResponseReturnValue:
        return error_response(422, "Some fields are invalid.", flatten(error.messages))

    app.register_error_handler(HTTPException, handle_http_exception)
