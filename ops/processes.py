"""The one list of EU-POLNET's long-running processes.

`make run` (ops.devserver) starts them all; in production each host, container or
Procfile line runs one of them with `eupolnet process NAME`, which replaces itself with the
command below. What differs between a laptop and production is configuration only
(BIND_HOST, WEB_CONCURRENCY, WORKER_PROCESSES, WORKER_THREADS; see .env.example).
"""
from __future__ import annotations

import sys
from pathlib import Path

from shared.config import ROOT, SERVICES, Settings

#: the Dramatiq actor modules, one per service that consumes messages
WORKER_MODULES = tuple(f"services.{s}.actors" for s in SERVICES if (ROOT / "services" / s / "actors.py").exists())
#: every process, in the order `make run` starts them
NAMES = (*SERVICES, "relay", "worker", "retention")
#: hours between two runs of the retention job (`eupolnet anonymise`)
RETENTION_EVERY_HOURS = 24


def _bin(name: str) -> str:
    """A console script of this installation (venv or image), even when its bin/ is not on PATH."""
    return str(Path(sys.executable).with_name(name))


def command(name: str, settings: Settings) -> list[str]:
    """The command line of process `name` (one of NAMES)."""
    if name in SERVICES:
        return [
            _bin("gunicorn"), "--config", "python:ops.gunicorn_conf",
            "--bind", f"{settings.bind_host}:{settings.ports[name]}", "--workers", str(settings.web_concurrency),
            f"services.{name}:create_app()",
        ]
    if name == "relay":
        return [_bin("eupolnet"), "relay"]
    if name == "worker":
        # One process per core and 16 threads (bench/email_bench.py); shared.worker sets the queue prefetch.
        return [
            _bin("dramatiq"), "--processes", str(settings.worker_processes), "--threads", str(settings.worker_threads),
            "shared.worker", *WORKER_MODULES,
        ]
    if name == "retention":
        return [_bin("eupolnet"), "anonymise", "--every-hours", str(RETENTION_EVERY_HOURS)]
    raise KeyError(f"no process {name!r}; the processes are {', '.join(NAMES)}")


def commands(settings: Settings) -> dict[str, list[str]]:
    return {name: command(name, settings) for name in NAMES}
