"""Other websites embed our forms: CORS for the routes the embedded widget calls, and a
per-client rate limit on the submissions (the same limiter serves `rate_limit`: the member
lookup, the back-office login).

Only the origins listed in `EMBED_ALLOWED_ORIGINS` get `Access-Control-Allow-Origin`, so a
page elsewhere can neither read the form description nor send the JSON submission (its
preflight is not answered with CORS headers, so the browser never sends the POST). No
credentials are ever allowed: the widget sends no cookies and needs none.

Why not Flask-CORS (tried, 6.0): it matches paths by regular expression rather than this
app's URL rules, and it answers every preflight from a listed origin with
`Access-Control-Allow-Origin`, even for a method or a header it does not allow (a staff
PATCH, an `Authorization` header), leaving the refusal to the browser. Here such a
preflight gets no CORS header at all, which tests/embed/test_http.py holds us to; the ~40
lines below are what that costs.

The rate limit counts submissions per client address in Redis, shared by every worker; when
Redis cannot be reached each process counts in its own memory, so registrations still go
through. The client address (`client_address`) is, behind `TRUSTED_PROXIES` reverse
proxies, the address they put in X-Forwarded-For (Werkzeug's ProxyFix, set up by
shared.web); with none configured, the last X-Forwarded-For entry of a proxy on this
machine, else the peer. Only in development without a trusted proxy are callers on this
machine that came through no proxy (scripts, benchmarks, tests) not limited; in production
and behind a proxy every submission counts, so a proxy that sends no X-Forwarded-For puts
everyone in its own bucket instead of in none.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Mapping

from flask import Flask, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter, RateLimitExceeded
from werkzeug.wrappers import Response

from shared.errors import error_response, problem
from shared.i18n import request_language
from shared.web import settings

#: What the embedded widget (services/registration/static/embed.js) calls cross-origin, per
#: service: URL rule -> methods. The POST routes are the rate-limited submissions.
EMBED_ROUTES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "registration": {
        "/api/v1/events": ("GET",),
        "/api/v1/events/<slug>": ("GET",),
        "/api/v1/events/<slug>/form": ("GET",),
        "/api/v1/events/<slug>/registrations": ("POST",),
        "/api/v1/events/<slug>/groups": ("POST",),
        # the no-JavaScript pages' own submissions (same-origin, rate-limited only)
        "/events/<slug>/register": ("POST",),
        "/events/<slug>/register-group": ("POST",),
    },
    "orders": {
        "/api/v1/publications/<slug>": ("GET",),
        "/api/v1/orders": ("POST",),
        # the no-JavaScript page's own submissions (same-origin, rate-limited only)
        "/publications/<slug>/order": ("POST",),
    },
}
#: Routes that are rate-limited but never answered cross-origin.
SAME_ORIGIN_ONLY = frozenset({"/events/<slug>/register", "/events/<slug>/register-group", "/publications/<slug>/order"})

#: Per client address and route; a whole office behind one address must still get through.
SUBMISSION_LIMITS = "20 per minute;200 per hour"
PREFLIGHT_MAX_AGE = 600
ALLOWED_HEADERS = "Content-Type"


def init_embedding(app: Flask) -> Flask:
    """Answer CORS for `app`'s embed routes and rate-limit its submissions; returns `app`."""
    routes = EMBED_ROUTES[app.extensions["eupolnet_service"]]
    app.before_request(lambda: _preflight(routes))
    app.after_request(lambda response: _allow_origin(routes, response))
    redis_url = app.extensions["eupolnet_settings"].redis_url
    limiter = Limiter(
        key_func=client_address,
        storage_uri=redis_url or "memory://",
        storage_options={"socket_connect_timeout": 0.5, "socket_timeout": 0.5} if redis_url else {},
        in_memory_fallback_enabled=True,
        key_prefix=f"eupolnet:{app.extensions['eupolnet_service']}",
        default_limits=[SUBMISSION_LIMITS],
        default_limits_exempt_when=lambda: not _limited(routes),
        headers_enabled=True,
    )
    limiter.init_app(app)
    app.extensions["eupolnet_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    return app


def rate_limit(app: Flask, endpoint: str, limits: str, **options: Any) -> None:
    """Limit the view `endpoint` of `app` (after `init_embedding`) with its limiter: Flask-Limiter's
    `limit` options, per client address unless `key_func` says otherwise."""
    limiter: Limiter = app.extensions["eupolnet_limiter"]
    app.view_functions[endpoint] = limiter.limit(limits, **options)(app.view_functions[endpoint])


def local_without_proxy() -> bool:
    """A caller that came through no proxy (another service, a script): no X-Forwarded-For,
    and on this machine or, behind TRUSTED_PROXIES, inside their network (the proxy always
    sends the header, so a request without it did not pass the proxy)."""
    if "X-Forwarded-For" in request.headers:
        return False
    return settings().trusted_proxies > 0 or _on_this_machine(request.remote_addr or "")


def allowed_origin() -> str | None:
    """The request's Origin when it may embed our forms, else None."""
    origin = (request.headers.get("Origin") or "").rstrip("/").lower()
    allowed = {item.rstrip("/").lower() for item in settings().embed_allowed_origins}
    return origin if origin and origin in allowed else None


def client_address() -> str:
    """The visitor's address: behind TRUSTED_PROXIES proxies the one they name (ProxyFix has
    set `remote_addr`); with none configured, the last X-Forwarded-For entry of a proxy on
    this machine, else the peer."""
    peer = request.remote_addr or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and not settings().trusted_proxies and _on_this_machine(peer):
        return forwarded.split(",")[-1].strip()
    return peer


def _on_this_machine(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _rule() -> str | None:
    return request.url_rule.rule if request.url_rule is not None else None


def _limited(routes: Mapping[str, tuple[str, ...]]) -> bool:
    """Submissions are limited, except in development with no trusted proxy those of local callers."""
    if request.method != "POST" or "POST" not in routes.get(_rule() or "", ()):
        return False
    config = settings()
    return config.production or config.trusted_proxies > 0 or not local_without_proxy()


def _cors_methods(routes: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    rule = _rule()
    return () if rule is None or rule in SAME_ORIGIN_ONLY else routes.get(rule, ())


def _preflight(routes: Mapping[str, tuple[str, ...]]) -> ResponseReturnValue | None:
    """Answer an allowed origin's preflight; anything else gets Flask's plain OPTIONS answer,
    without CORS headers, so the browser does not send the request."""
    if request.method != "OPTIONS" or not request.headers.get("Access-Control-Request-Method"):
        return None
    methods = _cors_methods(routes)
    origin = allowed_origin()
    wanted_headers = {h.strip().lower() for h in request.headers.get("Access-Control-Request-Headers", "").split(",") if h.strip()}
    if not origin or request.headers["Access-Control-Request-Method"] not in methods or not wanted_headers <= {"content-type"}:
        return None
    response = Response(status=204)
    response.headers.update({
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join(methods),
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
    })
    return response


def _allow_origin(routes: Mapping[str, tuple[str, ...]], response: Response) -> Response:
    methods = _cors_methods(routes)
    if not methods:
        return response
    response.vary.add("Origin")
    origin = allowed_origin()
    if origin and request.method in methods:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response


def _too_many_requests(error: RateLimitExceeded) -> ResponseReturnValue:
    message = problem("too_many_requests", "Too many submissions from your address: please wait a minute and try again.")
    if not request.path.startswith("/api/"):
        return Response(message.translated(request_language()), status=429, content_type="text/plain; charset=utf-8")
    return error_response(429, message, {"body": [message]})
