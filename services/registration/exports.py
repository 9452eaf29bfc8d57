"""Participant lists as CSV and XLSX for staff."""
from __future__ import annotations

import csv
import io
import itertools
import re
from typing import Iterable

import xlsxwriter
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


#: what an XLSX file cannot hold (XML 1.0 forbids these control characters)
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def participants_csv(event: Event, registrations: Iterable[Registration]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_columns(event))
    for row in _rows(event, registrations):
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def participants_xlsx(event: Event, registrations: Iterable[Registration]) -> bytes:
    """One sheet of plain values, written by XlsxWriter in constant-memory mode (each row
    goes to a temporary file as soon as the next one starts, strings inline): a 5,000-person
    event's 70,000 cells never sit in memory as cell objects. Every value is written as what
    it is (a string never becomes a formula or a link); strings are neutralised and lose the
    characters an XLSX file cannot hold (rows stored before they were refused at the door
    must not break the download)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Participants")
    for number, row in enumerate(itertools.chain([_columns(event)], _rows(event, registrations))):
        for column, value in enumerate(row):
            if isinstance(value, bool):
                sheet.write_boolean(number, column, value)
            elif isinstance(value, (int, float)):
                sheet.write_number(number, column, value)
            elif value is not None and value != "":
                sheet.write_string(number, column, ILLEGAL_CHARACTERS.sub("\ufffd", str(_cell(value))))
    workbook.close()
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
