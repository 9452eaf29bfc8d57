"""Marshmallow schemas: they validate input, shape output and make the OpenAPI document."""
from __future__ import annotations

from zoneinfo import available_timezones

from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.registration.forms import clean_answers
from services.registration.models import ATTENDED, CONFIRMED, EVENT_KINDS, SEATED, STATUSES, WAITLISTED, Event
from shared.i18n import LANGUAGES
from shared.db import db
from shared.errors import problem
from shared.schemas import HONEYPOT_FILLED, NOT_BLANK, SLUG, Changes, Email, StrictSchema, country_code, one_line, texts, titles

TIMEZONES = frozenset(available_timezones())


def _texts(value: dict) -> None:
    texts(value)
    if any(len(text) > 20000 for text in value.values()):
        raise ValidationError(problem("too_long", "At most %(max)s characters.", max=20000))


class Texts(fields.Dict):
    """Text per language, e.g. {"en": "...", "fr": "..."}."""

    def __init__(self, validate: list | None = None, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), validate=[_texts, *(validate or [])], **kwargs)


class EventIn(StrictSchema):
    slug = fields.String(required=True, validate=SLUG)
    kind = fields.String(required=True, validate=validate.OneOf(EVENT_KINDS))
    title = Texts(required=True, validate=[titles])
    description = Texts(load_default=dict)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True, validate=validate.OneOf(TIMEZONES, error=problem("invalid_timezone", "Not an IANA time zone name.")))
    venue = fields.String(allow_none=True, validate=validate.Length(max=300))
    join_url = fields.Url(allow_none=True, validate=validate.Length(max=500))
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100000))
    registration_opens_at = fields.AwareDateTime(allow_none=True)
    registration_closes_at = fields.AwareDateTime(allow_none=True)
    members_only = fields.Boolean()
    max_per_organisation = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=1000))
    double_opt_in = fields.Boolean()
    requires_approval = fields.Boolean(metadata={"description": "moderated: staff approve each registration before it takes a place"})
    extra_fields = fields.List(fields.Dict(), validate=validate.Length(max=30))
    published = fields.Boolean()


class EventPatch(Changes, EventIn):
    """Staff changes: any field of EventIn (loaded with `partial=True`)."""


class EventOut(Schema):
    """What the public sees: never the join link."""

    slug = fields.String()
    kind = fields.String()
    title = fields.Dict()
    description = fields.Dict()
    starts_at = fields.Method("_starts_at")
    ends_at = fields.Method("_ends_at")
    timezone = fields.String()
    venue = fields.String(allow_none=True)
    online = fields.Boolean()
    capacity = fields.Integer(allow_none=True)
    registration_opens_at = fields.AwareDateTime(allow_none=True)
    registration_closes_at = fields.AwareDateTime(allow_none=True)
    members_only = fields.Boolean()
    max_per_organisation = fields.Integer(allow_none=True)
    double_opt_in = fields.Boolean()
    requires_approval = fields.Boolean()
    extra_fields = fields.List(fields.Dict())
    published = fields.Boolean()

    def _starts_at(self, event) -> str:
        from services.registration.operations import local_iso

        return local_iso(event.starts_at, event.timezone)

    def _ends_at(self, event) -> str:
        from services.registration.operations import local_iso

        return local_iso(event.ends_at, event.timezone)


class EventStaffOut(EventOut):
    join_url = fields.String(allow_none=True)
    seats_taken = fields.Integer()
    waitlisted = fields.Integer()


class EventQuery(StrictSchema):
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))
    lang = fields.String(validate=validate.OneOf(LANGUAGES))
    past = fields.Boolean(load_default=False)


class FormQuery(StrictSchema):
    lang = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


#: the person's name as lists, badges and certificates print it
NAME = [validate.Length(min=1, max=100), NOT_BLANK, one_line]


class ParticipantIn(StrictSchema):
    """One person to register: themself (RegistrationIn), or a participant of a group."""

    first_name = fields.String(required=True, validate=NAME)
    last_name = fields.String(required=True, validate=NAME)
    email = Email(required=True, validate=validate.Length(max=254))
    organisation = fields.String(allow_none=True, validate=[validate.Length(max=200), one_line])
    position = fields.String(allow_none=True, validate=[validate.Length(max=200), one_line])
    city = fields.String(allow_none=True, validate=[validate.Length(max=100), one_line])
    country = fields.String(allow_none=True, validate=country_code)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=50)), load_default=dict)


def _consent() -> fields.Boolean:
    return fields.Boolean(required=True, validate=validate.Equal(True, error=problem("consent_required", "Please tick this box to register.")))


def _honeypot() -> fields.String:
    """People never see it, bots fill it in."""
    return fields.String(load_default="", validate=validate.Length(max=0, error=HONEYPOT_FILLED))


class RegistrationIn(ParticipantIn):
    consent = _consent()
    website = _honeypot()

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        """Add the extra answers' errors to those of the standard fields, so a person
        corrects everything in one round. (When the standard fields pass, the registration
        itself checks the answers: this costs a query only on refused input.)"""
        slug = (request.view_args or {}).get("slug") if has_request_context() else None
        answers = data.get("answers", {}) if isinstance(data, dict) else None
        if not slug or not isinstance(answers, dict) or "answers" in error.messages:
            return
        definitions = db.session.scalar(sa.select(Event.extra_fields).where(Event.slug == slug))
        try:
            clean_answers(definitions or [], answers)
        except ValidationError as answer_error:
            raise ValidationError({**error.messages, **answer_error.messages}) from None


class GroupContactIn(StrictSchema):
    """Who registers the group: they get its page, and need not take part themself."""

    first_name = fields.String(required=True, validate=NAME)
    last_name = fields.String(required=True, validate=NAME)
    email = Email(required=True, validate=validate.Length(max=254))
    organisation = fields.String(allow_none=True, validate=[validate.Length(max=200), one_line])
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


#: most participants one submission may register
GROUP_MAX = 50


def _distinct_emails(participants: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    twice = {}
    for index, participant in enumerate(participants):
        email = participant["email"].strip().lower()
        if email in seen:
            twice[index] = {"email": [problem("listed_twice_email", "This address is already listed for another participant.")]}
        seen.add(email)
    if twice:
        raise ValidationError(twice)


class GroupIn(StrictSchema):
    contact = fields.Nested(GroupContactIn, required=True)
    participants = fields.List(fields.Nested(ParticipantIn), required=True,
                               validate=[validate.Length(min=1, max=GROUP_MAX), lambda participants: _distinct_emails(participants)])
    consent = _consent()
    website = _honeypot()


class GroupParticipantOut(Schema):
    id = fields.String(attribute="public_id")
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String()
    status = fields.String()
    waitlist_position = fields.Integer(allow_none=True)
    already_registered = fields.Boolean(metadata={"description": "the address was registered before: its own registration, not the group's"})
    reason = fields.Dict(allow_none=True, metadata={"description": "why this participant is not confirmed (code and message), else null"})


class GroupOut(Schema):
    """A group and where each of its participants stands."""

    id = fields.String(attribute="public_id")
    manage_url = fields.String(metadata={"description": "the group's page, for its contact (only in the answer that created it)"})
    event = fields.String(attribute="event.slug")
    participants = fields.List(fields.Nested(GroupParticipantOut))


class RegistrationPatch(Changes, StrictSchema):
    first_name = fields.String(validate=NAME)
    last_name = fields.String(validate=NAME)
    organisation = fields.String(allow_none=True, validate=[validate.Length(max=200), one_line])
    position = fields.String(allow_none=True, validate=[validate.Length(max=200), one_line])
    city = fields.String(allow_none=True, validate=[validate.Length(max=100), one_line])
    country = fields.String(allow_none=True, validate=country_code)
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=50)))


class RegistrationCreated(Schema):
    id = fields.String(attribute="public_id")
    status = fields.String()
    manage_url = fields.String()


class RegistrationOut(Schema):
    """What the registrant sees through the self-service link."""

    id = fields.String(attribute="public_id")
    status = fields.String()
    event = fields.Method("_event")
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String()
    organisation = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    language = fields.String()
    answers = fields.Dict()
    consent_version = fields.String()
    consented_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    waitlist_position = fields.Integer(allow_none=True)

    def _event(self, registration) -> dict:
        from services.registration.operations import event_summary

        return event_summary(registration.event, with_join_url=registration.status in SEATED)


class RegistrationStaffOut(RegistrationOut):
    """One row of an event's participant list (the event itself is not repeated in each)."""

    class Meta:
        exclude = ("event",)

    number = fields.Integer(attribute="id")
    member_organisation = fields.Function(lambda r: r.member_organisation.name if r.member_organisation else None)
    queued_at = fields.AwareDateTime()
    confirmed_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    checked_in_at = fields.AwareDateTime(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)


class RegistrationListQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    q = fields.String(validate=validate.Length(max=100))


class MessageIn(StrictSchema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    statuses = fields.List(fields.String(validate=validate.OneOf(STATUSES)), load_default=lambda: [CONFIRMED, WAITLISTED, ATTENDED])


def _distinct(numbers: list[int]) -> None:
    if len(set(numbers)) != len(numbers):
        raise ValidationError(problem("listed_twice", "Each registration may be listed once."))


def _reason() -> fields.String:
    """What staff may write to a person about the decision on their registration."""
    return fields.String(allow_none=True, validate=validate.Length(max=2000),
                         metadata={"description": "goes into the person's email, as written"})


class DecisionIn(StrictSchema):
    """Approve or reject one registration of a moderated event."""

    reason = _reason()


class DecisionsIn(StrictSchema):
    """Approve or reject several registrations of a moderated event at once: all or none."""

    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    numbers = fields.List(fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)), required=True,
                          validate=[validate.Length(min=1, max=500), lambda numbers: _distinct(numbers)])
    reason = _reason()


class MemberIn(StrictSchema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK, one_line])
    country = fields.String(required=True, validate=country_code)
    domains = fields.List(fields.String(validate=validate.Length(min=3, max=253)), load_default=list)
    addresses = fields.List(Email(), load_default=list)


class MemberOut(Schema):
    id = fields.Integer()
    name = fields.String()
    country = fields.String()
    active = fields.Boolean()
    domains = fields.Function(lambda o: [d.domain for d in o.domains])
    addresses = fields.Function(lambda o: [a.email for a in o.addresses])


class LookupQuery(StrictSchema):
    email = Email(required=True)


class LookupOut(Schema):
    member = fields.Boolean()
    organisation = fields.Dict(allow_none=True)


class ImportQuery(StrictSchema):
    dry_run = fields.Boolean(load_default=False)


class CheckInIn(StrictSchema):
    """At the door: the ticket's QR code as scanned, or the registration's number (search by name)."""

    ticket = fields.String(validate=validate.Length(min=1, max=200))
    number = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    #: check in before the event's day (refused without it: `check_in_not_open`)
    override = fields.Boolean(load_default=False)

    @validates_schema
    def _one_of_them(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("ticket" in data) == ("number" in data):
            raise ValidationError(problem("ticket_or_number", "Give either the ticket or the registration number."), "ticket")


class AttendeeOut(Schema):
    """What the door sees of a person."""

    number = fields.Integer()
    ticket_id = fields.String(metadata={"description": "the public id a ticket's QR code starts with"})
    first_name = fields.String()
    last_name = fields.String()
    organisation = fields.String(allow_none=True)
    status = fields.String()
    checked_in_at = fields.String(allow_none=True)


class ChoiceOut(Schema):
    value = fields.String()
    label = fields.String()


class FormFieldOut(Schema):
    """One field of the form as the widget renders it."""

    name = fields.String(metadata={"description": "the submission's key; `answers.<name>` for an event's own questions"})
    type = fields.String(metadata={"description": "text, textarea, email, date, select, country, checkbox…"})
    required = fields.Boolean()
    label = fields.String(metadata={"description": "in the requested language"})
    max_length = fields.Integer(allow_none=True)
    choices = fields.List(fields.Nested(ChoiceOut), metadata={"description": "for select and country fields"})


class FormOut(Schema):
    """`GET /events/{slug}/form`: what the embedded widget needs to render the form."""

    fields_ = fields.List(fields.Nested(FormFieldOut), data_key="fields", attribute="fields")
    consent_version = fields.String()
    submit_url = fields.String()
    language = fields.String()
    event = fields.Nested(EventOut)
    when = fields.String(metadata={"description": "the event's dates in its time zone, in the requested language"})
    closed_reason = fields.String(allow_none=True, metadata={"description": "why registration is not possible now; null when it is"})
    closed_code = fields.String(allow_none=True)
    full = fields.Boolean()


class PersonalRegistrationOut(Schema):
    event = fields.String()
    event_title = fields.Dict(keys=fields.String(), values=fields.String())
    status = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    organisation = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    language = fields.String()
    answers = fields.Dict()
    consent_version = fields.String(allow_none=True)
    consented_at = fields.String()
    created_at = fields.String()
    checked_in_at = fields.String(allow_none=True)


class PersonalGroupOut(Schema):
    """A group the person registered as its contact."""

    event = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    organisation = fields.String(allow_none=True)
    language = fields.String()
    created_at = fields.String()


class PersonalDataOut(Schema):
    """Everything stored about a person (an access request's answer)."""

    email = fields.String()
    registrations = fields.List(fields.Nested(PersonalRegistrationOut))
    groups = fields.List(fields.Nested(PersonalGroupOut))


class ErasedOut(Schema):
    anonymised = fields.Integer(metadata={"description": "registrations anonymised"})


class StaffMeOut(Schema):
    """The staff account behind the token, as it is now (what the other services ask)."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()
