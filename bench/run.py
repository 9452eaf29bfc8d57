"""Run every benchmark (`make bench`): each prints its figures, its floor and the ratio."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BENCHMARKS = ("registration_rush.py", "invoice_bench.py", "email_bench.py", "worker_recovery.py")


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        if not (BENCH / name).exists():
            continue
        print(f"\n== {name}", flush=True)
        if subprocess.run([sys.executable, str(BENCH / name)], cwd=BENCH.parent).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nBelow the goal or failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
