"""The staff back office: server-rendered pages under `/staff/` of the registration service.

One entry point for the secretariat. The registration service owns the staff accounts, so
login lives here. The event pages call the registration operations directly; the orders
and emails pages call the orders and notify services' staff APIs over HTTP (`requests`)
with a bearer token issued for the logged-in staff member by `shared.auth.issue_token`, so
those services check the role themselves too. Proxying through one entry point (rather
than a page per service) keeps one login, one session cookie and one place for CSRF.

Security: Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure in production);
every POST carries the session's CSRF token (refused with 400 otherwise); an email is
locked out for `LOCKOUT_SECONDS` after `MAX_FAILURES` failed logins (counted in Redis, so
every gunicorn worker sees them); the role is read again from the database on every
request and checked on every page and action.

Every staff action is logged on the `eupolnet.backoffice` logger with who, what, and the
state before and after (an audit table is not built yet).
"""
from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import secrets
import time
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis
import requests
import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from werkzeug.security import check_password_hash

from services.registration import operations
from services.registration.models import EVENT_KINDS, STATUSES, Event, Registration
from services.registration.schemas import EventIn
from services.registration.views import _participants, _with_counts
from shared.auth import Staff, StaffAccount, issue_token
from shared.db import db
from shared.errors import ApiError, flatten
from shared.web import settings

log = logging.getLogger("eupolnet.backoffice")

bp = Blueprint("backoffice", __name__, url_prefix="/staff", template_folder="templates")

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
#: seconds a failed login waits before answering (slows down guessing)
FAILURE_DELAY = 0.5
ORDER_STATUSES = ("received", "approved", "invoiced", "paid", "shipped", "cancelled")
#: the notify service's delivery statuses (its API validates them too)
DELIVERY_STATUSES = ("queued", "sent", "failed")
ORDER_ACTIONS = ("approve", "invoice", "mark-paid", "ship", "cancel")
_local_failures: dict[str, list[float]] = {}


@bp.record_once
def _configure(state: Any) -> None:
    state.app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=state.app.extensions["eupolnet_settings"].production,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=10),
    )


# --- session, CSRF, roles ----------------------------------------------------------------

def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "staff": g.get("backoffice_staff")}


@bp.before_request
def _load_staff_and_check_csrf() -> None:
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, "The form's security token is missing or expired: reload the page and try again.")
    g.backoffice_staff = None
    staff_id = session.get("staff_id")
    if staff_id is not None:
        account = db.session.get(StaffAccount, staff_id)
        if account is not None and account.password_hash:
            g.backoffice_staff = Staff(id=account.id, email=account.email, role=account.role)
        else:
            session.pop("staff_id", None)


def role_required(role: str) -> Callable:
    """Anonymous: redirect to the login page. Wrong role: 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = g.backoffice_staff
            if staff is None:
                return redirect(url_for("backoffice.login", next=request.full_path if request.method == "GET" else None))
            if not staff.may(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def audit(action: str, target: str, before: Any, after: Any) -> None:
    staff = g.backoffice_staff
    log.info("staff=%s role=%s action=%s target=%s before=%s after=%s", staff.email, staff.role, action, target, before, after)


# --- login -------------------------------------------------------------------------------

def _failures_key(email: str) -> str:
    return f"backoffice:login-failures:{email}"


def _redis() -> redis.Redis | None:
    url = settings().redis_url
    return redis.Redis.from_url(url, socket_timeout=2) if url else None


def _locked_out(email: str) -> bool:
    client = _redis()
    if client is not None:
        return int(client.get(_failures_key(email)) or 0) >= MAX_FAILURES
    now = time.monotonic()
    recent = [t for t in _local_failures.get(email, []) if now - t < LOCKOUT_SECONDS]
    _local_failures[email] = recent
    return len(recent) >= MAX_FAILURES


def _record_failure(email: str) -> None:
    client = _redis()
    if client is not None:
        with client.pipeline() as pipe:
            pipe.incr(_failures_key(email))
            pipe.expire(_failures_key(email), LOCKOUT_SECONDS)
            pipe.execute()
    else:
        _local_failures.setdefault(email, []).append(time.monotonic())


def _clear_failures(email: str) -> None:
    client = _redis()
    if client is not None:
        client.delete(_failures_key(email))
    _local_failures.pop(email, None)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error = None
    status = 200
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        password = request.form.get("password", "")
        account = db.session.scalar(sa.select(StaffAccount).where(StaffAccount.email == email)) if email else None
        if email and _locked_out(email):
            error, status = f"Too many failed attempts: try again in {LOCKOUT_SECONDS // 60} minutes.", 429
            log.warning("login locked out email=%s", email)
        elif account is not None and account.password_hash and check_password_hash(account.password_hash, password):
            _clear_failures(email)
            session.clear()
            session.permanent = True
            session["staff_id"] = account.id
            log.info("staff=%s login", account.email)
            target = request.args.get("next") or ""
            if not target.startswith("/staff/") or target.startswith("//"):
                target = url_for("backoffice.home")
            return redirect(target)
        else:
            if email:
                _record_failure(email)
            time.sleep(FAILURE_DELAY)
            error, status = "Wrong email or password.", 401
            log.warning("login failed email=%s", email)
    return render_template("backoffice/login.html", error=error, email=email), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if g.backoffice_staff is not None:
        log.info("staff=%s logout", g.backoffice_staff.email)
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("backoffice.login"))


@bp.get("/")
def home() -> ResponseReturnValue:
    staff = g.backoffice_staff
    if staff is None:
        return redirect(url_for("backoffice.login"))
    if staff.may("events"):
        return redirect(url_for("backoffice.events"))
    if staff.may("publications"):
        return redirect(url_for("backoffice.orders"))
    abort(403)


# --- events ------------------------------------------------------------------------------

@bp.get("/events")
@role_required("events")
def events() -> ResponseReturnValue:
    rows = [_with_counts(event) for event in db.session.scalars(sa.select(Event).order_by(Event.starts_at.desc()))]
    return render_template("backoffice/events.html", events=rows)


def _local_input(value: str) -> str:
    return value[:16] if value else ""


def _event_data(form: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form's fields as EventIn expects them (dates are local to the chosen time zone),
    and the errors found in fields EventIn cannot read."""
    zone_name = form.get("timezone", "").strip() or "Europe/Brussels"
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "slug": form.get("slug", "").strip(),
        "kind": form.get("kind", ""),
        "title": {lang: form.get(f"title_{lang}", "").strip() for lang in ("en", "fr") if form.get(f"title_{lang}", "").strip()},
        "description": {lang: form.get(f"description_{lang}", "").strip() for lang in ("en", "fr") if form.get(f"description_{lang}", "").strip()},
        "timezone": zone_name,
        "venue": form.get("venue", "").strip() or None,
        "join_url": form.get("join_url", "").strip() or None,
        "published": form.get("published") == "on",
    }
    capacity = form.get("capacity", "").strip()
    data["capacity"] = None
    if capacity:
        if capacity.isdigit():
            data["capacity"] = int(capacity)
        else:
            errors["capacity"] = ["Enter a whole number, or leave empty for no limit."]
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = ["Not an IANA time zone name (e.g. Europe/Paris)."]
        zone = ZoneInfo("UTC")
    for name in ("starts_at", "ends_at"):
        try:
            data[name] = dt.datetime.fromisoformat(form.get(name, "").strip()).replace(tzinfo=zone).isoformat()
        except ValueError:
            errors[name] = ["Enter a date and time."]
    return data, errors


def _form_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """EventIn's errors under the form's field names (`title` → `title_en`, `title.fr` → `title_fr`)."""
    named: dict[str, list[str]] = {}
    for key, messages in errors.items():
        base, _, lang = key.partition(".")
        if base in ("title", "description"):
            key = f"{base}_{lang if lang in ('en', 'fr') else 'en'}"
        named.setdefault(key, []).extend(messages)
    return named


@bp.route("/events/new", methods=["GET", "POST"])
@role_required("events")
def new_event() -> ResponseReturnValue:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, form_errors = _event_data(request.form)
        try:
            try:
                data = EventIn().load(data)
            except ValidationError as error:
                raise ValidationError({**error.messages, **form_errors}) from None
            if form_errors:
                raise ValidationError(form_errors)
            event = operations.create_event(data)
            db.session.commit()
            audit("event.create", event.slug, None, {"published": event.published, "capacity": event.capacity})
            flash(f"Event “{event.title.get('en') or event.slug}” created{' and published' if event.published else ''}.")
            return redirect(url_for("backoffice.participants", slug=event.slug))
        except ValidationError as error:
            db.session.rollback()
            errors = _form_errors(flatten(error.messages))
        except ApiError as error:
            db.session.rollback()
            errors = error.errors or {"form": [error.message]}
    return render_template("backoffice/event_form.html", form=request.form, errors=errors, kinds=EVENT_KINDS), 422 if errors else 200


@bp.post("/events/<slug>/publish")
@role_required("events")
def publish_event(slug: str) -> ResponseReturnValue:
    event = operations.get_event(slug, published_only=False)
    before = event.published
    operations.update_event(event, {"published": not before})
    db.session.commit()
    audit("event.publish" if not before else "event.unpublish", slug, {"published": before}, {"published": not before})
    flash("Event published." if not before else "Event unpublished.")
    return redirect(url_for("backoffice.events"))


@bp.get("/events/<slug>")
@role_required("events")
def participants(slug: str) -> ResponseReturnValue:
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()
    event, rows = _participants(slug, {"status": status if status in STATUSES else None, "q": q or None})
    waitlisted = [r.id for r in operations.waitlist(event)]
    positions = {number: index for index, number in enumerate(waitlisted, start=1)}
    return render_template(
        "backoffice/participants.html", event=_with_counts(event), rows=rows, statuses=STATUSES, status=status, q=q,
        positions=positions, free=operations.free_seats(event),
    )


STAFF_ACTIONS = {"promote": operations.promote, "demote": operations.demote, "check-in": operations.check_in}


@bp.post("/events/<slug>/registrations/<int:number>/<action>")
@role_required("events")
def registration_action(slug: str, number: int, action: str) -> ResponseReturnValue:
    if action not in STAFF_ACTIONS:
        abort(404)
    event = operations.get_event(slug, published_only=False)
    registration = db.session.get(Registration, number)
    if registration is None or registration.event_id != event.id:
        abort(404)
    before = registration.status
    name = f"{registration.first_name} {registration.last_name}"
    try:
        STAFF_ACTIONS[action](registration)
        db.session.commit()
    except ApiError as error:
        db.session.rollback()
        flash(f"{name}: {error.message}", "error")
    else:
        audit(f"registration.{action}", f"{slug}/{number}", {"status": before}, {"status": registration.status})
        flash(f"{name} is now {registration.status}.")
    return redirect(url_for("backoffice.participants", slug=slug, status=request.form.get("status") or None,
                            q=request.form.get("q") or None) + f"#r{number}")


# --- orders (through the orders service's staff API) --------------------------------------

def _service_api(service: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    """Call `service`'s staff API as the logged-in staff member (a token issued for them)."""
    account = db.session.get(StaffAccount, g.backoffice_staff.id)
    token = issue_token(account, settings().secret_key)
    # No transaction stays open during the call: the other service may call this one back
    # (the member lookup), and on SQLite an open transaction holds the database's write lock.
    db.session.rollback()
    return requests.request(method, f"{settings().service_url(service)}/api/v1{path}",
                            headers={"Authorization": f"Bearer {token}"}, timeout=15, **kwargs)


def _orders_api(method: str, path: str, **kwargs: Any) -> requests.Response:
    return _service_api("orders", method, path, **kwargs)


def _api_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"The service answered {response.status_code}."
    message = body.get("message") or f"Error {response.status_code}"
    details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in (body.get("errors") or {}).items())
    return f"{message} {details}".strip()


def _work_queue(service: str, path: str, template: str, statuses: tuple[str, ...], default: str) -> ResponseReturnValue:
    """A page listing another service's records with `?status=` (default `default`)."""
    status = request.args.get("status", default)
    try:
        response = _service_api(service, "GET", path, params={"status": status} if status in statuses else {})
    except requests.RequestException:
        return render_template(template, rows=[], status=status, statuses=statuses, unavailable=True), 503
    if not response.ok:
        flash(_api_message(response), "error")
    return render_template(template, rows=response.json() if response.ok else [], status=status, statuses=statuses,
                           unavailable=False)


def _remote_action(service: str, path: str, what: str) -> dict[str, Any] | None:
    """POST to another service's staff API; its answer, or None after flashing why it failed."""
    try:
        response = _service_api(service, "POST", path)
    except requests.RequestException:
        flash(f"{what}: the {service} service cannot be reached; nothing was changed.", "error")
        return None
    if not response.ok:
        flash(f"{what}: {_api_message(response)}", "error")
        return None
    return response.json()


@bp.get("/orders")
@role_required("publications")
def orders() -> ResponseReturnValue:
    return _work_queue("orders", "/orders", "backoffice/orders.html", ORDER_STATUSES, "received")


ORDER_FIELDS = ("first_name", "last_name", "organisation", "occupation", "address", "postcode", "city", "country",
                "email", "telephone", "language", "channel")


def _order_data(form: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The order form as the orders API takes it, and the errors found before sending it."""
    errors: dict[str, list[str]] = {}
    lines = []
    for index in range(3):
        publication = form.get(f"publication_{index}", "").strip()
        copies = form.get(f"copies_{index}", "").strip()
        if not publication and not copies:
            continue
        if not publication:
            errors[f"publication_{index}"] = ["Name the publication."]
        if not copies.isdigit() or int(copies) < 1:
            errors[f"copies_{index}"] = ["Enter a number of copies (1 or more)."]
        else:
            lines.append({"publication": publication, "copies": int(copies)})
    if not lines and not errors:
        errors["lines"] = ["Enter at least one publication and its number of copies."]
    data: dict[str, Any] = {name: form.get(name, "").strip() for name in ORDER_FIELDS}
    for name in ("organisation", "occupation", "telephone"):
        data[name] = data[name] or None
    data["lines"] = lines
    return data, errors


def _api_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    """The orders API's field errors under the form's field names (`lines.0.publication` → `publication_0`)."""
    errors: dict[str, list[str]] = {}
    for name, messages in (body.get("errors") or {}).items():
        parts = name.split(".")
        key = f"{parts[2] if parts[2:] else 'publication'}_{parts[1]}" if parts[0] == "lines" and parts[1:] and parts[1].isdigit() else name
        errors.setdefault(key, []).extend(messages if isinstance(messages, list) else [str(messages)])
    return errors


@bp.route("/orders/new", methods=["GET", "POST"])
@role_required("publications")
def new_order() -> ResponseReturnValue:
    errors: dict[str, list[str]] = {}
    message = None
    if request.method == "POST":
        data, errors = _order_data(request.form)
        if not errors:
            try:
                response = _orders_api("POST", "/orders", json=data)
            except requests.RequestException:
                message = "The orders service cannot be reached; the order was not recorded."
            else:
                if response.status_code == 201:
                    order = response.json()
                    audit("order.enter", order["number"], None, {"status": order["status"], "channel": data["channel"]})
                    flash(f"Order {order['number']} recorded ({order['status']}).")
                    return redirect(url_for("backoffice.orders", status=order["status"]))
                body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
                errors = _api_errors(body)
                message = body.get("message") or f"The orders service answered {response.status_code}."
        if errors and not message:
            message = "Please correct the fields marked below."
    return render_template("backoffice/order_form.html", form=request.form, errors=errors, message=message), \
        (422 if message else 200)


@bp.post("/orders/<int:order_id>/<action>")
@role_required("publications")
def order_action(order_id: int, action: str) -> ResponseReturnValue:
    if action not in ORDER_ACTIONS:
        abort(404)
    result = _remote_action("orders", f"/orders/{order_id}/{action}", f"Order {order_id}")
    if result is not None:
        audit(f"order.{action}", result.get("number", str(order_id)), None, {"status": result.get("status")})
        flash(f"Order {order_id}: {action} done.")
    return redirect(url_for("backoffice.orders", status=request.form.get("status") or None))


@bp.get("/emails")
@role_required("admin")
def emails() -> ResponseReturnValue:
    return _work_queue("notify", "/deliveries", "backoffice/emails.html", DELIVERY_STATUSES, "failed")


@bp.post("/emails/<int:delivery_id>/resend")
@role_required("admin")
def resend_email(delivery_id: int) -> ResponseReturnValue:
    result = _remote_action("notify", f"/deliveries/{delivery_id}/resend", f"Email {delivery_id}")
    if result is not None:
        audit("delivery.resend", str(delivery_id), {"status": "failed"}, {"status": result.get("status")})
        flash(f"Email {delivery_id} to {result.get('recipient')} is queued again.")
    return redirect(url_for("backoffice.emails", status=request.form.get("status") or None))


@bp.get("/orders/<int:order_id>/invoice.pdf")
@role_required("publications")
def order_invoice(order_id: int) -> ResponseReturnValue:
    response = _orders_api("GET", f"/orders/{order_id}/invoice.pdf")
    if not response.ok:
        abort(response.status_code if response.status_code in (403, 404) else 502)
    return response.content, 200, {"Content-Type": "application/pdf",
                                   "Content-Disposition": f'inline; filename="order-{order_id}-invoice.pdf"'}
