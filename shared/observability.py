"""What operators watch: JSON logs carrying a request id, Prometheus metrics, Sentry.

- Logs: `LOG_FORMAT=json` (the production default) writes one JSON object per line to
  stderr. A web request's id (its `X-Request-Id`, set by the reverse proxy, or a new one)
  is in every line logged while it runs, is sent back in the response's `X-Request-Id`,
  is written into each outbox message the request emits, and is set again around the
  Dramatiq message that carries it, so one id follows a registration to its email.
- Metrics: every service answers `GET /metrics` (Prometheus text format, not published by
  the reverse proxy): request counts and latencies per route, from every gunicorn worker
  (prometheus_client's multiprocess mode, see ops.gunicorn_conf), and the values each
  service reads from its database or Redis when scraped (`scraped` collectors).
- Errors: with `SENTRY_DSN` set, unhandled errors of the web apps and the workers go to Sentry.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Any, Callable, Iterable

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shared.config import Settings

#: the request id of the web request or message being handled in this thread, if any
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
#: what we accept as a request id from a proxy or a message (anything else is replaced)
_REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: loggers whose INFO lines are worth keeping (every other one logs warnings and errors only)
INFO_LOGGERS = ("eupolnet", "shared", "services", "gunicorn.error", "dramatiq")
#: fields of a log record written into its JSON line besides the standard ones
_EXTRA_FIELDS = ("service", "method", "route", "path", "status", "duration_ms", "message_id", "message_type")

HTTP_REQUESTS = Counter(
    "eupolnet_http_requests", "HTTP requests answered, by service, route, method and status",
    ["service", "route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "eupolnet_http_request_duration_seconds", "Time to answer an HTTP request, by service and route",
    ["service", "route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INVOICE_RENDER = Histogram(
    "eupolnet_invoice_render_seconds", "Time to render an invoice or credit note PDF",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)

Scraper = Callable[[], Iterable[Metric]]


def new_request_id(candidate: str | None = None) -> str:
    """`candidate` when it looks like a request id, else a fresh one."""
    if candidate and _REQUEST_ID_PATTERN.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        line.update({name: getattr(record, name) for name in _EXTRA_FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_handler(settings: Settings) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if settings.log_format == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    return handler


def configure_logging(settings: Settings) -> None:
    """Root logging of a process (CLI, relay, workers) in the configured format."""
    root = logging.getLogger()
    root.handlers[:] = [log_handler(settings)]
    root.setLevel(logging.WARNING)
    for name in INFO_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    init_sentry(settings)


def gunicorn_logging(settings: Settings) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its own messages and the apps' in the configured format."""
    formatter = {"()": JsonFormatter} if settings.log_format == "json" else {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"level": "WARNING", "handlers": ["default"]},
        "loggers": {
            **{name: {"level": "INFO"} for name in INFO_LOGGERS},
            "gunicorn.error": {"level": "INFO", "handlers": ["default"], "propagate": False},
            # requests are logged by the apps (`eupolnet.request`), with their id and route
            "gunicorn.access": {"level": "WARNING", "handlers": ["default"], "propagate": False},
        },
    }


def init_sentry(settings: Settings) -> None:
    """Report unhandled errors to Sentry when SENTRY_DSN is set (nothing is sent otherwise)."""
    if not settings.sentry_dsn:
        return
    import sentry_sdk

    sentry_sdk.init(dsn=settings.sentry_dsn, environment=settings.env, send_default_pii=False, traces_sample_rate=0)


# Metrics across gunicorn workers ---------------------------------------------------------

def worker_exited(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)


class _Scraped:
    """A collector running a service's `scraped` functions at each scrape."""

    def __init__(self, scrapers: list[Scraper]) -> None:
        self.scrapers = scrapers

    def collect(self) -> Iterable[Metric]:
        for scraper in self.scrapers:
            yield from scraper()


def _metrics() -> Response:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        text = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    scraped.register(_Scraped(current_app.extensions["eupolnet_scrapers"]))
    return Response(text + generate_latest(scraped), content_type=CONTENT_TYPE_LATEST)


def scraped(app: Flask, scraper: Scraper) -> None:
    """Have `GET /metrics` of `app` also report what `scraper` reads when it is called."""
    app.extensions["eupolnet_scrapers"].append(scraper)


# The web apps --------------------------------------------------------------------------

_log = logging.getLogger("eupolnet.request")


def init_app(app: Flask) -> None:
    """Request ids, request logs and metrics for a service's app, and its `GET /metrics`."""
    app.extensions["eupolnet_scrapers"] = []
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_forget_request)
    app.add_url_rule("/metrics", "metrics", _metrics)
    init_sentry(app.extensions["eupolnet_settings"])


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = new_request_id(request.headers.get("X-Request-Id"))
    g.request_id_token = REQUEST_ID.set(g.request_id)


def _finish_request(response: Response) -> Response:
    service = current_app.extensions["eupolnet_service"]
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    HTTP_REQUESTS.labels(service, route, request.method, str(response.status_code)).inc()
    HTTP_LATENCY.labels(service, route).observe(elapsed)
    response.headers["X-Request-Id"] = g.get("request_id", "")
    if route not in {"/healthz", "/readyz", "/metrics"}:
        _log.info(
            "%s %s %s", request.method, request.path, response.status_code,
            extra={"service": service, "method": request.method, "route": route, "path": request.path,
                   "status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
        )
    return response


def _forget_request(error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        REQUEST_ID.reset(token)
