"""Back-office pages for the member directory: the list, and the CSV import with a preview."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from services.registration import staff
from services.registration.backoffice import bp, role_required
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


def _uploaded_csv() -> tuple[str | None, str | None]:
    """The CSV text sent as a file or pasted (the confirmation step sends it back pasted),
    or the reason it cannot be read."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            return upload.read().decode("utf-8"), None
        except UnicodeDecodeError:
            return None, _("The file is not UTF-8 text: save it from your spreadsheet as “CSV UTF-8”.")
    text = request.form.get("csv", "")
    return (text, None) if text.strip() else (None, _("Choose a CSV file."))


@bp.route("/members/import", methods=["GET", "POST"])
@role_required("events")
def import_members() -> ResponseReturnValue:
    """Step 1 posts the file and shows what would happen, row by row, writing nothing;
    step 2 (`confirm`) posts the same text back and imports it."""
    if request.method == "GET":
        return render_template("backoffice/members_import.html", report=None, text="", error=None, columns=CSV_COLUMNS)
    text, error = _uploaded_csv()
    if text is None:
        return render_template("backoffice/members_import.html", report=None, text="", error=error, columns=CSV_COLUMNS), 422
    confirm = request.form.get("confirm") == "yes"
    report = staff.import_members(text, dry_run=not confirm)
    if confirm and not report.errors:
        db.session.commit()
        flash(_("Member directory imported: {created} created, {updated} updated.", created=report.created, updated=report.updated))
        return redirect(url_for("backoffice.members"))
    db.session.rollback()
    return render_template("backoffice/members_import.html", report=report, text=text, error=None, columns=CSV_COLUMNS), \
        422 if report.errors else 200
