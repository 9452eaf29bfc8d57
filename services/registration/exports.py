"""Participant lists as CSV and XLSX for staff."""
from __future__ import annotations

import csv
import io
import re
from typing import Iterable

from flask import Response

from services.registration.models import Event, Registration


def _columns(event: Event) -> list[str]:
    standard = ["number", "status", "first_name", "last_name", "email", "organisation", "member_organisation",
                "position", "city", "country", "language", "registered_at", "checked_in_at"]
    return standard + [f"answer_{field['name']}" for field in event.extra_fields or []]


def _rows(event: Event, registrations: Iterable[Registration]) -> Iterable[list]:
    for registration in registrations:
        yield [
            registration.id,
            registration.status,
            registration.first_name,
            registration.last_name,
            registration.email,
            registration.organisation or "",
            registration.member_organisation.name if registration.member_organisation else "",
            registration.position or "",
            registration.city or "",
            registration.country or "",
            registration.language,
            registration.created_at.isoformat(),
            registration.checked_in_at.isoformat() if registration.checked_in_at else "",
        ] + [_cell(registration.answers.get(field["name"], "")) for field in event.extra_fields or []]


#: what a spreadsheet reads as the start of a formula, also after a tab or carriage return
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Neutralise spreadsheet formulas typed into a form (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _xlsx_cell(value: object, illegal: re.Pattern) -> object:
    """A neutralised cell without the `illegal` control characters an XLSX file cannot hold
    (rows stored before they were refused at the door must not break the download)."""
    value = _cell(value)
    return illegal.sub("\ufffd", value) if isinstance(value, str) else value


def participants_csv(event: Event, registrations: Iterable[Registration]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_columns(event))
    for row in _rows(event, registrations):
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def participants_xlsx(event: Event, registrations: Iterable[Registration]) -> bytes:
    # openpyxl (about 20 MB) is loaded by the first export, not by every web worker
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Participants")
    sheet.append(_columns(event))
    for row in _rows(event, registrations):
        sheet.append([_xlsx_cell(value, ILLEGAL_CHARACTERS_RE) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: download format → (MIME type, writer)
FORMATS = {
    "csv": ("text/csv", participants_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", participants_xlsx),
}


def download(event: Event, registrations: Iterable[Registration], format_: str) -> Response:
    """The participant list of `event` as an attachment in `format_` (a key of FORMATS)."""
    mimetype, write = FORMATS[format_]
    return Response(write(event, registrations), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{event.slug}-participants.{format_}"'})
