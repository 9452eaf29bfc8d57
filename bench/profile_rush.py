"""Profile the registration rush: py-spy samples every gunicorn worker while wrk loads
POST /events/{slug}/registrations, then prints the functions that take most time (own
time and time with callees) and writes the flame graph (SVG) to var/bench/.
Run: `python bench/profile_rush.py` (needs py-spy: `pip install py-spy`).
"""
from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.registration_rush import SECONDS, start_ours  # noqa: E402
from bench.common import wrk  # noqa: E402
from ops.redis_server import RedisServer  # noqa: E402
from ops.testing import TestDatabases, backend, test_environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "var" / "bench"
#: py-spy from this virtualenv (`pip install py-spy`), else from the PATH
PY_SPY = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"


def main() -> None:
    kind = backend()
    workers = 4 if kind == "postgresql" else 2
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp) / "redis").start()
        databases = TestDatabases(kind, Path(tmp), tag=f"profile{os.getpid()}").create()
        environ = test_environment(databases, redis_server.url)
        try:
            with start_ours(environ, workers, databases) as server:
                wrk(f"{server.url}/api/v1/events/warm-up/registrations", "warm-up", seconds=2)
                raw = Path(tmp) / "profile.txt"
                spy = subprocess.Popen([PY_SPY, "record", "--subprocesses", "--nonblocking", "--format", "raw", "-o", str(raw),
                                        "-d", str(SECONDS), "-p", str(server.process.pid)], stdout=subprocess.DEVNULL)
                result = wrk(f"{server.url}/api/v1/events/rush/registrations", "ours under py-spy", seconds=SECONDS)
                spy.wait()
            print(result.line())
            _report(raw.read_text())
            (OUTPUT / f"rush-profile-{kind}.txt").write_text(raw.read_text())
        finally:
            databases.drop()
            redis_server.stop()


def _report(collapsed: str, top: int = 25) -> None:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame for frame in stack.split(";")[1:]]  # the first is the process
        if not frames:
            continue
        n = int(count)
        samples += n
        own[_short(frames[-1])] += n
        for frame in {_short(frame) for frame in frames}:
            total[frame] += n
    print(f"{samples} samples; with callees:")
    for frame, n in total.most_common(top):
        print(f"  {100 * n / samples:5.1f}%  {frame}")
    print("own time:")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / samples:5.1f}%  {frame}")


def _short(frame: str) -> str:
    """`function (path/to/file.py:12)` without the line and the site-packages prefix."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


if __name__ == "__main__":
    main()
