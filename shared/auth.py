"""Staff accounts and bearer tokens that work on every service.

A token is the staff account's id and token version, signed with `SECRET_KEY` and
timestamped (itsdangerous). It is accepted for `STAFF_TOKEN_DAYS` days, and only while the
account exists, is active and still has that token version: the rights are the account's
as they are now, read on every request. The registration service, which owns the accounts,
reads them from its database; the orders and notify services ask it
(`GET /api/v1/staff/me`). Changing an account's role, `eupolnet staff revoke` and
`eupolnet staff deactivate` raise the version, so every older token of the account ends
at once; rotating `SECRET_KEY` is never needed for that (it would also end every
self-service link already emailed). `eupolnet staff create` or `eupolnet staff token`
prints a new token.

Services calling each other on their own behalf (the notify service fetching a PDF) use a
service token instead: signed with another salt, valid for SERVICE_TOKEN_SECONDS.
"""
from __future__ import annotations

import functools
import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import requests
import sqlalchemy as sa
from flask import current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import UTCDateTime, db, utcnow
from shared.errors import ApiError, problem

ROLES = ("admin", "events", "publications")
TOKEN_SALT = "eupolnet-staff-token"
SERVICE_TOKEN_SALT = "eupolnet-service-token"
SERVICE_TOKEN_SECONDS = 300
#: the service that owns the staff accounts; the others ask it
ACCOUNTS_SERVICE = "registration"
#: seconds to connect to, and to read from, the accounts service
ACCOUNTS_TIMEOUT = (2, 5)
#: while the accounts service does not answer, its last answer for a token is used for at
#: most this long, so staff can go on working through a short outage; whenever it answers,
#: its answer counts at once (a revoked token is refused as soon as it is asked again)
STALE_ACCOUNT_SECONDS = 300
REVOKED = problem("token_revoked", "This staff token no longer grants access (account changed, revoked or removed): get a new one.")
EXPIRED = problem("token_expired", "The staff token has expired: get a new one with `eupolnet staff token EMAIL`.")
REQUIRED = problem("token_required", "A valid staff token is required (Authorization: Bearer <token>).")
#: the accounts service's 401s by code, so the other services answer the same code, in their caller's language
TOKEN_REFUSALS = {refusal.code: refusal for refusal in (REVOKED, EXPIRED, REQUIRED)}


class StaffAccount(db.Model):
    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    #: one of ROLES; admin may do everything
    role: Mapped[str] = mapped_column(sa.String(20))
    #: werkzeug password hash for the back office; API access only needs the token
    password_hash: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: an inactive account's tokens and sessions are refused
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: in every token issued; raising it ends the account's older tokens
    token_version: Mapped[int] = mapped_column(default=1, server_default="1")


class StaffSession(db.Model):
    """A back-office login; logging out deletes it, so a copied cookie stops working."""

    __tablename__ = "staff_session"

    #: SHA-256 of the random id in the session cookie (a database leak opens no session)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class Staff:
    """Who is calling, as read from a valid token."""

    id: int
    email: str
    role: str

    def may(self, role: str) -> bool:
        return self.role == "admin" or self.role == role


@contextmanager
def _accounts_session(url: str) -> Iterator[Session]:
    """A session on the registration database at `url`, for the command line."""
    engine = sa.create_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def find_staff_account(url: str, email: str) -> StaffAccount | None:
    """The staff account `email` in the registration database at `url`."""
    with _accounts_session(url) as session:
        return session.scalar(sa.select(StaffAccount).where(StaffAccount.email == email.strip().lower()))


def _end_sessions(session: Session, account: StaffAccount) -> None:
    session.execute(sa.delete(StaffSession).where(StaffSession.account_id == account.id))


def save_staff_account(url: str, email: str, role: str, password: str | None = None) -> StaffAccount:
    """Create the staff account `email` in the registration database at `url`, or update its
    role (and password, when given) and make it active. A new role ends the account's older
    tokens; a new password ends its back-office sessions."""
    from werkzeug.security import generate_password_hash

    with _accounts_session(url) as session:
        account = session.scalar(sa.select(StaffAccount).where(StaffAccount.email == email.strip().lower()))
        if account is None:
            account = StaffAccount(email=email.strip().lower(), role=role, token_version=1)
            session.add(account)
        elif account.role != role:
            account.token_version += 1
        account.role = role
        account.active = True
        if password:
            account.password_hash = generate_password_hash(password)
            _end_sessions(session, account)
        session.commit()
        return account


def revoke_staff_account(url: str, email: str, deactivate: bool = False) -> StaffAccount | None:
    """End every token and back-office session of the staff account `email` (None when there
    is no such account); `deactivate` also refuses new ones until `save_staff_account`."""
    with _accounts_session(url) as session:
        account = session.scalar(sa.select(StaffAccount).where(StaffAccount.email == email.strip().lower()))
        if account is None:
            return None
        account.token_version += 1
        if deactivate:
            account.active = False
        _end_sessions(session, account)
        session.commit()
        return account


def issue_token(account: StaffAccount, secret_key: str) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
    return serializer.dumps({"id": account.id, "v": account.token_version})


def issue_service_token(service: str, secret_key: str) -> str:
    """A token with which `service` calls the other services on its own behalf (as admin)."""
    return URLSafeTimedSerializer(secret_key, salt=SERVICE_TOKEN_SALT).dumps({"service": service})


def read_service_token(token: str, secret_key: str) -> str | None:
    """The calling service's name; None for anything else, or one older than SERVICE_TOKEN_SECONDS."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=SERVICE_TOKEN_SALT).loads(token, max_age=SERVICE_TOKEN_SECONDS)
    except BadSignature:
        return None
    return data.get("service") if isinstance(data, dict) and isinstance(data.get("service"), str) else None


class TokenExpired(Exception):
    """A staff token that was valid once, signed longer ago than its lifetime."""


def read_token(token: str, secret_key: str, max_age_seconds: int | None = None) -> dict[str, Any] | None:
    """The token's data (`id`, `v`); None when it is not ours. Raises TokenExpired past
    `max_age_seconds`. Whether its account still accepts it is `current_staff`'s check."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise TokenExpired() from None
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(key), int) for key in ("id", "v")):
        return None
    return data


def current_staff() -> Staff:
    """The authenticated staff member of this request, with the account's current role;
    401 when there is none or its token no longer counts."""
    if "staff" in g:
        return g.staff
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    settings = current_app.extensions["eupolnet_settings"]
    try:
        data = read_token(token, settings.secret_key, settings.staff_token_days * 24 * 3600) if token else None
    except TokenExpired:
        raise ApiError(EXPIRED, status=401) from None
    if data is not None:
        g.staff = _account_staff(data) if current_app.extensions["eupolnet_service"] == ACCOUNTS_SERVICE else _ask_accounts(token)
        return g.staff
    service = read_service_token(token, settings.secret_key) if token else None
    if service is None:
        raise ApiError(REQUIRED, status=401)
    g.staff = Staff(id=0, email=f"{service}@service", role="admin")
    return g.staff


def _account_staff(data: dict[str, Any]) -> Staff:
    """The account behind a token's data, as it is now (in the accounts service)."""
    account = db.session.get(StaffAccount, data["id"])
    if account is None or not account.active or account.token_version != data["v"]:
        raise ApiError(REVOKED, status=401)
    return Staff(id=account.id, email=account.email, role=account.role)


#: the accounts service's last answer per token (by its hash): when it came, and the staff member
_last_answers: dict[str, tuple[float, Staff]] = {}


def _ask_accounts(token: str) -> Staff:
    """The account behind `token`, as the accounts service says it is now (or said it was
    less than STALE_ACCOUNT_SECONDS ago, while it does not answer)."""
    url = f"{current_app.extensions['eupolnet_settings'].service_url(ACCOUNTS_SERVICE)}/api/v1/staff/me"
    key = hashlib.sha256(token.encode()).hexdigest()
    try:
        response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=ACCOUNTS_TIMEOUT)
        body = response.json()
    except (requests.RequestException, ValueError):
        response, body = None, None
    if response is not None and response.status_code == 401 and isinstance(body, dict):
        _last_answers.pop(key, None)
        raise ApiError(TOKEN_REFUSALS.get(body.get("code"), REVOKED), status=401)
    if response is None or response.status_code != 200 or not isinstance(body, dict) or body.get("role") not in ROLES:
        answered_at, staff = _last_answers.get(key, (0.0, None))
        if staff is not None and time.monotonic() - answered_at < STALE_ACCOUNT_SECONDS:
            return staff
        raise ApiError(problem("accounts_unavailable", "Staff tokens cannot be checked right now: the registration service does not answer."), status=503)
    staff = Staff(id=body["id"], email=body["email"], role=body["role"])
    _last_answers[key] = (time.monotonic(), staff)
    return staff


#: the OpenAPI name of the staff bearer token (shared.web declares the scheme)
SECURITY_SCHEME = "staffToken"


def staff_required(role: str | None = None) -> Callable:
    """Decorate a view that needs a staff member with `role` (admins always pass), or any
    staff member when `role` is None (the view decides what each one sees). The OpenAPI
    document gets the bearer token and the 401 (and, with a role, the 403) it answers."""
    responses = {"401": "UNAUTHORIZED"} if role is None else {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if role is not None and not staff.may(role):
                raise ApiError(problem("role_required", "This needs the '%(role)s' role.", role=role), status=403)
            return view(*args, **kwargs)

        wrapper.staff_role = role  # type: ignore[attr-defined]  (what tests/security/test_url_map.py reads)
        return SmorestBlueprint.doc(security=[{SECURITY_SCHEME: []}], responses=responses)(wrapper)

    return decorator
