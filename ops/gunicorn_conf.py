"""gunicorn settings of the three services: `gunicorn --config python:ops.gunicorn_conf`
(see ops.processes). Bind address and worker count are given on the command line."""
import os
import shutil
import tempfile

# Before prometheus_client is first imported: gunicorn's workers write their metrics to
# files in this folder, which `GET /metrics` adds up (one folder per gunicorn master).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="eupolnet-metrics-")

from shared.config import load_settings  # noqa: E402
from shared.observability import gunicorn_logging, worker_exited  # noqa: E402

worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Requests are small JSON bodies; refuse oversized headers early.
limit_request_field_size = 8190
# The apps log each request themselves (shared.observability), with its id and route.
accesslog = None
logconfig_dict = gunicorn_logging(load_settings())


def child_exit(server, worker) -> None:  # noqa: ANN001  (gunicorn's hook signature)
    worker_exited(worker.pid)


def on_exit(server) -> None:  # noqa: ANN001
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
