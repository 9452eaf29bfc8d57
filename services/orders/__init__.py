"""The orders service: publications, orders, invoices and credit notes."""
from __future__ import annotations

from flask import Flask

from shared.config import DEVELOPMENT_IBAN, DEVELOPMENT_SIRET, ConfigurationError, Settings, load_settings
from shared.embedding import init_embedding
from shared.web import create_service_app


def create_app(config: Settings | None = None) -> Flask:
    from services.orders import embed, models  # noqa: F401  (models register their tables)
    from services.orders.views import blp

    config = config or load_settings()
    check_invoice_settings(config)
    app = create_service_app("orders", [blp], config)
    app.register_blueprint(embed.bp)
    return init_embedding(app)


def check_invoice_settings(config: Settings) -> None:
    """Invoices print what configuration says: production refuses the development placeholders."""
    if config.production and config.invoice_seller_siret == DEVELOPMENT_SIRET:
        raise ConfigurationError("INVOICE_SELLER_SIRET must be set in production (invoices print it)")
    if config.production and config.invoice_bank_iban == DEVELOPMENT_IBAN:
        raise ConfigurationError("INVOICE_BANK_IBAN must be set in production (invoices print it)")
    if config.invoice_payment_days < 0:
        raise ConfigurationError("INVOICE_PAYMENT_DAYS must not be negative")
