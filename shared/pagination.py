"""Lists that grow, one page at a time: `?page=` (from 1) and `?per_page=` (at most
MAX_PER_PAGE), read from a statement whose order is total (its last key unique), so every
row is on exactly one page while nothing changes.

The API answers a page as the same JSON list as before, with headers (RFC 8288 links, as
GitHub's API does): `Link` to the `first`, `prev`, `next` and `last` pages and
`X-Total-Count`, the rows of every page together. The back office renders the same `Page`
with its pager. Page numbers rather than cursors: the back office shows "page 3 of 25" and
links to any page, and an offset into the few thousand rows of one event, or the tens of
thousands of orders, costs little next to fetching the rows.
"""
from __future__ import annotations

import dataclasses
from typing import Generic, TypeVar
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import request
from marshmallow import Schema, fields, validate

from shared.db import db
from shared.schemas import StrictSchema

T = TypeVar("T")

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500

#: what the API documents of the headers of a page (flask-smorest's `response(headers=)`)
PAGE_HEADERS = {
    "Link": {"description": "The first, prev, next and last pages (RFC 8288): `<url>; rel=\"next\"`, ...; "
                            "no `next` on the last page.", "schema": {"type": "string"}},
    "X-Total-Count": {"description": "The rows of every page together.", "schema": {"type": "integer"}},
}


class PageQuery(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def paged(query: type[Schema]) -> type[Schema]:
    """The query-string schema `query` with `page` and `per_page` (so a strict schema takes them)."""
    return type(query.__name__.removesuffix("Query") + "PageQuery", (query, PageQuery), {})


@dataclasses.dataclass
class Page(Generic[T]):
    items: list[T]
    #: this page's number, from 1
    number: int
    per_page: int
    #: the rows of every page together
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (1 for an empty list: its one page says so)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def first_row(self) -> int:
        """The place of this page's first row in the whole list, from 1 (0 when the page is empty)."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_row(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)


def page_of(statement: sa.Select, number: int, per_page: int) -> Page:
    """Page `number` of the ORM rows `statement` selects, and how many it selects in all.
    A page past the last is empty (its links still lead back)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        statement.order_by(None).with_only_columns(sa.literal(1), maintain_column_froms=True).subquery()))
    items = list(db.session.scalars(statement.limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, number=number, per_page=per_page, total=total or 0)


def requested_page() -> int:
    """`?page=` of a page of the back office (its forms post it back too): 1 unless a page number."""
    number = request.values.get("page", "")
    return int(number) if number.isdigit() and 0 < int(number) <= 1_000_000 else 1


def page_url(number: int) -> str:
    """This request's URL with `page=number` (its other arguments kept)."""
    arguments = request.args.to_dict(flat=False)
    arguments["page"] = [str(number)]
    return f"{request.base_url}?{urlencode(arguments, doseq=True)}"


def page_headers(page: Page) -> dict[str, str]:
    """The `Link` and `X-Total-Count` headers of `page` in an API answer."""
    links = {"first": 1, "prev": min(page.number - 1, page.pages) if page.number > 1 else None,
             "next": page.number + 1 if page.number < page.pages else None, "last": page.pages}
    return {"Link": ", ".join(f'<{page_url(number)}>; rel="{rel}"' for rel, number in links.items() if number),
            "X-Total-Count": str(page.total)}
