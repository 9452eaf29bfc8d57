"""Entry module of the Dramatiq workers: `dramatiq shared.worker services.notify.actors`.

Dramatiq imports the modules named on its command line in order, so this one runs first:
it reads the settings, sets the Redis broker before any actor is declared, and adds
Dramatiq's `CurrentMessage` (an actor may need to know which copy of a message it runs)
and a middleware that runs each message inside its service's Flask app context (database
session, settings) without importing that service's views; and a watchdog that reloads the
worker processes when one of their consumer threads died. Actors take ids and JSON
envelopes, never objects, and must be safe to run twice.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

import dramatiq
import dramatiq.worker
import redis
from dramatiq.middleware import CurrentMessage, Middleware
from flask import Flask
from flask.ctx import AppContext

from shared.broker import QUEUE_PREFETCH, setup_broker
from shared.config import ConfigurationError, Settings, load_settings
from shared.db import db, engine_options
from shared.observability import REQUEST_ID, configure_logging, new_request_id

#: seconds between two checks that a worker process's consumer threads are alive
WATCHDOG_INTERVAL = 2.0
#: queue name -> the service whose database and settings its actors use
SERVICE_OF_QUEUE = {"notify": "notify", "orders": "orders"}


log = logging.getLogger(__name__)


def worker_app(service: str, settings: Settings) -> Flask:
    """A Flask app with only what actors use: the service's database and the settings."""
    app = Flask(__name__)
    url = settings.database_url(service)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=url,
        # No ping before each use of a pooled connection: one that went stale (the database
        # restarted) fails its message, which Dramatiq retries like any other failure.
        SQLALCHEMY_ENGINE_OPTIONS={**engine_options(url), "pool_pre_ping": False},
    )
    app.extensions["eupolnet_settings"] = settings
    app.extensions["eupolnet_service"] = service
    db.init_app(app)
    return app


class AppContextMiddleware(Middleware):
    """Push the app context of the message's service around each message, then pop it.

    Popping ends the database session (rolling back whatever an actor left uncommitted)
    and returns its connection to the pool.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.apps: dict[str, Flask] = {}
        self.lock = threading.Lock()
        self.local = threading.local()

    def _app(self, queue_name: str) -> Flask:
        service = SERVICE_OF_QUEUE[queue_name.removesuffix(".DQ")]
        with self.lock:
            if service not in self.apps:
                self.apps[service] = worker_app(service, self.settings)
            return self.apps[service]

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        context = self._app(message.queue_name).app_context()
        context.push()
        self.local.context = context
        # the id of the web request that caused the message, in this message's logs and in what it emits
        envelope = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
        self.local.request_id = REQUEST_ID.set(new_request_id(envelope.get("request_id")))

    def after_process_message(
        self, broker: dramatiq.Broker, message: dramatiq.Message, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        token = getattr(self.local, "request_id", None)
        if token is not None:
            self.local.request_id = None
            REQUEST_ID.reset(token)
        context: AppContext | None = getattr(self.local, "context", None)
        if context is not None:
            self.local.context = None
            context.pop()

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        self.after_process_message(broker, message)


class ConsumerWatchdog(Middleware):
    """Reload the worker processes when one of this process's consumer threads has died.

    Dramatiq restarts a consumer after a connection error, but a consumer thread that
    meets another error while cleaning up dies for good: with Redis hanging, the socket
    timeout raised while it hands its delayed messages back escapes its clean-up (issue 18).
    The process then looks alive (its other consumer keeps its heartbeat) and never takes a
    message from that queue again, while the messages it held stay assigned to it. Once
    Redis answers again, the watchdog asks the `dramatiq` main process to reload, as it does
    on SIGHUP: every worker process stops gracefully, handing its in-memory messages back,
    and a fresh set starts; what a dead thread held returns to the queue through Dramatiq's
    dead-worker maintenance.
    """

    def __init__(self, interval: float = WATCHDOG_INTERVAL) -> None:
        self.interval = interval
        self.stopping = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        threading.Thread(target=self._watch, args=(broker, worker), name="consumer-watchdog", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.stopping.set()

    def _watch(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        while not self.stopping.wait(self.interval):
            dead = sorted(name for name, consumer in worker.consumers.items() if not consumer.is_alive())
            if not dead:
                continue
            log.critical("the consumer thread of %s died; reloading the workers once Redis answers", ", ".join(dead))
            while not self.stopping.is_set():
                try:
                    broker.client.ping()
                    break
                except redis.RedisError:
                    self.stopping.wait(1)
            if not self.stopping.is_set():
                os.kill(os.getppid(), signal.SIGHUP)
            return


def configure(settings: Settings) -> dramatiq.Broker:
    if not settings.redis_url:
        raise ConfigurationError("REDIS_URL is not set: the workers need the Redis broker")
    broker = setup_broker(settings.redis_url)
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(AppContextMiddleware(settings))
    broker.add_middleware(ConsumerWatchdog())
    # Read by dramatiq.worker.Worker when the CLI creates it, after importing this module.
    dramatiq.worker.QUEUE_PREFETCH = dramatiq.worker.QUEUE_PREFETCH or QUEUE_PREFETCH
    return broker


_settings = load_settings()
configure_logging(_settings)
broker = configure(_settings)
