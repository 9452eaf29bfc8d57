"""The back office's forms, read with WTForms: each field's type, its clean-up (trimmed,
lower-cased, empty as None), its several values and rows, and the refusals of what cannot
be read as that type. The rules stay in the services' marshmallow schemas, which their APIs
apply too (one place per rule): a form hands over `payload()`, and `refuse()` puts the
service's refusals next to the fields they name. The CSRF token is checked for every POST
of the back office at once (`__init__.py`), so these forms carry none of their own.

Every message a form gives is a msgid of the `backoffice` catalogue (`N_`), put in the
page's language by `check()`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField, DateTimeLocalField, Field, FieldList, FileField, Form, FormField, IntegerField, PasswordField,
    SelectField, SelectMultipleField, StringField, TextAreaField, ValidationError,
)
from wtforms.validators import InputRequired, Optional, StopValidation

from services.registration.backoffice.i18n import gettext as _
from services.registration.forms import EXTRA_FIELD_TYPES
from services.registration.models import ENDED, EVENT_KINDS, STATUSES
from shared.i18n import LANGUAGES, N_

#: what a new event's dates are local to, when the form leaves the time zone empty
DEFAULT_TIMEZONE = "Europe/Brussels"
#: the publications one order form takes
ORDER_LINES = 3
#: what `<input type="datetime-local">` sends (with seconds when the browser's step asks for them)
LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lower_case(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _none_if_empty(value: Any) -> Any:
    return value or None


class _SaysWhyNot:
    """A field whose text cannot be read as its type is refused with `refusal` (a msgid)
    instead of WTForms' own English message."""

    def __init__(self, *args: Any, refusal: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refusal = refusal

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)  # type: ignore[misc]
        except ValueError as error:
            raise ValueError(self.refusal) from error


class WholeNumberField(_SaysWhyNot, IntegerField):
    """A whole number (the service's schema says which are allowed)."""


class LocalTimeField(_SaysWhyNot, DateTimeLocalField):
    """A date and time as `<input type="datetime-local">` sends it (no time zone)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, format=LOCAL_TIME_FORMATS, refusal=N_("Enter a date and time."), **kwargs)


class BackOfficeForm(Form):
    """A form whose page shows each refusal next to its input: the form's own (`check()`)
    and the service's (`refuse()`)."""

    def check(self) -> bool:
        """Validate; each field's messages then in the page's language. True when all is readable."""
        valid = self.validate()
        for field in self.inputs().values():
            field.errors = [_(message) for message in field.errors]
        self.form_errors = [_(message) for message in self.form_errors]
        return valid

    def inputs(self) -> dict[str, Field]:
        """Every input of the form by its name (`title_fr`, `extra_0_name`, `lines_1_copies`)."""
        return dict(_inputs(self))

    def refuse(self, errors: dict[str, list[str]]) -> None:
        """Put a service's refusals (`{input name: messages}`) next to their inputs, unless
        the form already refused what was typed there; any other name's above the form."""
        inputs = self.inputs()
        for name, messages in errors.items():
            field = inputs.get(name)
            if field is None:
                self.form_errors.extend(messages)
            elif not field.errors:
                field.errors = list(messages)

    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(field.errors for field in self.inputs().values())


def _inputs(form: Form) -> Iterator[tuple[str, Field]]:
    for field in form:
        if isinstance(field, FormField):
            yield from _inputs(field.form)
        elif isinstance(field, FieldList):
            for entry in field:
                yield from _inputs(entry.form)
        else:
            yield field.name, field


# --- login and message --------------------------------------------------------------------

class LoginForm(Form):
    email = StringField(filters=[_trimmed, _lower_case])
    password = PasswordField()


class MessageForm(BackOfficeForm):
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


# --- event -----------------------------------------------------------------------------------

class TextsForm(Form):
    """One text per language (`title_en`, `title_fr`…), made by `_texts_form`."""

    def texts(self) -> dict[str, str]:
        """The texts given; the empty ones are left out."""
        return {lang: self[lang].data for lang in LANGUAGES if self[lang].data}


def _texts_form(field: type[Field]) -> type[TextsForm]:
    return type(f"Texts{field.__name__}", (TextsForm,), {lang: field(filters=[_trimmed]) for lang in LANGUAGES})


LineTexts = _texts_form(StringField)
ParagraphTexts = _texts_form(TextAreaField)


class ExtraFieldForm(Form):
    """One row of the event's extra form fields (a question asked at registration)."""

    name = StringField(filters=[_trimmed])
    #: registration/forms.py refuses an unknown type
    type = SelectField(choices=list(EXTRA_FIELD_TYPES), validate_choice=False, default="text")
    label = FormField(LineTexts, separator="_")
    #: one choice per line (type "select")
    choices = TextAreaField()
    required = BooleanField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type.choices = [(kind, _(kind)) for kind in EXTRA_FIELD_TYPES]

    def is_blank(self) -> bool:
        return not self.name.data and not self.label.form.texts()

    def definition(self) -> dict[str, Any]:
        definition: dict[str, Any] = {"name": self.name.data, "type": self.type.data, "required": self.required.data,
                                      "label": self.label.form.texts()}
        if self.type.data == "select":
            definition["choices"] = [line.strip() for line in (self.choices.data or "").splitlines() if line.strip()]
        return definition


class EventForm(BackOfficeForm):
    """An event, created or edited (validated by schemas.EventIn, as in the API). Its dates
    are typed in the event's own time zone."""

    slug = StringField(filters=[_trimmed])
    #: EventIn refuses an unknown kind
    kind = SelectField(choices=list(EVENT_KINDS), validate_choice=False)
    title = FormField(LineTexts, separator="_")
    description = FormField(ParagraphTexts, separator="_")
    starts_at = LocalTimeField(validators=[InputRequired(N_("Enter a date and time."))])
    ends_at = LocalTimeField(validators=[InputRequired(N_("Enter a date and time."))])
    timezone = StringField(filters=[_trimmed, lambda value: value or DEFAULT_TIMEZONE], default=DEFAULT_TIMEZONE)
    venue = StringField(filters=[_trimmed, _none_if_empty])
    join_url = StringField(filters=[_trimmed, _none_if_empty])
    capacity = WholeNumberField(validators=[Optional()], refusal=N_("Enter a whole number, or leave empty for no limit."))
    max_per_organisation = WholeNumberField(validators=[Optional()], refusal=N_("Enter a whole number, or leave empty for no limit."))
    registration_opens_at = LocalTimeField(validators=[Optional()])
    registration_closes_at = LocalTimeField(validators=[Optional()])
    members_only = BooleanField()
    double_opt_in = BooleanField()
    requires_approval = BooleanField()
    published = BooleanField()
    #: the rows of extra fields; a blank row is left out (emptying a row removes its field)
    extra = FieldList(FormField(ExtraFieldForm, separator="_"), separator="_")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(kind, _(kind)) for kind in EVENT_KINDS]

    def validate_timezone(self, field: Field) -> None:
        try:
            ZoneInfo(field.data)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(N_("Not an IANA time zone name (e.g. Europe/Paris).")) from None

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone.data)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def rows(self) -> list[ExtraFieldForm]:
        """The rows that define a field, in order."""
        return [entry.form for entry in self.extra if not entry.form.is_blank()]

    def payload(self) -> dict[str, Any]:
        """The event as EventIn takes it (dates as aware times)."""
        zone = self.zone()

        def moment(field: Field) -> str | None:
            return field.data.replace(tzinfo=zone).isoformat() if field.data else None

        return {
            "slug": self.slug.data or "", "kind": self.kind.data or "", "title": self.title.form.texts(),
            "description": self.description.form.texts(), "timezone": self.timezone.data, "venue": self.venue.data,
            "join_url": self.join_url.data, "capacity": self.capacity.data, "max_per_organisation": self.max_per_organisation.data,
            "starts_at": moment(self.starts_at), "ends_at": moment(self.ends_at),
            "registration_opens_at": moment(self.registration_opens_at), "registration_closes_at": moment(self.registration_closes_at),
            "members_only": self.members_only.data, "double_opt_in": self.double_opt_in.data,
            "requires_approval": self.requires_approval.data, "published": self.published.data,
            "extra_fields": [row.definition() for row in self.rows()],
        }

    def refuse_event(self, errors: dict[str, list[str]]) -> None:
        """EventIn's and the operations' refusals by their names there: `title.fr` on the
        French title (`title`, no title at all, on the English one), `extra_fields.1` on
        the name of the second row that defines a field."""
        rows = self.rows()
        named: dict[str, list[str]] = {}
        for key, messages in errors.items():
            base, _dot, rest = key.partition(".")
            index = rest.partition(".")[0]
            if base in ("title", "description"):
                key = self[base].form[rest if rest in LANGUAGES else "en"].name
            elif base == "extra_fields" and index.isdigit() and int(index) < len(rows):
                key = rows[int(index)].name.name
            named.setdefault(key, []).extend(messages)
        self.refuse(named)


def event_form_data(event: Any) -> dict[str, Any]:
    """What the event form shows for a stored event (dates in its own time zone)."""
    zone = ZoneInfo(event.timezone)

    def local(moment: dt.datetime | None) -> dt.datetime | None:
        return moment.astimezone(zone).replace(tzinfo=None) if moment else None

    rows = [{**definition, "choices": "\n".join(definition.get("choices", [])), "label": definition.get("label") or {}}
            for definition in event.extra_fields or []]
    return {"slug": event.slug, "kind": event.kind, "title": event.title, "description": event.description or {},
            "timezone": event.timezone, "venue": event.venue, "join_url": event.join_url, "capacity": event.capacity,
            "max_per_organisation": event.max_per_organisation, "starts_at": local(event.starts_at), "ends_at": local(event.ends_at),
            "registration_opens_at": local(event.registration_opens_at), "registration_closes_at": local(event.registration_closes_at),
            "members_only": event.members_only, "double_opt_in": event.double_opt_in, "requires_approval": event.requires_approval,
            "published": event.published, "extra": rows}


# --- order ---------------------------------------------------------------------------------

class OrderLineForm(Form):
    """A publication and its number of copies; both empty, the line is left out."""

    #: the orders API refuses an unknown publication
    publication = SelectField(choices=[], validate_choice=False)
    copies = WholeNumberField(refusal=N_("Enter a number of copies (1 or more)."))

    def is_blank(self) -> bool:
        return not self.publication.data and not (self.copies.raw_data and self.copies.raw_data[0].strip())

    def validate_publication(self, field: Field) -> None:
        if not field.data and not self.is_blank():
            raise ValidationError(N_("Choose the publication."))

    def validate_copies(self, field: Field) -> None:
        if self.is_blank():
            field.errors[:] = []
            raise StopValidation()
        if field.data is None and not field.errors:
            raise ValidationError(N_("Enter a number of copies (1 or more)."))


class OrderForm(BackOfficeForm):
    """An order received by post, email or fax (validated by the orders API's OrderIn)."""

    #: OrderIn refuses an unknown channel or language
    channel = SelectField(choices=[("post", N_("post")), ("email", N_("email")), ("fax", N_("fax"))], validate_choice=False)
    lines = FieldList(FormField(OrderLineForm, separator="_"), separator="_", min_entries=ORDER_LINES, max_entries=ORDER_LINES)
    first_name = StringField(filters=[_trimmed])
    last_name = StringField(filters=[_trimmed])
    organisation = StringField(filters=[_trimmed, _none_if_empty])
    occupation = StringField(filters=[_trimmed, _none_if_empty])
    address = StringField(filters=[_trimmed])
    postcode = StringField(filters=[_trimmed])
    city = StringField(filters=[_trimmed])
    country = StringField(filters=[_trimmed])
    email = StringField(filters=[_trimmed])
    telephone = StringField(filters=[_trimmed, _none_if_empty])
    language = SelectField(choices=[("en", "English"), ("fr", "Français")], validate_choice=False)

    def __init__(self, *args: Any, publications: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel.choices = [(value, _(text)) for value, text in self.channel.choices]
        for line in self.lines:
            line.form.publication.choices = publications

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if all(line.form.is_blank() for line in self.lines):
            self.form_errors.append(N_("Enter at least one publication and its number of copies."))
            return False
        return valid

    def filled_lines(self) -> list[OrderLineForm]:
        return [line.form for line in self.lines if not line.form.is_blank()]

    def payload(self) -> dict[str, Any]:
        """The order as the orders API takes it."""
        lines = [{"publication": line.publication.data, "copies": line.copies.data} for line in self.filled_lines()]
        fields = ("channel", "first_name", "last_name", "organisation", "occupation", "address", "postcode", "city",
                  "country", "email", "telephone", "language")
        return {**{name: self[name].data for name in fields}, "lines": lines}

    def refuse_order(self, errors: dict[str, list[str]]) -> None:
        """The orders API's refusals by their names there: `lines.1.copies` on the copies
        of the second line filled in."""
        filled = self.filled_lines()
        named: dict[str, list[str]] = {}
        for key, messages in errors.items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(filled) \
                    and parts[2] in ("publication", "copies"):
                key = filled[int(parts[1])][parts[2]].name
            named.setdefault(key, []).extend(messages)
        self.refuse(named)


# --- member directory import -----------------------------------------------------------------

class MemberImportForm(BackOfficeForm):
    """Step 1 uploads the CSV file; step 2 (`confirm`) sends its text back to be imported.
    Read it from the request's files and form together."""

    file = FileField()
    #: the text of the file shown in the preview, posted back by the confirmation
    csv = TextAreaField()
    confirm = BooleanField()
    #: the CSV text, once validated
    text = ""

    def validate_file(self, field: Field) -> None:
        upload = field.data
        if isinstance(upload, FileStorage) and upload.filename:
            try:
                self.text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError(N_("The file is not UTF-8 text: save it from your spreadsheet as “CSV UTF-8”.")) from None
        elif (self.csv.data or "").strip():
            self.text = self.csv.data
        else:
            raise ValidationError(N_("Choose a CSV file."))
