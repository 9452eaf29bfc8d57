"""The `eupolnet` command: migrations, staff accounts, the outbox relay, the dev runner."""
from __future__ import annotations

import os
import signal
import sys
import threading

import click
import sqlalchemy as sa

from ops.processes import NAMES as PROCESS_NAMES
from shared.config import SERVICES, load_settings


@click.group()
def main() -> None:
    """EU-POLNET services."""
    from shared.observability import configure_logging

    configure_logging(load_settings())


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
@click.option("--wait", default=0.0, show_default=True, help="Seconds to keep retrying while a database cannot be reached.")
def migrate(services: tuple[str, ...], wait: float) -> None:
    """Bring the databases of SERVICES (default: all) to the latest schema."""
    from ops.databases import migrated_services, upgrade_when_reachable

    settings = load_settings()
    for service in services or migrated_services():
        upgrade_when_reachable(service, settings.database_url(service), wait)
        click.echo(f"{service}: database up to date")


@main.group()
def db() -> None:
    """One service's migration history, on Alembic's own commands (`eupolnet migrate` brings
    every database up to date)."""


def _alembic(service: str):  # noqa: ANN202  (an alembic Config)
    from shared.migrations import alembic_config

    config = alembic_config(service, load_settings().database_url(service))
    config.stdout = sys.stdout  # alembic prints here: the stream of this call (click's runner in tests)
    return config


@db.command("upgrade")
@click.argument("service", type=click.Choice(SERVICES))
@click.argument("revision", default="head")
def db_upgrade(service: str, revision: str) -> None:
    """Upgrade SERVICE's database to REVISION (default: head; `+1` for the next one)."""
    from alembic import command

    command.upgrade(_alembic(service), revision)


@db.command("downgrade", context_settings={"ignore_unknown_options": True})  # `-1` is a revision
@click.argument("service", type=click.Choice(SERVICES))
@click.argument("revision")
def db_downgrade(service: str, revision: str) -> None:
    """Downgrade SERVICE's database to REVISION (`-1` for the one before; `base` for none)."""
    from alembic import command

    command.downgrade(_alembic(service), revision)


@db.command("current")
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def db_current(services: tuple[str, ...]) -> None:
    """The revision each database of SERVICES (default: all) is at."""
    from alembic import command

    from ops.databases import migrated_services

    for service in services or migrated_services():
        click.echo(f"{service}:")
        command.current(_alembic(service))


@db.command("history")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--verbose", "-v", is_flag=True, help="Each revision's date, parents and message in full.")
def db_history(service: str, verbose: bool) -> None:
    """SERVICE's revisions, newest first; `(head)` and `(current)` mark where code and database are."""
    from alembic import command

    command.history(_alembic(service), verbose=verbose, indicate_current=True)


@db.command("revision")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--message", "-m", required=True, help="What the revision changes.")
def db_revision(service: str, message: str) -> None:
    """Write a new revision of SERVICE from the difference between its models and its
    database (brought to head first), to review before committing (developers)."""
    from alembic import command

    command.revision(_alembic(service), message=message, autogenerate=True)


@main.command()
@click.argument("name", type=click.Choice(PROCESS_NAMES))
def process(name: str) -> None:
    """Become process NAME of the production process list (ops/processes.py)."""
    from ops.processes import command

    argv = command(name, load_settings())
    os.execv(argv[0], argv)


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def ready(services: tuple[str, ...]) -> None:
    """Exit 0 when the databases of SERVICES (default: all) are reachable and migrated and
    the broker answers (the relay's, workers' and retention job's healthcheck)."""
    import redis

    from ops.databases import databases_ready, migrated_services

    settings = load_settings()
    checks = databases_ready({service: settings.database_url(service) for service in services or migrated_services()})
    try:
        redis.Redis.from_url(settings.redis_url or "", socket_connect_timeout=2, socket_timeout=2).ping()
        checks["broker"] = "ok"
    except (redis.RedisError, ValueError) as error:
        checks["broker"] = f"error: {type(error).__name__}"
    for name, state in checks.items():
        click.echo(f"{name}: {state}")
    if any(state != "ok" for state in checks.values()):
        raise SystemExit(1)


@main.command()
def seed() -> None:
    """Add the development catalogue (the seed publication) to the orders database."""
    from services.orders.seed import seed_database

    added = seed_database(load_settings().database_url("orders"))
    click.echo(f"orders: added {', '.join(added)}" if added else "orders: catalogue already seeded")


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(("admin", "events", "publications")))
@click.option("--password", default=None, help="Also allow back-office login with this password.")
def staff_create(email: str, role: str, password: str | None) -> None:
    """Create (or update the role of) a staff account and print its API token on the last line."""
    from shared.auth import issue_token, save_staff_account

    settings = load_settings()
    account = save_staff_account(settings.database_url("registration"), email, role, password)
    click.echo(f"Staff account {account.email} ({account.role}). API token, valid {settings.staff_token_days} days:")
    click.echo(issue_token(account, settings.secret_key))


@staff.command("token")
@click.argument("email")
def staff_token(email: str) -> None:
    """Print a new API token for an existing staff account (on the last line)."""
    from shared.auth import find_staff_account, issue_token

    settings = load_settings()
    account = find_staff_account(settings.database_url("registration"), email)
    if account is None or not account.active:
        raise click.UsageError(f"No active staff account {email}: create it with `eupolnet staff create`.")
    click.echo(f"API token for {account.email} ({account.role}), valid {settings.staff_token_days} days:")
    click.echo(issue_token(account, settings.secret_key))


@staff.command("revoke")
@click.argument("email")
def staff_revoke(email: str) -> None:
    """End every API token and back-office session of a staff account at once."""
    _revoke(email, deactivate=False)


@staff.command("deactivate")
@click.argument("email")
def staff_deactivate(email: str) -> None:
    """Revoke a staff account and refuse it until `eupolnet staff create` makes it active again."""
    _revoke(email, deactivate=True)


def _revoke(email: str, deactivate: bool) -> None:
    from shared.auth import revoke_staff_account

    account = revoke_staff_account(load_settings().database_url("registration"), email, deactivate)
    if account is None:
        raise click.UsageError(f"No staff account {email}.")
    click.echo(f"Staff account {account.email}: every token and session ended" + ("; deactivated." if deactivate else "."))


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
@click.option("--interval", default=0.2, show_default=True, help="Seconds between polls when idle.")
def relay(services: tuple[str, ...], interval: float) -> None:
    """Hand the outbox messages of SERVICES (default: all) to the broker, queue what has
    come due in their databases (a service's `scheduler.queue_due`) and hand the messages
    of dead workers to the others (`DeadWorkerSweep`), until stopped."""
    import importlib.util

    from shared.broker import RELAY_SOCKET_TIMEOUT, DeadWorkerSweep, make_broker
    from shared.outbox import run_relay

    settings = load_settings()
    if not settings.redis_url:
        raise click.UsageError("REDIS_URL is not set")
    engines = {service: sa.create_engine(settings.database_url(service)) for service in services or SERVICES}
    due_work = {
        service: importlib.import_module(f"services.{service}.scheduler").queue_due
        for service in engines if importlib.util.find_spec(f"services.{service}.scheduler")
    }
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"outbox relay for {', '.join(engines)} -> {settings.redis_url}")
    broker = make_broker(settings.redis_url, socket_timeout=RELAY_SOCKET_TIMEOUT)
    DeadWorkerSweep(broker, stop).start()
    run_relay(engines, broker, stop, poll_interval=interval, due_work=due_work)


@main.command()
@click.option("--every-hours", type=float, default=None, help="Keep running, and apply it again every so many hours.")
def anonymise(every_hours: float | None) -> None:
    """Apply the retention period (RETENTION_DAYS; run it daily): registrations of events that
    ended before it are anonymised, the notify service's delivery log and reminder records
    likewise, and every service forgets the messages it relayed before it."""
    if every_hours is None:
        _anonymise()
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        _anonymise()
        stop.wait(every_hours * 3600)


def _anonymise() -> None:
    import datetime as dt
    import importlib

    from services.notify.operations import anonymise_expired as anonymise_deliveries
    from services.registration.privacy import anonymise_expired as anonymise_registrations
    from shared.db import db, utcnow
    from shared.outbox import purge_sent

    settings = load_settings()
    cutoff = utcnow() - dt.timedelta(days=settings.retention_days)
    # Orders and invoices are accounting records, kept as the law requires: only their relayed messages go.
    for service, anonymise_records in (("registration", anonymise_registrations), ("orders", None),
                                       ("notify", anonymise_deliveries)):
        with importlib.import_module(f"services.{service}").create_app(settings).app_context():
            count = anonymise_records(settings.retention_days) if anonymise_records else 0
            purged = purge_sent(cutoff)
            db.session.commit()
        click.echo(f"{service}: {count} record(s) anonymised, {purged} relayed message(s) deleted")


@main.command()
def run() -> None:
    """Start the whole system for development (what `make run` does)."""
    from ops.devserver import run_all

    run_all(load_settings())
