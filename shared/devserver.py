"""`make run`: the whole system on one machine, in the foreground, for development.

Starts an embedded Redis when `REDIS_URL` is not set, migrates every database, then runs
each service under gunicorn, the outbox relay and the Dramatiq workers. Ctrl-C stops
everything it started.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared.config import VAR_DIR, Settings
from shared.migrations import migrated_services, upgrade
from shared.redis_server import RedisServer, port_is_open

#: port of the embedded Redis (not 6379, which may be a machine-wide Redis)
EMBEDDED_REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "6390"))


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def processes(settings: Settings, services: tuple[str, ...]) -> dict[str, list[str]]:
    """The commands to run, by name."""
    commands = {
        service: [
            _bin("gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{settings.ports[service]}",
            "--access-logfile", "-", "--log-level", "warning", f"services.{service}:create_app()",
        ]
        for service in services
    }
    commands["relay"] = [_bin("eupolnet"), "relay", *services]
    worker_modules = [f"services.{s}.actors" for s in services if (Path(__file__).parent.parent / "services" / s / "actors.py").exists()]
    if worker_modules:
        commands["worker"] = [_bin("dramatiq"), "--processes", "1", "--threads", "8", "shared.worker", *worker_modules]
    return commands


def run_all(settings: Settings) -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    environ = dict(os.environ)
    redis_server = None
    if not settings.redis_url:
        if port_is_open(EMBEDDED_REDIS_PORT):
            print(f"An embedded Redis from an earlier run is still on port {EMBEDDED_REDIS_PORT}; using it.")
        else:
            redis_server = RedisServer(VAR_DIR / "redis", port=EMBEDDED_REDIS_PORT, persistent=True).start()
        environ["REDIS_URL"] = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    services = migrated_services()
    for service in services:
        upgrade(service, settings.database_url(service))
    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for name, command in processes(settings, services).items():
            children[name] = subprocess.Popen(command, env=environ)
        print("\nEU-POLNET is running:")
        for service in services:
            print(f"  {service:<13} {settings.service_urls[service]}  (API docs: {settings.service_urls[service]}/openapi.json)")
        print(f"  {'redis':<13} {environ['REDIS_URL']}{' (embedded, data in var/redis)' if redis_server else ''}")
        print("Press Ctrl-C to stop.\n", flush=True)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with code {child.returncode}; stopping everything.", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        if redis_server:
            redis_server.stop()
        print("Stopped.")
