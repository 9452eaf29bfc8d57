"""What each service shows a person who opens its address in a browser: a small landing page
(`/`) naming the service, with links to its API documentation, the back office and the
health checks, and that documentation (`/docs/`): Swagger UI over `/openapi.json`.

Swagger UI's files come from the `flask-swagger-ui` package (its `dist` folder), served by
us: no CDN. Its own page template has an inline script, which our Content-Security-Policy
refuses (shared/web.py), so the page is ours and `static/docs.js` starts Swagger UI.
The page layout (`templates/shared/page.html`) is the one the services' public pages share.
"""
from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from flask import Blueprint, current_app, render_template, send_from_directory, url_for
from flask.typing import ResponseReturnValue

from shared.i18n import LANGUAGE_NAMES, N_, request_language, translate
from shared.web import settings

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/docs/static")

#: what each service does, as its landing page says
SERVICES = {
    "registration": (N_("EU-POLNET: event registrations"),
                     N_("Events, registrations with their waiting lists, tickets and check-in, and the back office.")),
    "orders": (N_("EU-POLNET: publication orders"), N_("Orders of Efus publications, their invoices and credit notes.")),
    "notify": (N_("EU-POLNET: notifications"), N_("Every email the services send, with its delivery log, and the webhooks.")),
}
#: the landing page's own texts
TEXTS = {
    "intro": N_("This address serves the service's API. People use it through the forms on the Efus website "
                "and the links in the emails they receive."),
    "docs": N_("API documentation (Swagger UI)"), "openapi": N_("OpenAPI document (JSON)"),
    "backoffice": N_("Back office (Efus staff)"), "health": N_("Health checks"),
    "healthz": N_("The service is running"), "readyz": N_("The service is ready (database and message broker)"),
    "languages": N_("Language"), "api_docs": N_("API documentation"),
}


@cache
def swagger_ui_files() -> Path:
    """Swagger UI's files as the flask-swagger-ui package ships them."""
    return Path(str(files("flask_swagger_ui") / "dist"))


def _texts(language: str) -> dict[str, str]:
    service = current_app.extensions["eupolnet_service"]
    title, description = SERVICES[service]
    return {"title": translate(language, title), "description": translate(language, description),
            **{key: translate(language, text) for key, text in TEXTS.items()}}


@bp.get("/")
def landing() -> ResponseReturnValue:
    language = request_language()
    links = {"docs": url_for("pages.api_docs"), "openapi": "/openapi.json", "healthz": "/healthz", "readyz": "/readyz",
             "backoffice": f"{settings().public_base_url}/staff/"}
    return render_template("shared/landing.html", lang=language, t=_texts(language), links=links, languages=LANGUAGE_NAMES)


@bp.get("/docs/")
def api_docs() -> ResponseReturnValue:
    language = request_language()
    return render_template("shared/docs.html", lang=language, t=_texts(language), openapi="/openapi.json")


@bp.get("/docs/swagger-ui/<path:filename>")
def swagger_ui(filename: str) -> ResponseReturnValue:
    return send_from_directory(swagger_ui_files(), filename, max_age=86400)
