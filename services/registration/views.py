"""Routes of the registration API: load, check access, call one operation, commit, answer."""
from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registration import badges, certificates, exports, groups, operations, privacy, queries, staff, tickets
from services.registration.embed import closed_text, when_text
from services.registration.forms import form_description
from services.registration.members import find_member
from services.registration.models import Event, MemberOrganisation, Registration
from services.registration.schemas import (
    AttendeeOut, CheckInIn, DecisionIn, DecisionsIn, ErasedOut, GroupIn, GroupOut, EventIn, EventOut, EventPatch, EventQuery, EventStaffOut, FormOut, FormQuery, ImportQuery,
    LookupOut, LookupQuery, MemberIn, MemberOut, MessageIn, PersonalDataOut, RegistrationCreated, RegistrationIn,
    RegistrationListQuery, RegistrationOut, RegistrationPatch, RegistrationStaffOut, StaffMeOut,
)
from shared.auth import current_staff, staff_required
from shared.db import db, utcnow
from shared.errors import ApiError, NotFound, problem
from shared.i18n import request_language
from shared.pagination import PAGE_HEADERS, PageQuery, page_headers, page_of, paged
from shared.web import file_download, settings

blp = Blueprint("registration", __name__, url_prefix="/api/v1", description="Events, registrations and members")


# --- public ----------------------------------------------------------------------------

@blp.route("/events")
@blp.arguments(paged(EventQuery), location="query")
@blp.response(200, EventOut(many=True), headers=PAGE_HEADERS)
def list_events(query: dict):
    """Published events, upcoming first (`?past=true` for past ones, the latest first), one
    page at a time."""
    statement = sa.select(Event).where(Event.published.is_(True))
    if query.get("kind"):
        statement = statement.where(Event.kind == query["kind"])
    if query.get("lang"):
        statement = statement.where(Event.title[query["lang"]].is_not(None))
    if query["past"]:
        statement = statement.where(Event.ends_at < utcnow()).order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        statement = statement.where(Event.ends_at >= utcnow()).order_by(Event.starts_at, Event.id)
    page = page_of(statement, query["page"], query["per_page"])
    return page.items, page_headers(page)


@blp.route("/events/<slug>")
@blp.response(200, EventOut)
def get_event(slug: str):
    return operations.get_event(slug)


@blp.route("/events/<slug>/form")
@blp.arguments(FormQuery, location="query")
@blp.response(200, FormOut)
def get_form(query: dict, slug: str):
    """The form description the embedded widget renders, in the requested language."""
    event = operations.get_event(slug)
    now = utcnow()
    seats = operations.free_seats(event)
    description = form_description(
        event, query["lang"], settings().consent_version, f"{settings().public_base_url}/api/v1/events/{slug}/registrations"
    )
    reason = operations.registration_closed_reason(event, now)
    description["event"] = event
    description["when"] = when_text(event, query["lang"])
    description["closed_reason"] = closed_text(event, query["lang"])
    description["closed_code"] = reason.code if reason else None
    description["full"] = seats == 0
    db.session.rollback()
    return description


@blp.route("/events/<slug>/registrations", methods=["POST"])
@blp.arguments(RegistrationIn())  # instances, built once: building a schema costs more than loading with it
@blp.response(201, RegistrationCreated())
@blp.alt_response(200, schema=RegistrationCreated, success=True,
                  description="the email was already registered for the event: its status, without `manage_url`")
def create_registration(data: dict, slug: str):
    """Register. `201` when new; `200` with the status of the existing registration for a
    known email, but without its `manage_url`: only the person's own mailbox gets that link."""
    data.pop("website", None)
    data.pop("consent")
    registration, created = operations.register(slug, data)
    result = {"public_id": registration.public_id, "status": registration.status}
    if created:
        result["manage_url"] = operations.manage_url(registration)
    db.session.commit()
    return result, 201 if created else 200


@blp.route("/events/<slug>/groups", methods=["POST"])
@blp.arguments(GroupIn())
@blp.response(201, GroupOut())
@blp.alt_response(403, description="members only: `participants.INDEX.email` names each participant refused; nobody was registered")
@blp.alt_response(409, description="e.g. the per-organisation cap: `participants.INDEX.email` names each participant refused; nobody was registered")
def create_group(data: dict, slug: str):
    """Register several participants at once (a contact, e.g. a city's training officer).
    Each passes the same rules as alone, in the order given: either all are placed, and the
    answer says who is confirmed and who went to the waiting list and why, or nobody is.
    An address already registered answers with its own registration (`already_registered`)."""
    group, placed = operations.register_group(slug, data["contact"], data["participants"])
    result = groups.answer(group, placed, request_language())
    result["manage_url"] = operations.group_url(group)
    db.session.commit()
    return result


@blp.route("/groups/<token>")
@blp.response(200, GroupOut)
def get_group(token: str):
    """The group behind its contact's link, and where each participant stands."""
    group = operations.group_for_token(token)
    return groups.members(group, request_language())


@blp.route("/groups/<token>/participants/<participant>/cancel", methods=["POST"])
@blp.response(200, GroupOut)
def cancel_group_participant(token: str, participant: str):
    """The contact cancels one participant; a freed seat goes to the next in line."""
    group = operations.group_for_token(token)
    operations.cancel_in_group(group, participant)
    db.session.commit()
    return groups.members(group, request_language())


# --- self-service ----------------------------------------------------------------------

@blp.route("/registrations/<token>")
class SelfService(MethodView):
    @blp.response(200, RegistrationOut)
    def get(self, token: str):
        return _with_position(operations.registration_for_token(token))

    @blp.arguments(RegistrationPatch)
    @blp.response(200, RegistrationOut)
    def patch(self, changes: dict, token: str):
        registration = operations.correct(operations.registration_for_token(token), changes)
        db.session.commit()
        return _with_position(registration)


@blp.route("/registrations/<token>/cancel", methods=["POST"])
@blp.response(200, RegistrationOut)
def cancel_own_registration(token: str):
    registration = operations.cancel(operations.registration_for_token(token))
    db.session.commit()
    return _with_position(registration)


@blp.route("/registrations/<token>/certificate.pdf")
@file_download("application/pdf", "the certificate of attendance")
def own_certificate(token: str):
    """The registrant's certificate of attendance (409 unless they were checked in)."""
    return certificates.certificate_response(operations.registration_for_token(token))


@blp.route("/registrations/<token>/verify", methods=["POST"])
@blp.response(200, RegistrationOut)
def verify_own_email(token: str):
    registration = operations.verify_email(operations.registration_for_token(token))
    db.session.commit()
    return _with_position(registration)


def _with_position(registration: Registration) -> Registration:
    queries.waitlist_position(registration)
    return registration


# --- staff: events ---------------------------------------------------------------------

@blp.route("/events", methods=["POST"])
@staff_required("events")
@blp.arguments(EventIn)
@blp.response(201, EventStaffOut)
def create_event(data: dict):
    event = staff.create_event(data)
    db.session.commit()
    return queries.with_counts(event)


@blp.route("/events/<slug>", methods=["PATCH"])
@staff_required("events")
@blp.arguments(EventPatch(partial=True))
@blp.response(200, EventStaffOut)
def update_event(changes: dict, slug: str):
    event = staff.update_event(operations.get_event(slug, published_only=False), changes)
    db.session.commit()
    return queries.with_counts(event)


@blp.route("/events/<slug>/staff")
@staff_required("events")
@blp.response(200, EventStaffOut)
def get_event_for_staff(slug: str):
    return queries.with_counts(operations.get_event(slug, published_only=False))


@blp.route("/staff/events")
@staff_required("events")
@blp.arguments(PageQuery, location="query")
@blp.response(200, EventStaffOut(many=True), headers=PAGE_HEADERS)
def list_events_for_staff(query: dict):
    """Every event, published or not, newest first, one page at a time."""
    page = queries.events_page(query["page"], query["per_page"])
    return page.items, page_headers(page)


@blp.route("/events/<slug>/messages", methods=["POST"])
@staff_required("events")
@blp.arguments(MessageIn)
@blp.response(202)
def message_registrants(data: dict, slug: str):
    event = operations.get_event(slug, published_only=False)
    count = staff.message_registrants(event, data["subject"], data["body"], tuple(data["statuses"]))
    db.session.commit()
    return {"recipients": count}


@blp.route("/events/<slug>/certificates", methods=["POST"])
@staff_required("events")
@blp.response(202)
@blp.alt_response(409, description="the event has not started yet (`event_not_started`)")
def send_certificates(slug: str):
    """Email their certificate of attendance to everyone checked in who has not had it yet
    (once the event has started)."""
    count = staff.issue_certificates(operations.get_event(slug, published_only=False))
    db.session.commit()
    return {"sent": count}


@blp.route("/certificates/<registration_id>.pdf")
@staff_required("events")
@file_download("application/pdf", "the certificate of attendance")
def certificate_by_id(registration_id: str):
    """A certificate of attendance by registration id (what the notify service attaches)."""
    return certificates.certificate_response(operations.registration_by_public_id(registration_id, "registration_id"))


# --- staff: participants ---------------------------------------------------------------

def _participants(slug: str, query: dict) -> tuple[Event, list[Registration]]:
    event = operations.get_event(slug, published_only=False)
    return event, queries.participants(event, query.get("status"), query.get("q"))


@blp.route("/events/<slug>/registrations")
@staff_required("events")
@blp.arguments(paged(RegistrationListQuery), location="query")
@blp.response(200, RegistrationStaffOut(many=True), headers=PAGE_HEADERS)
def list_registrations(query: dict, slug: str):
    """One page of the participants in waiting-list order (`?page=`, `?per_page=`; the
    `Link` header leads to the next)."""
    event = operations.get_event(slug, published_only=False)
    page = queries.participants_page(event, query.get("status"), query.get("q"), query["page"], query["per_page"])
    positions = queries.waitlist_positions(event)
    for registration in page.items:
        registration.waitlist_position = positions.get(registration.id)
    return page.items, page_headers(page)


@blp.route("/events/<slug>/registrations.csv")
@staff_required("events")
@file_download(exports.FORMATS["csv"][0], "the participants as CSV")
@blp.arguments(RegistrationListQuery, location="query")
def export_registrations_csv(query: dict, slug: str):
    """The participants (same filters as the list) as CSV."""
    return exports.download(*_participants(slug, query), "csv")


@blp.route("/events/<slug>/registrations.xlsx")
@staff_required("events")
@file_download(exports.FORMATS["xlsx"][0], "the participants as XLSX")
@blp.arguments(RegistrationListQuery, location="query")
def export_registrations_xlsx(query: dict, slug: str):
    """The participants (same filters as the list) as XLSX."""
    return exports.download(*_participants(slug, query), "xlsx")


def _act(slug: str, number: int, action: str) -> Registration:
    """Apply one of staff.REGISTRATION_ACTIONS to registration `number` of event `slug`."""
    registration = staff.act_on_registration(staff.registration_of(slug, number), action)
    db.session.commit()
    return _with_position(registration)


@blp.route("/events/<slug>/registrations/<int:number>/check-in", methods=["POST"])
@blp.response(200, RegistrationStaffOut)
@staff_required("events")
def staff_check_in(slug: str, number: int):
    """Mark a confirmed person as attended; checking in twice changes nothing."""
    return _act(slug, number, "check-in")


@blp.route("/events/<slug>/registrations/<int:number>/promote", methods=["POST"])
@blp.response(200, RegistrationStaffOut)
@staff_required("events")
def staff_promote(slug: str, number: int):
    """Move a waitlisted person to confirmed, into a free seat."""
    return _act(slug, number, "promote")


@blp.route("/events/<slug>/registrations/<int:number>/promote-over-capacity", methods=["POST"])
@blp.response(200, RegistrationStaffOut)
@staff_required("events")
def staff_promote_over_capacity(slug: str, number: int):
    """Promote a waitlisted person even though the event is full: a seat is added."""
    return _act(slug, number, "promote-over-capacity")


@blp.route("/events/<slug>/registrations/<int:number>/demote", methods=["POST"])
@blp.response(200, RegistrationStaffOut)
@staff_required("events")
def staff_demote(slug: str, number: int):
    """Move a confirmed person to the end of the waiting list; the seat goes to the next in line."""
    return _act(slug, number, "demote")


@blp.route("/events/<slug>/registrations/<int:number>/cancel", methods=["POST"])
@blp.response(200, RegistrationStaffOut)
@staff_required("events")
def staff_cancel(slug: str, number: int):
    """Cancel; a freed seat goes to the first person on the waiting list."""
    return _act(slug, number, "cancel")


@blp.route("/events/<slug>/registrations/<int:number>/approve", methods=["POST"])
@staff_required("events")
@blp.arguments(DecisionIn, required=False)
@blp.response(200, RegistrationStaffOut)
def staff_approve(data: dict, slug: str, number: int):
    """Moderated event: accept a registration awaiting approval. It takes a free seat, else
    joins the waiting list; the person is emailed, with `reason` when given."""
    return _decide_one(slug, number, "approve", data.get("reason"))


@blp.route("/events/<slug>/registrations/<int:number>/reject", methods=["POST"])
@staff_required("events")
@blp.arguments(DecisionIn, required=False)
@blp.response(200, RegistrationStaffOut)
def staff_reject(data: dict, slug: str, number: int):
    """Moderated event: refuse a registration awaiting approval; the person is emailed,
    with `reason` when given."""
    return _decide_one(slug, number, "reject", data.get("reason"))


@blp.route("/events/<slug>/decisions", methods=["POST"])
@staff_required("events")
@blp.arguments(DecisionsIn)
@blp.response(200, RegistrationStaffOut(many=True))
@blp.alt_response(409, description="some registrations cannot be decided (`numbers.INDEX` names each): nothing was changed")
def staff_decide(data: dict, slug: str):
    """Moderated event: approve or reject several registrations at once, all or none."""
    return _decide(slug, data["numbers"], data["decision"], data.get("reason"))


def _decide_one(slug: str, number: int, decision: str, reason: str | None) -> Registration:
    registration = staff.decide_one(staff.registration_of(slug, number), decision, reason)
    db.session.commit()
    return _with_position(registration)


def _decide(slug: str, numbers: list[int], decision: str, reason: str | None) -> list[Registration]:
    registrations = staff.decide(staff.registrations_of(slug, numbers), decision, reason)
    db.session.commit()
    return [_with_position(registration) for registration in registrations]


@blp.route("/events/<slug>/check-ins", methods=["POST"])
@staff_required("events")
@blp.arguments(CheckInIn)
@blp.response(200, AttendeeOut)
@blp.alt_response(404, description="not a ticket of this event (`unknown_ticket`)")
@blp.alt_response(409, description="a ticket that does not let its holder in: `already_checked_in`, `ticket_cancelled`, "
                                   "`ticket_waitlisted`, `ticket_pending`, `check_in_not_open` (before the event's day, "
                                   "unless `override`); `attendee` says whose it is")
def check_in_at_door(data: dict, slug: str):
    """Check in at the door: a scanned ticket, or a registration number (two phones scanning
    the same ticket check the person in once)."""
    event = operations.get_event(slug, published_only=False)
    try:
        registration = staff.check_in_at_door(event, **data)
    except tickets.TicketRefused as refusal:
        db.session.rollback()
        return tickets.refusal_response(refusal)
    db.session.commit()
    return tickets.attendee(registration)


@blp.route("/events/<slug>/badges.pdf")
@staff_required("events")
@blp.response(200, {"format": "binary", "type": "string"}, content_type="application/pdf",
              description="A4 sheets of eight name badges, everyone seated, each in its holder's language")
def event_badges(slug: str):
    return badges.badges_response(operations.get_event(slug, published_only=False))


@blp.route("/events/<slug>/check-in-list")
@staff_required("events")
@blp.response(200, AttendeeOut(many=True))
def check_in_list(slug: str):
    """Everyone the door may meet, by name: what the check-in page caches to work offline."""
    return tickets.check_in_list(operations.get_event(slug, published_only=False))


# --- members ---------------------------------------------------------------------------

@blp.route("/members/lookup")
@blp.arguments(LookupQuery, location="query")
@blp.response(200, LookupOut)
def lookup_member(query: dict):
    """Is this address a member's? Used by the orders service and the forms."""
    organisation = find_member(query["email"])
    if organisation is None:
        return {"member": False, "organisation": None}
    return {"member": True, "organisation": {"id": organisation.id, "name": organisation.name, "country": organisation.country}}


@blp.route("/members")
class Members(MethodView):
    @staff_required("events")
    @blp.response(200, MemberOut(many=True))
    def get(self):
        return db.session.scalars(sa.select(MemberOrganisation).order_by(MemberOrganisation.name)).all()

    @staff_required("events")
    @blp.arguments(MemberIn)
    @blp.response(201, MemberOut)
    def post(self, data: dict):
        """Create or update (by name) a member organisation."""
        organisation = staff.save_member(data["name"], data["country"], data["domains"], data["addresses"])
        db.session.commit()
        return organisation


@blp.route("/members/<int:member_id>", methods=["DELETE"])
@staff_required("events")
@blp.response(204)
def delete_member(member_id: int):
    organisation = db.session.get(MemberOrganisation, member_id)
    if organisation is None:
        raise NotFound(problem("unknown_member", "No such member organisation."), {"id": [problem("unknown_member", "Unknown member.")]})
    staff.deactivate_member(organisation)
    db.session.commit()


@blp.route("/members/import", methods=["POST"])
@staff_required("events")
@blp.arguments(ImportQuery, location="query")
def import_members(query: dict):
    """Import the directory from CSV (`name,country,domains`; body `text/csv`)."""
    if request.mimetype != "text/csv":
        raise ApiError(problem("csv_expected", "Send the CSV file as the body with Content-Type: text/csv."),
                       {"body": [problem("csv_expected", "Expected text/csv.")]}, status=415)
    try:
        text = request.get_data(as_text=False).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(problem("not_utf8", "The CSV file must be UTF-8."), {"body": [problem("not_utf8", "Not UTF-8.")]}) from None
    report = staff.import_members(text, dry_run=query["dry_run"])
    if report.errors:
        db.session.rollback()
        return {"message": "Nothing was imported: fix the rows named in errors.", **report.as_dict()}, 422
    if query["dry_run"]:
        db.session.rollback()
    else:
        db.session.commit()
    return {"message": "Dry run: nothing was written." if query["dry_run"] else "Imported.", **report.as_dict()}


@blp.route("/personal-data")
class PersonalData(MethodView):
    @staff_required("admin")
    @blp.arguments(LookupQuery, location="query")
    @blp.response(200, PersonalDataOut)
    def get(self, query: dict):
        """Everything stored about a person (access request)."""
        return privacy.export_person(query["email"])

    @staff_required("admin")
    @blp.arguments(LookupQuery, location="query")
    @blp.response(200, ErasedOut)
    def delete(self, query: dict):
        """Erase a person: their upcoming places are cancelled and every record anonymised."""
        count = staff.erase_person(query["email"])
        db.session.commit()
        return {"anonymised": count}


@blp.route("/staff/me")
@staff_required()
@blp.response(200, StaffMeOut)
def whoami():
    staff = current_staff()
    return {"id": staff.id, "email": staff.email, "role": staff.role}
