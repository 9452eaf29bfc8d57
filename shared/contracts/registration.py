"""Messages emitted by the registration service (version 1), and the registration statuses
they carry (the service's model declares its column with them)."""
from marshmallow import Schema, fields, validate

from shared.i18n import LANGUAGES

PENDING, CONFIRMED, WAITLISTED, CANCELLED, ATTENDED = "pending", "confirmed", "waitlisted", "cancelled", "attended"
#: moderated events: waiting for staff to approve the registration, or refused by them
PENDING_APPROVAL, REJECTED = "pending_approval", "rejected"
REGISTRATION_STATUSES = (PENDING, PENDING_APPROVAL, CONFIRMED, WAITLISTED, CANCELLED, REJECTED, ATTENDED)
#: statuses that end a registration: the email may register again
ENDED = (CANCELLED, REJECTED)
#: statuses that hold a seat: only these ever get the join link of a web conference
SEATED = (CONFIRMED, ATTENDED)


class Person(Schema):
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    email = fields.Email(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class EventSummary(Schema):
    slug = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    #: texts per language, like the title (messages written before it was added have none)
    description = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    starts_at = fields.String(required=True)
    ends_at = fields.String(required=True)
    timezone = fields.String(required=True)
    venue = fields.String(allow_none=True, load_default=None)
    online = fields.Boolean(required=True)
    # Only ever filled for confirmed registrants of a web conference.
    join_url = fields.String(allow_none=True, load_default=None)


class RegistrationMessage(Schema):
    registration_id = fields.String(required=True)
    status = fields.String(required=True)
    person = fields.Nested(Person, required=True)
    event = fields.Nested(EventSummary, required=True)
    manage_url = fields.String(required=True)
    verify_url = fields.String(allow_none=True, load_default=None)
    #: what the QR code of a confirmed registrant's ticket holds (events in a room only)
    ticket = fields.String(allow_none=True, load_default=None)
    #: grows by one with each change of the registration the person is told about (0 in
    #: messages written before it was added); orders the versions of their calendar entry
    revision = fields.Integer(load_default=0)


class DecisionMessage(RegistrationMessage):
    """Staff approved or rejected a registration for a moderated event."""

    #: what staff wrote to the person about their decision, if anything
    reason = fields.String(allow_none=True, load_default=None)


class GroupParticipant(Schema):
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    status = fields.String(required=True)


class GroupMessage(Schema):
    """A contact registered a group: their own summary, with the link of the group's page
    (each participant gets their own registration messages)."""

    group_id = fields.String(required=True)
    person = fields.Nested(Person, required=True)
    event = fields.Nested(EventSummary, required=True)
    manage_url = fields.String(required=True)
    participants = fields.List(fields.Nested(GroupParticipant), required=True)


class EventMessage(RegistrationMessage):
    """A staff message to one registrant of an event."""

    subject = fields.String(required=True)
    body = fields.String(required=True)


class CertificateIssued(RegistrationMessage):
    """The attendance certificate of one person, to email with the PDF attached."""

    certificate_number = fields.String(required=True)


class EventScheduled(Schema):
    """An event's dates were set or changed: the notify service (re)plans its reminders."""

    event = fields.Nested(EventSummary, required=True)
    cancelled = fields.Boolean(load_default=False)


class PersonErased(Schema):
    """A person asked to be forgotten: services holding copies of their data erase them too."""

    email = fields.Email(required=True)
    #: the public ids of the registrations that were anonymised
    registration_ids = fields.List(fields.String(), required=True)
