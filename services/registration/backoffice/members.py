"""Back-office pages for the member directory: the list, and the CSV import with a preview."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import CombinedMultiDict

from services.registration import staff
from services.registration.backoffice import bp, role_required
from services.registration.backoffice.forms import MemberImportForm
from services.registration.backoffice.i18n import gettext as _
from services.registration.members import CSV_COLUMNS
from services.registration.models import MemberDomain, MemberOrganisation
from shared.db import db


@bp.get("/members")
@role_required("events")
def members() -> ResponseReturnValue:
    q = request.args.get("q", "").strip()
    statement = (sa.select(MemberOrganisation).options(selectinload(MemberOrganisation.domains), selectinload(MemberOrganisation.addresses))
                 .order_by(MemberOrganisation.active.desc(), MemberOrganisation.name))
    if q:
        pattern = f"%{q.lower()}%"
        statement = statement.where(sa.or_(
            sa.func.lower(MemberOrganisation.name).like(pattern),
            MemberOrganisation.id.in_(sa.select(MemberDomain.organisation_id).where(MemberDomain.domain.like(pattern))),
        ))
    return render_template("backoffice/members.html", organisations=db.session.scalars(statement).all(), q=q)


@bp.route("/members/import", methods=["GET", "POST"])
@role_required("events")
def import_members() -> ResponseReturnValue:
    """Step 1 posts the file and shows what would happen, row by row, writing nothing;
    step 2 (`confirm`) posts the same text back and imports it."""
    form = MemberImportForm(CombinedMultiDict((request.files, request.form)) if request.method == "POST" else None)
    if request.method == "GET" or not form.check():
        return render_template("backoffice/members_import.html", form=form, report=None, columns=CSV_COLUMNS), \
            422 if form.has_errors() else 200
    report = staff.import_members(form.text, dry_run=not form.confirm.data)
    if form.confirm.data and not report.errors:
        db.session.commit()
        flash(_("Member directory imported: {created} created, {updated} updated.", created=report.created, updated=report.updated))
        return redirect(url_for("backoffice.members"))
    db.session.rollback()
    return render_template("backoffice/members_import.html", form=form, report=report, columns=CSV_COLUMNS), \
        422 if report.errors else 200
