"""The registration service: events, registrations, waiting lists and the member directory."""
from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.embedding import init_embedding
from shared.web import create_service_app


def create_app(config: Settings | None = None) -> Flask:
    from services.registration import backoffice, embed, manage, models  # noqa: F401  (models register their tables)
    from services.registration.views import blp

    app = create_service_app("registration", [blp], config)
    app.register_blueprint(manage.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(backoffice.bp)
    return init_embedding(app)
