"""The back office's forms, read with WTForms: each field's type, its clean-up (trimmed,
lower-cased) and its several values. The rules stay in the service's marshmallow schemas,
which its API applies too (one place per rule). The CSRF token is checked for every POST of
the back office at once (`__init__.py`), so these forms carry none of their own.
"""
from __future__ import annotations

from typing import Any

from wtforms import Form, PasswordField, SelectMultipleField, StringField, TextAreaField

from services.registration.models import ENDED, STATUSES


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lower_case(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class LoginForm(Form):
    email = StringField(filters=[_trimmed, _lower_case])
    password = PasswordField()


class MessageForm(Form):
    """A message to the registrants of an event (validated by schemas.MessageIn, as in the API)."""

    subject = StringField(filters=[_trimmed])
    body = TextAreaField(filters=[_trimmed])
    #: whom to send it to; MessageIn refuses a status that does not exist
    statuses = SelectMultipleField(choices=[status for status in STATUSES if status not in ENDED], validate_choice=False)

    def payload(self) -> dict[str, Any]:
        return {"subject": self.subject.data or "", "body": self.body.data or "", "statuses": self.statuses.data or []}


class DecisionForm(Form):
    """Staff approve or reject registrations of a moderated event (schemas.DecisionsIn, as in the API)."""

    decision = StringField()
    #: registration numbers: one row's button, or the boxes ticked in the list
    numbers = SelectMultipleField(validate_choice=False)
    reason = TextAreaField(filters=[_trimmed])

    def payload(self) -> dict[str, Any]:
        numbers = [int(number) if number.isdigit() else number for number in self.numbers.data or []]
        return {"decision": self.decision.data or "", "numbers": numbers, "reason": self.reason.data or None}
