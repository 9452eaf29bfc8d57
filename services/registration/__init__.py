"""The registration service: events, registrations, waiting lists and the member directory."""
from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.embedding import SUBMISSION_LIMITS, init_embedding, local_without_proxy, rate_limit
from shared.observability import scraped
from shared.web import create_service_app


def create_app(config: Settings | None = None) -> Flask:
    from services.registration import backoffice, embed, groups, manage, models  # noqa: F401  (models register their tables)
    from services.registration.metrics import registration_metrics
    from services.registration.views import blp

    app = create_service_app("registration", [blp], config)
    app.register_blueprint(manage.bp)
    app.register_blueprint(groups.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(backoffice.bp)
    scraped(app, registration_metrics)
    init_embedding(app)
    # A public membership oracle: limited like the submissions (the orders service, on this
    # machine without a proxy, is not).
    rate_limit(app, "registration.lookup_member", SUBMISSION_LIMITS, exempt_when=local_without_proxy)
    backoffice.throttle_login(app)
    return app
