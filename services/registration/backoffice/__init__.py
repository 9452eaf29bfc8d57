"""The staff back office: server-rendered pages under `/staff/` of the registration service.

One entry point for the secretariat. The registration service owns the staff accounts, so
login lives here. The event and member pages call the registration service's staff
actions directly (`services.registration.staff`); the orders, free-copies and emails pages
call the orders and notify services' staff APIs over HTTP (`requests`) with a bearer token
issued for the logged-in staff member, so those services check the role themselves too.
Proxying through one entry point (rather than a page per service) keeps one login, one
session cookie and one place for CSRF.

Security: Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure in production)
names a server-side session (`StaffSession`) that logging out deletes, as do a new password
and `eupolnet staff revoke`, so a copied cookie stops working; every POST carries the
session's CSRF token (refused with 400 otherwise); the forms are read with WTForms
(`forms.py`); failed logins are throttled per client
address and per (address, email) with Flask-Limiter in Redis, so an attacker elsewhere
cannot lock the real person out, and unknown and known emails get the same answer in the
same time; the account and its role are read again from the database on every request and
checked on every page and action. Every action is written to the audit log
(`shared.audit`) of the service that carries it out, in the same transaction.

Pages are in English and French (`i18n.py`); `?lang=fr` or `?lang=en` switches and the
choice stays in the session.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
import time
from typing import Any, Callable

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.security import check_password_hash, generate_password_hash

from services.registration import staff
from services.registration.backoffice.forms import LoginForm
from services.registration.backoffice.i18n import LANGUAGES, event_time, gettext as _, language, refusal
from shared.auth import Staff, StaffAccount, StaffSession
from shared.db import db, utcnow
from shared.embedding import client_address, rate_limit
from shared.i18n import pick
from shared.pagination import page_url

log = logging.getLogger("eupolnet.backoffice")

bp = Blueprint("backoffice", __name__, url_prefix="/staff", template_folder="../templates", static_folder="../static",
               static_url_path="/static")

SESSION_LIFETIME = dt.timedelta(hours=10)
#: failed logins allowed from one address for one email, and from one address for any
LOGIN_LIMITS_PER_EMAIL = "5 per 15 minutes"
LOGIN_LIMITS_PER_ADDRESS = "30 per 15 minutes"
#: seconds a failed login waits before answering (slows down guessing)
FAILURE_DELAY = 0.5


@bp.record_once
def _configure(state: Any) -> None:
    state.app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=state.app.extensions["eupolnet_settings"].production,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )


# --- session, CSRF, roles, language ------------------------------------------------------

def csrf_token() -> str:
    """The session's CSRF token, the same on every page of the session. Not Flask-WTF's: its
    tokens carry the time they were made, so two pages of one session would differ by more
    than what they show (tests/backoffice/test_staff_accounts.py compares them)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "staff": g.get("staff"), "_": _, "refusal": refusal, "event_time": event_time, "lang": language(),
            "languages": LANGUAGES, "pick": pick, "page_url": page_url}


@bp.before_request
def _load_staff_and_check_csrf() -> None:
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, _("The form's security token is missing or expired: reload the page and try again."))
    if request.args.get("lang") in LANGUAGES:
        session["lang"] = request.args["lang"]
    g.pop("staff", None)
    account = _session_account()
    if account is not None:
        # `shared.auth.current_staff()` (and so the audit log) reads it from here.
        g.staff = Staff(id=account.id, email=account.email, role=account.role)
    else:
        session.pop("sid", None)


def _session_id(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _session_account() -> StaffAccount | None:
    """The account logged in with this cookie, while its session lasts and it may log in."""
    sid = session.get("sid")
    record = db.session.get(StaffSession, _session_id(sid)) if isinstance(sid, str) else None
    if record is None or record.created_at < utcnow() - SESSION_LIFETIME:
        return None
    account = db.session.get(StaffAccount, record.account_id)
    return account if account is not None and account.active and account.password_hash else None


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

        wrapper.staff_role = role  # type: ignore[attr-defined]  (what tests/security/test_url_map.py reads)
        return wrapper

    return decorator


# --- login -------------------------------------------------------------------------------

@functools.cache
def _dummy_hash() -> str:
    """What an unknown email's password is checked against, so it takes as long as a known one's."""
    return generate_password_hash(secrets.token_urlsafe(16))


def masked(email: str) -> str:
    """`a•••@efus.eu`: enough for a log line to tell accounts apart, not to name a person."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def _address_and_email() -> str:
    email = LoginForm(request.form).email.data or ""
    return f"{client_address()}/{hashlib.sha256(email.encode()).hexdigest()[:32]}"


def _too_many_attempts(limit: Any) -> ResponseReturnValue:
    log.warning("login throttled address=%s email=%s", client_address(), masked(LoginForm(request.form).email.data or ""))
    error = _("Too many failed attempts: try again in {minutes} minutes.", minutes=15)
    return render_template("backoffice/login.html", error=error, email=request.form.get("email", "")), 429


def throttle_login(app: Flask) -> None:
    """Failed logins (401) count per client address and per (address, email); past a limit
    that address waits, whatever it sends, while the right password from elsewhere gets in."""
    for limits, key in ((LOGIN_LIMITS_PER_EMAIL, _address_and_email), (LOGIN_LIMITS_PER_ADDRESS, client_address)):
        rate_limit(app, "backoffice.login", limits, key_func=key, methods=["POST"],
                   deduct_when=lambda response: response.status_code == 401, on_breach=_too_many_attempts)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error = None
    status = 200
    email = ""
    if request.method == "POST":
        form = LoginForm(request.form)
        email, password = form.email.data or "", form.password.data or ""
        account = db.session.scalar(sa.select(StaffAccount).where(StaffAccount.email == email)) if email else None
        usable = account is not None and account.active and account.password_hash
        if check_password_hash(account.password_hash if usable else _dummy_hash(), password) and usable:
            chosen_language = session.get("lang")
            session.clear()
            if chosen_language:
                session["lang"] = chosen_language
            session.permanent = True
            sid = secrets.token_urlsafe(32)
            session["sid"] = sid
            g.staff = Staff(id=account.id, email=account.email, role=account.role)
            staff.open_session(account, _session_id(sid), utcnow() - SESSION_LIFETIME)
            db.session.commit()
            target = request.args.get("next") or ""
            if not target.startswith("/staff/") or target.startswith("//"):
                target = url_for("backoffice.home")
            return redirect(target)
        time.sleep(FAILURE_DELAY)
        error, status = _("Wrong email or password."), 401
        log.warning("login failed address=%s email=%s", client_address(), masked(email))
    return render_template("backoffice/login.html", error=error, email=email), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if g.get("staff") is not None:
        staff.close_session(_session_id(session["sid"]), g.staff.email)
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
from services.registration.backoffice import checkin, events, members, remote  # noqa: E402,F401
