"""The audit log: every staff action, who did it, when, and the state before and after.

Each service writes its own `audit_entry` table in the same transaction as the change it
records, so an entry exists exactly when the change does (a failed action leaves none).
Staff act through the API (bearer token) or the back office (session); both set the
staff member `current_staff()` returns. `GET /api/v1/audit` (admin) lists a service's
entries; the back office merges the three services' lists.

Entries hold states (statuses, counts, settings), never a registrant's or buyer's personal
data: an erasure then leaves nothing behind in the audit log.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import current_staff, staff_required
from shared.db import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    staff_id: Mapped[int]
    staff_email: Mapped[str] = mapped_column(sa.String(254))
    #: what was done, e.g. `event.update`, `registration.promote`, `order.invoice`
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    #: what it was done to, e.g. an event's slug, `slug/number`, an order number
    target: Mapped[str] = mapped_column(sa.String(200))
    before: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)


def jsonable(value: Any) -> Any:
    """`value` as JSON can store it (dates as ISO 8601 text)."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def record(action: str, target: str, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    """Add an audit entry for the current staff member to the session: it is written by
    the same commit as the change it describes."""
    staff = current_staff()
    db.session.add(AuditEntry(staff_id=staff.id, staff_email=staff.email, action=action, target=str(target),
                              before=jsonable(before), after=jsonable(after)))


def snapshot(record_: Any, names: Any) -> dict[str, Any]:
    """The attributes `names` of `record_`, for an entry's `before` or `after`."""
    return {name: getattr(record_, name) for name in names}


class AuditQuery(Schema):
    action = fields.String(validate=validate.Length(max=60))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class AuditOut(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    staff_email = fields.String()
    action = fields.String()
    target = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit log of staff actions")


@blp.route("/audit")
@staff_required("admin")
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditOut(many=True))
def list_audit(query: dict):
    """This service's audit entries, newest first (`?action=` prefix, e.g. `order.`)."""
    return entries(query.get("action"), query["limit"])


def entries(action: str | None, limit: int) -> list[AuditEntry]:
    statement = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if action:
        statement = statement.where(AuditEntry.action.startswith(action, autoescape=True))
    return list(db.session.scalars(statement))
