"""HTML to PDF with WeasyPrint, fetching only resources packaged with the project.

Documents are rendered from our own templates, but they carry customer data (names,
addresses), so the renderer must never reach the network or read arbitrary files:
the URL fetcher accepts `data:` URLs and regular files under one resource directory,
and stops the render with `ResourceRefused` for anything else.

WeasyPrint is imported on the first render, not with this module: it costs about 0.6 s
and tens of MB, which only the processes that render pay, not every web worker.
"""
from __future__ import annotations

import functools
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

if TYPE_CHECKING:
    import pydyf
    import weasyprint


class ResourceRefused(Exception):
    """A document referred to a resource outside the allowed ones."""


@functools.cache
def _fetcher_class() -> type:
    """The URL fetcher class, defined on first use (it subclasses WeasyPrint's)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class _PackagedResourceFetcher(URLFetcher):
        def __init__(self, resource_dir: Path | None) -> None:
            # fail_on_errors: a missing logo or stylesheet stops the render instead of
            # silently producing a document without it.
            super().__init__(fail_on_errors=True)
            self._root = resource_dir.resolve() if resource_dir is not None else None

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            if parts.scheme.lower() == "data":
                return super().fetch(url, headers)
            if (
                parts.scheme.lower() == "file"
                and parts.netloc in ("", "localhost")
                and self._root is not None
            ):
                path = Path(url2pathname(parts.path)).resolve()
                if path.is_relative_to(self._root):
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(
                        url, path.read_bytes(), {"Content-Type": content_type}
                    )
            raise ResourceRefused(
                f"refused to fetch {url!r}: only data: URLs and files under "
                f"{self._root or '(no resource directory)'} are allowed"
            )

    return _PackagedResourceFetcher


def render_pdf(
    html: str,
    *,
    resource_dir: Path | None = None,
    pdf_variant: str | None = None,
    finisher: Callable[[weasyprint.Document, pydyf.PDF], None] | None = None,
) -> bytes:
    """Render `html` to PDF bytes.

    Relative URLs in the HTML and CSS resolve inside `resource_dir`, the only
    directory files may be read from. `pdf_variant` is a WeasyPrint variant such as
    "pdf/a-3b"; `finisher` is WeasyPrint's hook to change the PDF before it is written.

    Raises `ResourceRefused` when the document refers to the network or to a file
    outside `resource_dir`, and `OSError` when an allowed file cannot be read.
    """
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _fetcher_class()(resource_dir)
    base_url = resource_dir.resolve().as_uri() + "/" if resource_dir is not None else None
    try:
        document = weasyprint.HTML(
            string=html, base_url=base_url, url_fetcher=fetcher
        ).render(pdf_variant=pdf_variant)
        return document.write_pdf(finisher=finisher, pdf_variant=pdf_variant)
    except FatalURLFetchingError as error:
        # WeasyPrint wraps the fetcher's exception in a BaseException; hand back ours.
        raise error.__cause__ from None
