"""Configuration from the environment only (a `.env` file may fill it in).

Every variable is documented in `.env.example`. Services read a `Settings` once at start;
nothing else in the code reads `os.environ`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from dotenv import load_dotenv
from sqlalchemy.engine import url as sa_url

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("EUPOLNET_VAR_DIR", ROOT / "var"))
DEFAULT_SECRET = "dev-secret-change-me"
SERVICES = ("registration", "orders", "notify")
DEFAULT_PORTS = {"registration": 8001, "orders": 8002, "notify": 8003}
#: Development placeholders for what invoices print; the orders service refuses them in production.
DEVELOPMENT_SIRET = "00000000000000"
DEVELOPMENT_IBAN = "FR7630006000011234567890189"


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable system."""


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@dataclass(frozen=True)
class Settings:
    """The whole system's configuration; one field per documented variable."""

    env: str = "development"
    secret_key: str = DEFAULT_SECRET
    public_base_url: str = "http://localhost:8001"
    database_urls: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    service_urls: dict[str, str] = field(default_factory=dict)
    redis_url: str | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 8025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: str = "none"
    mail_from: str = "EU-POLNET <eupolnet@efus.eu>"
    contact_email: str = "eupolnet@efus.eu"
    embed_allowed_origins: tuple[str, ...] = ()
    consent_version: str = "2026-01"
    retention_days: int = 730
    #: how long a staff API token is accepted
    staff_token_days: int = 90
    reminder_hours: int = 24
    #: printed on invoices and credit notes, and sent in their Factur-X XML
    invoice_seller_siret: str = DEVELOPMENT_SIRET
    #: the legal basis of the VAT exemption, printed in every language ("VAT not applicable: <basis>.")
    invoice_vat_exemption: str = "art. 293 B du CGI"
    #: late-payment penalties printed on invoices, % a year (French B2B mention, Code de commerce L441-9)
    invoice_late_penalty_rate: Decimal = Decimal("10")
    invoice_bank_holder: str = "Forum européen pour la sécurité urbaine"
    invoice_bank_iban: str = DEVELOPMENT_IBAN
    invoice_bank_bic: str = "AGRIFRPPXXX"
    invoice_payment_days: int = 30
    #: where browsers reach the orders service (the embed script's order forms)
    public_orders_url: str = "http://localhost:8002"
    #: production processes (ops/processes.py, deploy/README.md)
    trusted_proxies: int = 0
    bind_host: str = "127.0.0.1"
    web_concurrency: int = 2
    worker_processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    worker_threads: int = 16
    log_format: str = "text"
    sentry_dsn: str = ""

    @property
    def production(self) -> bool:
        return self.env == "production"

    def database_url(self, service: str) -> str:
        return self.database_urls[service]

    def service_url(self, service: str) -> str:
        return self.service_urls[service]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build the settings from `environ` (default: the process environment plus `.env`)."""
    if environ is None:
        load_dotenv(ROOT / ".env", override=False)
        environ = dict(os.environ)
    ports = {
        name: int(environ.get(f"{name.upper()}_PORT") or DEFAULT_PORTS[name]) for name in SERVICES
    }
    database_urls = {
        name: environ.get(f"{name.upper()}_DATABASE_URL") or _postgres_url(environ, name) or f"sqlite:///{VAR_DIR / name}.sqlite3"
        for name in SERVICES
    }
    env = environ.get("EUPOLNET_ENV", "development")
    service_urls = {
        name: (environ.get(f"{name.upper()}_URL") or f"http://localhost:{ports[name]}").rstrip("/")
        for name in SERVICES
    }
    settings = Settings(
        env=env,
        secret_key=environ.get("SECRET_KEY") or DEFAULT_SECRET,
        public_base_url=(environ.get("PUBLIC_BASE_URL") or service_urls["registration"]).rstrip("/"),
        database_urls=database_urls,
        ports=ports,
        service_urls=service_urls,
        redis_url=environ.get("REDIS_URL") or None,
        smtp_host=environ.get("SMTP_HOST") or "localhost",
        smtp_port=int(environ.get("SMTP_PORT") or 8025),
        smtp_user=environ.get("SMTP_USER", ""),
        smtp_password=environ.get("SMTP_PASSWORD", ""),
        smtp_tls=(environ.get("SMTP_TLS") or "none").lower(),
        mail_from=environ.get("MAIL_FROM") or "EU-POLNET <eupolnet@efus.eu>",
        contact_email=environ.get("CONTACT_EMAIL") or "eupolnet@efus.eu",
        embed_allowed_origins=tuple(_list(environ.get("EMBED_ALLOWED_ORIGINS"))),
        consent_version=environ.get("CONSENT_VERSION") or "2026-01",
        retention_days=int(environ.get("RETENTION_DAYS") or 730),
        staff_token_days=int(environ.get("STAFF_TOKEN_DAYS") or 90),
        reminder_hours=int(environ.get("REMINDER_HOURS") or 24),
        invoice_seller_siret=(environ.get("INVOICE_SELLER_SIRET") or DEVELOPMENT_SIRET).replace(" ", ""),
        invoice_vat_exemption=environ.get("INVOICE_VAT_EXEMPTION") or Settings.invoice_vat_exemption,
        invoice_late_penalty_rate=Decimal(environ.get("INVOICE_LATE_PENALTY_RATE") or Settings.invoice_late_penalty_rate),
        invoice_bank_holder=environ.get("INVOICE_BANK_HOLDER") or Settings.invoice_bank_holder,
        invoice_bank_iban=(environ.get("INVOICE_BANK_IBAN") or DEVELOPMENT_IBAN).replace(" ", "").upper(),
        invoice_bank_bic=(environ.get("INVOICE_BANK_BIC") or Settings.invoice_bank_bic).strip().upper(),
        invoice_payment_days=int(environ.get("INVOICE_PAYMENT_DAYS") or 30),
        public_orders_url=(environ.get("PUBLIC_ORDERS_URL") or service_urls["orders"]).rstrip("/"),
        trusted_proxies=int(environ.get("TRUSTED_PROXIES") or 0),
        bind_host=environ.get("BIND_HOST") or "127.0.0.1",
        web_concurrency=int(environ.get("WEB_CONCURRENCY") or 2),
        worker_processes=int(environ.get("WORKER_PROCESSES") or os.cpu_count() or 1),
        worker_threads=int(environ.get("WORKER_THREADS") or 16),
        log_format=(environ.get("LOG_FORMAT") or ("json" if env == "production" else "text")).lower(),
        sentry_dsn=environ.get("SENTRY_DSN", ""),
    )
    check(settings)
    return settings


def _postgres_url(environ: dict[str, str], service: str) -> str | None:
    """`postgresql+psycopg://POSTGRES_USER:POSTGRES_PASSWORD@POSTGRES_HOST/eupolnet_SERVICE` when
    POSTGRES_HOST is set: the compose file's way, so the password is written in one place only."""
    host = environ.get("POSTGRES_HOST")
    if not host:
        return None
    url = sa_url.URL.create(
        "postgresql+psycopg", username=environ.get("POSTGRES_USER") or "eupolnet",
        password=environ.get("POSTGRES_PASSWORD") or None, host=host,
        port=int(environ["POSTGRES_PORT"]) if environ.get("POSTGRES_PORT") else None, database=f"eupolnet_{service}",
    )
    return url.render_as_string(hide_password=False)


def check(settings: Settings) -> None:
    """Refuse settings that would be unsafe in production."""
    if settings.production and settings.secret_key == DEFAULT_SECRET:
        raise ConfigurationError("SECRET_KEY must be set to a non-default value in production")
    if settings.production and len(settings.secret_key) < 32:
        raise ConfigurationError("SECRET_KEY must be at least 32 characters in production")
    if settings.smtp_tls not in {"none", "starttls", "ssl"}:
        raise ConfigurationError("SMTP_TLS must be one of none, starttls, ssl")
    if settings.trusted_proxies < 0:
        raise ConfigurationError("TRUSTED_PROXIES is the number of reverse proxies in front of the services (0 or more)")
    if settings.log_format not in {"text", "json"}:
        raise ConfigurationError("LOG_FORMAT must be text or json")
