"""Staff accounts and bearer tokens that work on every service.

A token is the staff account's id and role, signed with `SECRET_KEY` and timestamped
(itsdangerous), so every service checks it without asking another one. It is accepted for
`STAFF_TOKEN_DAYS` days; `eupolnet staff create` or `eupolnet staff token` prints a new
one. The back office and the services mint short-lived ones for each call. Rotating
`SECRET_KEY` revokes every token at once (there is no per-token revocation list).
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import sqlalchemy as sa
from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import UTCDateTime, db, utcnow
from shared.errors import ApiError

ROLES = ("admin", "events", "publications")
TOKEN_SALT = "eupolnet-staff-token"


class StaffAccount(db.Model):
    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    #: one of ROLES; admin may do everything
    role: Mapped[str] = mapped_column(sa.String(20))
    #: werkzeug password hash for the back office; API access only needs the token
    password_hash: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
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


def save_staff_account(url: str, email: str, role: str, password: str | None = None) -> StaffAccount:
    """Create the staff account `email` in the registration database at `url`, or update its
    role (and password, when given)."""
    from werkzeug.security import generate_password_hash

    with _accounts_session(url) as session:
        account = session.scalar(sa.select(StaffAccount).where(StaffAccount.email == email.lower()))
        if account is None:
            account = StaffAccount(email=email.lower(), role=role)
            session.add(account)
        account.role = role
        if password:
            account.password_hash = generate_password_hash(password)
        session.commit()
        return account


def issue_token(account: StaffAccount, secret_key: str) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)
    return serializer.dumps(
        {"id": account.id, "email": account.email, "role": account.role}
    )


class TokenExpired(Exception):
    """A staff token that was valid once, signed longer ago than its lifetime."""


def read_token(token: str, secret_key: str, max_age_seconds: int | None = None) -> dict[str, Any] | None:
    """The token's data; None when it is not ours. Raises TokenExpired past `max_age_seconds`."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise TokenExpired() from None
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("role") not in ROLES:
        return None
    return data


def current_staff() -> Staff:
    """The authenticated staff member of this request; 401 when there is none."""
    if "staff" in g:
        return g.staff
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    lifetime = current_app.extensions["eupolnet_settings"].staff_token_days * 24 * 3600
    try:
        data = read_token(token.strip(), current_app.config["SECRET_KEY"], lifetime) if scheme.lower() == "bearer" else None
    except TokenExpired:
        raise ApiError("The staff token has expired: get a new one with `eupolnet staff token EMAIL`.", status=401) from None
    if data is None:
        raise ApiError("A valid staff token is required (Authorization: Bearer <token>).", status=401)
    g.staff = Staff(id=data["id"], email=data["email"], role=data["role"])
    return g.staff


def staff_required(role: str) -> Callable:
    """Decorate a view that needs a staff member with `role` (admins always pass)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if not staff.may(role):
                raise ApiError(f"This needs the '{role}' role.", status=403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
