"""Back-office pages whose data lives in the orders and notify services, read and changed
through their staff APIs as the logged-in staff member; and the audit log of all three."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import requests
import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from services.registration.backoffice import bp, role_required
from services.registration.backoffice.forms import OrderForm
from services.registration.backoffice.i18n import gettext as _, language
from services.registration.models import MemberOrganisation
from shared import audit
from shared.auth import StaffAccount, issue_token
from shared.contracts.notify import DELIVERY_STATUSES
from shared.contracts.orders import ORDER_ACTIONS, ORDER_STATUSES
from shared.db import close_before_call, db
from shared.i18n import pick
from shared.pagination import Page, requested_page
from shared.web import settings

AUDIT_SERVICES = ("registration", "orders", "notify")


class Unavailable(Exception):
    """Another service could not be reached."""


def service_api(service: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    """Call `service`'s staff API as the logged-in staff member (a token issued for them)."""
    account = db.session.get(StaffAccount, g.staff.id)
    token = issue_token(account, settings().secret_key)
    close_before_call()  # the other service may call this one back (shared.db, the transaction rule)
    try:
        return requests.request(method, f"{settings().service_url(service)}/api/v1{path}",
                                headers={"Authorization": f"Bearer {token}", "Accept-Language": language()}, timeout=15, **kwargs)
    except requests.RequestException as error:
        raise Unavailable(service) from error


def _api_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _("The service answered {status}.", status=response.status_code)
    message = body.get("message") or _("The service answered {status}.", status=response.status_code)
    details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in (body.get("errors") or {}).items())
    return f"{message} {details}".strip()


def _fetch(service: str, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]] | None:
    """A list from another service's staff API; None (after flashing why) when it fails."""
    try:
        response = service_api(service, "GET", path, params=params or {})
    except Unavailable:
        flash(_("The {service} service cannot be reached right now.", service=service), "error")
        return None
    if not response.ok:
        flash(_api_message(response), "error")
        return None
    return response.json()


def _remote_action(service: str, path: str, what: str) -> dict[str, Any] | None:
    """POST to another service's staff API (which checks the role and writes the audit
    entry); its answer, or None after flashing why it failed."""
    try:
        response = service_api(service, "POST", path)
    except Unavailable:
        flash(_("{what}: the {service} service cannot be reached; nothing was changed.", what=what, service=service), "error")
        return None
    if not response.ok:
        flash(_("{name}: {message}", name=what, message=_api_message(response)), "error")
        return None
    return response.json()


def _status(statuses: tuple[str, ...], default: str) -> str:
    status = request.values.get("status", default)
    return status if status in statuses else default


def _work_queue(service: str, path: str, template: str, statuses: tuple[str, ...], default: str) -> ResponseReturnValue:
    """A page of another service's records with one status (`?status=`, else `default`)."""
    status = _status(statuses, default)
    rows = _fetch(service, path, {"status": status})
    return render_template(template, rows=rows or [], status=status, statuses=statuses), 200 if rows is not None else 503


# --- orders ------------------------------------------------------------------------------

#: the orders page's first tab: every order, whatever its status
ALL = "all"
ORDER_TABS = (ALL, *ORDER_STATUSES)
ORDERS_PER_PAGE = 100


def _fetch_page(service: str, path: str, number: int, per_page: int, params: dict[str, Any]) -> Page | None:
    """Page `number` of a list from another service's staff API (shared.pagination); None
    (after flashing why) when it fails."""
    try:
        response = service_api(service, "GET", path, params={**params, "page": number, "per_page": per_page})
    except Unavailable:
        flash(_("The {service} service cannot be reached right now.", service=service), "error")
        return None
    if not response.ok:
        flash(_api_message(response), "error")
        return None
    return Page(items=response.json(), number=number, per_page=per_page, total=int(response.headers["X-Total-Count"]))


@bp.get("/orders")
@role_required("publications")
def orders() -> ResponseReturnValue:
    """A page of the orders of one tab (`?status=`, else all), and how many each tab holds
    (the total of a one-row page of each status)."""
    status = _status(ORDER_TABS, ALL)
    page = _fetch_page("orders", "/orders", requested_page(), ORDERS_PER_PAGE, {} if status == ALL else {"status": status})
    counts: Counter[str] = Counter()
    if page is not None:
        for each in ORDER_STATUSES:
            counted = page if each == status else _fetch_page("orders", "/orders", 1, 1, {"status": each})
            counts[each] = counted.total if counted is not None else 0
        counts[ALL] = sum(counts.values())
    return render_template("backoffice/orders.html", page=page, rows=page.items if page else [], status=status, tabs=ORDER_TABS,
                           counts=counts), 200 if page is not None else 503


@bp.route("/orders/new", methods=["GET", "POST"])
@role_required("publications")
def new_order() -> ResponseReturnValue:
    message, status = None, 200
    publications = [("", _("(none)"))] + [
        (p["slug"], _("{title} — {count} in stock", title=pick(p["title"], language()) or p["slug"], count=p["stock"]))
        for p in _fetch("orders", "/publications") or []
    ]
    form = OrderForm(request.form if request.method == "POST" else None, publications=publications)
    if request.method == "POST":
        if form.check():
            try:
                response = service_api("orders", "POST", "/orders", json=form.payload())
            except Unavailable:
                message, status = _("The orders service cannot be reached; the order was not recorded."), 503
            else:
                if response.status_code == 201:
                    order = response.json()
                    flash(_("Order {number} recorded ({status}).", number=order["number"], status=_(order["status"])))
                    return redirect(url_for("backoffice.orders", status=order["status"]))
                body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
                form.refuse_order(body.get("errors") or {})
                message = body.get("message") or _("The service answered {status}.", status=response.status_code)
                status = response.status_code if 400 <= response.status_code < 500 else 502
        if form.has_errors() and not message:
            message, status = _("Please correct the fields marked below."), 422
    return render_template("backoffice/order_form.html", form=form, message=message), status


@bp.post("/orders/<int:order_id>/<action>")
@role_required("publications")
def order_action(order_id: int, action: str) -> ResponseReturnValue:
    if action not in ORDER_ACTIONS:
        abort(404)
    result = _remote_action("orders", f"/orders/{order_id}/{action}", _("Order {number}", number=order_id))
    if result is not None:
        flash(_("Order {number} is now {status}.", number=result["number"], status=_(result["status"])))
    page = requested_page()
    return redirect(url_for("backoffice.orders", status=_status(ORDER_TABS, ALL), page=page if page > 1 else None))


@bp.get("/orders/<int:order_id>/invoice.pdf")
@role_required("publications")
def order_invoice(order_id: int) -> ResponseReturnValue:
    try:
        response = service_api("orders", "GET", f"/orders/{order_id}/invoice.pdf")
    except Unavailable:
        abort(503)
    if not response.ok:
        abort(response.status_code if response.status_code in (403, 404) else 502)
    return response.content, 200, {"Content-Type": "application/pdf",
                                   "Content-Disposition": f'inline; filename="order-{order_id}-invoice.pdf"'}


@bp.get("/free-copies")
@role_required("publications")
def free_copies() -> ResponseReturnValue:
    """Free copies used per member organisation: the ledger is the orders service's, the
    organisations' names are in this service's member directory."""
    ledger = _fetch("orders", "/free-copies")
    names = dict(db.session.execute(sa.select(MemberOrganisation.id, MemberOrganisation.name)).all())
    q = request.args.get("q", "").strip().lower()
    rows = sorted(
        ({**row, "organisation": names.get(row["member_organisation_id"], f"#{row['member_organisation_id']}")} for row in ledger or []),
        key=lambda row: (row["organisation"].lower(), row["publication"]),
    )
    rows = [row for row in rows if q in row["organisation"].lower()]
    return render_template("backoffice/free_copies.html", rows=rows, q=q), 200 if ledger is not None else 503


# --- emails ------------------------------------------------------------------------------

@bp.get("/emails")
@role_required("admin")
def emails() -> ResponseReturnValue:
    return _work_queue("notify", "/deliveries", "backoffice/emails.html", DELIVERY_STATUSES, "failed")


@bp.post("/emails/<int:delivery_id>/resend")
@role_required("admin")
def resend_email(delivery_id: int) -> ResponseReturnValue:
    result = _remote_action("notify", f"/deliveries/{delivery_id}/resend", _("Email {number}", number=delivery_id))
    if result is not None:
        flash(_("The email to {recipient} is queued again.", recipient=result["recipient"]))
    return redirect(url_for("backoffice.emails", status=_status(DELIVERY_STATUSES, "failed")))


# --- audit log ---------------------------------------------------------------------------

@bp.get("/audit")
@role_required("admin")
def audit_log() -> ResponseReturnValue:
    """The three services' audit entries, newest first."""
    action = request.args.get("action", "").strip()[:60]
    limit = 200
    entries = [{**audit.AuditOut().dump(entry), "service": "registration"} for entry in audit.entries(action or None, limit)]
    for service in AUDIT_SERVICES[1:]:
        remote_entries = _fetch(service, "/audit", {"action": action, "limit": limit} if action else {"limit": limit})
        entries += [{**entry, "service": service} for entry in remote_entries or []]
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    for entry in entries:
        for side in ("before", "after"):
            entry[side] = "" if entry[side] is None else json.dumps(entry[side], ensure_ascii=False, sort_keys=True)
    return render_template("backoffice/audit.html", entries=entries[:limit], action=action)
