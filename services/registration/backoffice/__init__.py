"""The staff back office: server-rendered pages under `/staff/` of the registration service.

One entry point for the secretariat. The registration service owns the staff accounts, so
login lives here. The event and member pages call the registration service's staff
actions directly (`services.registration.staff`); the orders, free-copies and emails pages
call the orders and notify services' staff APIs over HTTP (`requests`) with a bearer token
issued for the logged-in staff member, so those services check the role themselves too.
Proxying through one entry point (rather than a page per service) keeps one login, one
session cookie and one place for CSRF.

Security: Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure in production);
every POST carries the session's CSRF token (refused with 400 otherwise); an email is
locked out for `LOCKOUT_SECONDS` after `MAX_FAILURES` failed logins (counted in Redis, so
every gunicorn worker sees them); the role is read again from the database on every
request and checked on every page and action. Every action is written to the audit log
(`shared.audit`) of the service that carries it out, in the same transaction.

Pages are in English and French (`i18n.py`); `?lang=fr` or `?lang=en` switches and the
choice stays in the session.
"""
from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import secrets
import time
from typing import Any, Callable

import redis
import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.security import check_password_hash

from services.registration.backoffice.i18n import LANGUAGES, gettext as _, language
from shared import audit
from shared.auth import Staff, StaffAccount
from shared.db import db
from shared.web import settings

log = logging.getLogger("eupolnet.backoffice")

bp = Blueprint("backoffice", __name__, url_prefix="/staff", template_folder="../templates")

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
#: seconds a failed login waits before answering (slows down guessing)
FAILURE_DELAY = 0.5
_local_failures: dict[str, list[float]] = {}


@bp.record_once
def _configure(state: Any) -> None:
    state.app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=state.app.extensions["eupolnet_settings"].production,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=10),
    )


# --- session, CSRF, roles, language ------------------------------------------------------

def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "staff": g.get("staff"), "_": _, "lang": language(), "languages": LANGUAGES}


@bp.before_request
def _load_staff_and_check_csrf() -> None:
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, _("The form's security token is missing or expired: reload the page and try again."))
    if request.args.get("lang") in LANGUAGES:
        session["lang"] = request.args["lang"]
    g.pop("staff", None)
    staff_id = session.get("staff_id")
    if staff_id is not None:
        account = db.session.get(StaffAccount, staff_id)
        if account is not None and account.password_hash:
            # `shared.auth.current_staff()` (and so the audit log) reads it from here.
            g.staff = Staff(id=account.id, email=account.email, role=account.role)
        else:
            session.pop("staff_id", None)


def role_required(role: str) -> Callable:
    """Anonymous: redirect to the login page. Wrong role: 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = g.get("staff")
            if staff is None:
                return redirect(url_for("backoffice.login", next=request.full_path if request.method == "GET" else None))
            if not staff.may(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


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
            error, status = _("Too many failed attempts: try again in {minutes} minutes.", minutes=LOCKOUT_SECONDS // 60), 429
            log.warning("login locked out email=%s", email)
        elif account is not None and account.password_hash and check_password_hash(account.password_hash, password):
            _clear_failures(email)
            chosen_language = session.get("lang")
            session.clear()
            if chosen_language:
                session["lang"] = chosen_language
            session.permanent = True
            session["staff_id"] = account.id
            g.staff = Staff(id=account.id, email=account.email, role=account.role)
            audit.record("staff.login", account.email)
            db.session.commit()
            target = request.args.get("next") or ""
            if not target.startswith("/staff/") or target.startswith("//"):
                target = url_for("backoffice.home")
            return redirect(target)
        else:
            if email:
                _record_failure(email)
            time.sleep(FAILURE_DELAY)
            error, status = _("Wrong email or password."), 401
            log.warning("login failed email=%s", email)
    return render_template("backoffice/login.html", error=error, email=email), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if g.get("staff") is not None:
        audit.record("staff.logout", g.staff.email)
        db.session.commit()
    chosen_language = session.get("lang")
    session.clear()
    if chosen_language:
        session["lang"] = chosen_language
    flash(_("You are logged out."))
    return redirect(url_for("backoffice.login"))


@bp.get("/")
def home() -> ResponseReturnValue:
    staff = g.get("staff")
    if staff is None:
        return redirect(url_for("backoffice.login"))
    if staff.may("events"):
        return redirect(url_for("backoffice.events"))
    if staff.may("publications"):
        return redirect(url_for("backoffice.orders"))
    abort(403)


# The pages register their routes on `bp`.
from services.registration.backoffice import events, members, remote  # noqa: E402,F401
