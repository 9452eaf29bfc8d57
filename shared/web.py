"""What every service's Flask app has: settings, database, OpenAPI, errors, health checks."""
from __future__ import annotations

import secrets
from typing import Callable, Iterable, TypeVar

import redis
from flask import Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api, Blueprint
from werkzeug.routing import IntegerConverter
from werkzeug.middleware.proxy_fix import ProxyFix

from shared import audit, i18n, observability
from shared.auth import SECURITY_SCHEME
from shared.config import Settings, load_settings
from shared.db import db, engine_options, ping, ping_when_idle, retry_on_lock_conflict
from shared.errors import INVALID_FIELDS, ErrorSchema, error_response, problem, register_error_handlers
from shared.schemas import FORBIDDEN_CHARACTERS, FORBIDDEN_MESSAGE, MAX_ID
from shared.migrations import migration_state
from shared.outbox import outbox_metrics

#: Bodies larger than this are refused with 413 before any parsing.
MAX_BODY_BYTES = 64 * 1024


class ServiceApi(Api):
    """flask-smorest's Api, documenting our error JSON (with its codes) instead of its own."""

    ERROR_SCHEMA = ErrorSchema


def settings() -> Settings:
    return current_app.extensions["eupolnet_settings"]


class ServiceApp(Flask):
    """A service's Flask app: each request is one transaction, run again after a lock conflict."""

    def dispatch_request(self) -> ResponseReturnValue:
        return retry_on_lock_conflict(super().dispatch_request)


def create_service_app(
    name: str,
    blueprints: Iterable[Blueprint],
    config: Settings | None = None,
    import_name: str | None = None,
) -> Flask:
    """Build a service's app: `name` selects its database URL, port and OpenAPI title."""
    config = config or load_settings()
    app = ServiceApp(import_name or f"services.{name}")
    app.url_map.converters["int"] = IdConverter
    url = config.database_url(name)
    app.config.update(
        SECRET_KEY=config.secret_key,
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(url),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        API_TITLE=f"EU-POLNET {name} service",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.extensions["eupolnet_settings"] = config
    app.extensions["eupolnet_service"] = name
    db.init_app(app)
    with app.app_context():
        ping_when_idle(db.engine)
    i18n.init_app(app)
    api = ServiceApi(app)
    api.spec.components.security_scheme(SECURITY_SCHEME, {
        "type": "http", "scheme": "bearer",
        "description": "a staff token (`eupolnet staff token EMAIL`); it counts while its account has the rights"})
    for blueprint in (*blueprints, audit.blp):
        api.register_blueprint(blueprint)
    register_error_handlers(app)
    app.before_request(_refuse_forbidden_text)
    app.before_request(_require_json_body)
    from shared import pages  # it reads `settings` from here

    app.register_blueprint(pages.bp)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.add_url_rule("/readyz", "readyz", _readyz)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_security_headers)
    observability.init_app(app)
    observability.scraped(app, outbox_metrics)
    if config.trusted_proxies:
        # The client is who the last TRUSTED_PROXIES proxies say it is (X-Forwarded-For,
        # -Proto, -Host); a request that came through no proxy still names its peer.
        n = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app


class IdConverter(IntegerConverter):
    """`<int:…>` in every service's routes: a record id, 1 to MAX_ID. A larger number matches
    no route (404) instead of overflowing the database's integer."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002  (werkzeug's name)
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _refuse_forbidden_text() -> ResponseReturnValue | None:
    """A path segment, query parameter or form field with a forbidden character (see
    shared.schemas) is refused before any view runs: 404 for a path, 422 otherwise, naming
    it. (JSON bodies are checked by every StrictSchema.)"""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and FORBIDDEN_CHARACTERS.search(value):
            return error_response(404, problem("not_found", "Nothing is found at this address."), {name: [FORBIDDEN_MESSAGE]})
    sources = (request.args, request.form) if request.method == "POST" else (request.args,)
    errors = {
        name: [FORBIDDEN_MESSAGE]
        for source in sources
        for name, value in source.items(multi=True)
        if FORBIDDEN_CHARACTERS.search(name) or FORBIDDEN_CHARACTERS.search(value)
    }
    if errors:
        return error_response(422, INVALID_FIELDS, errors)
    return None


def _require_json_body() -> ResponseReturnValue | None:
    """API writes take JSON (or CSV for imports) only: a foreign page cannot post a plain
    HTML form to them, since neither type is allowed cross-origin without a CORS preflight."""
    if request.method not in {"POST", "PUT", "PATCH"} or not request.path.startswith("/api/"):
        return None
    if not request.content_length and not request.get_data(cache=True):
        return None
    if request.mimetype == "text/csv":
        return None
    if request.mimetype != "application/json":
        return error_response(415, problem("json_expected", "Send a JSON body (Content-Type: application/json)."),
                              {"body": [problem("json_expected", "Expected application/json.")]})
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return error_response(400, problem("too_deep", "The body's JSON is nested too deeply."), {"body": [problem("too_deep", "Nested too deeply.")]})
    if body is None:
        return error_response(400, problem("malformed_json", "The body is not valid JSON."), {"body": [problem("malformed_json", "Malformed JSON.")]})
    return None


#: What every HTML page may load: its own scripts and styles (static files), a `<style>`
#: carrying this response's nonce, its own images, and forms posting to itself only.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'{nonce}; img-src 'self' data:; connect-src 'self'; "
               "form-action 'self'; base-uri 'none'; frame-ancestors {frame_ancestors}")
View = TypeVar("View", bound=Callable)


def file_download(content_type: str, description: str) -> Callable[[View], View]:
    """Document a view whose 200 is a file of `content_type` (CSV, XLSX, PDF) in the OpenAPI document."""
    return Blueprint.doc(responses={"200": {"description": description,
                                            "content": {content_type: {"schema": {"type": "string", "format": "binary"}}}}})


def embeddable(view: View) -> View:
    """Mark a page that the CMS sites of EMBED_ALLOWED_ORIGINS may frame (the public form
    without JavaScript); every other page may be framed by nobody."""
    view.embeddable = True  # type: ignore[attr-defined]
    return view


def csp_nonce() -> str:
    """This response's nonce for an inline `<style>` (templates: `nonce="{{ csp_nonce() }}"`)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _security_headers(response: Response) -> Response:
    """Every answer: no MIME sniffing, no Referer leaving the site (self-service links hold
    their token in the path), and no framing; an HTML page also gets PAGE_POLICY. The
    cross-origin resources of the embed (embed.js, the JSON API) are read, never framed."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "embeddable", False):
        frame_ancestors = " ".join(("'self'", *settings().embed_allowed_origins))
    else:
        frame_ancestors = "'none'"
    if response.mimetype == "text/html":
        nonce = f" 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else ""
        policy = PAGE_POLICY.format(nonce=nonce, frame_ancestors=frame_ancestors)
    else:
        policy = f"frame-ancestors {frame_ancestors}"
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


def _healthz() -> ResponseReturnValue:
    return {"status": "ok", "service": current_app.extensions["eupolnet_service"]}


def _readyz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    try:
        ping(db.session)
        checks["database"] = "ok"
        checks["migrations"] = migration_state(current_app.extensions["eupolnet_service"], db.session.connection())
    except Exception as error:  # any failure means "not ready"; the reason is reported
        checks["database"] = f"error: {type(error).__name__}"
    finally:
        db.session.rollback()
    redis_url = settings().redis_url
    if redis_url:
        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["broker"] = "ok"
        except redis.RedisError as error:
            checks["broker"] = f"error: {type(error).__name__}"
    else:
        checks["broker"] = "error: REDIS_URL is not set"
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
