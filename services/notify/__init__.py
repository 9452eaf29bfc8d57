"""The notify service: every email a person expects, in their language, sent once in effect.

The web app only serves the staff API over the delivery log; the emails are sent by the
Dramatiq actors in `services.notify.actors`, run by `dramatiq shared.worker services.notify.actors`.
"""
from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.observability import scraped
from shared.web import create_service_app


def create_app(config: Settings | None = None) -> Flask:
    from services.notify import models  # noqa: F401  (models register their tables)
    from services.notify.metrics import notify_metrics
    from services.notify.views import blp

    app = create_service_app("notify", [blp], config)
    scraped(app, notify_metrics)
    return app
