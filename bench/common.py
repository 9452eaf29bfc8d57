"""Helpers for the benchmarks: a database, a Redis, gunicorn servers, wrk and its report."""
from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent


@dataclass
class Result:
    name: str
    per_second: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    def line(self) -> str:
        latency = f"  p50 {self.p50_ms:7.1f} ms  p99 {self.p99_ms:7.1f} ms" if self.p50_ms is not None else ""
        return f"  {self.name:<44} {self.per_second:9.1f}/s{latency}"


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, name: str, seconds: int = 10, connections: int = 32, threads: int = 2,
        script: Path | None = BENCH / "rush.lua") -> Result:
    """Run wrk against `url` with the registration body script (`script=None`: plain GETs)."""
    options = ["-s", str(script)] if script else []
    output = subprocess.run(  # noqa: S603
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", *options, url],
        capture_output=True, text=True, check=True,
    ).stdout
    if "Latency Distribution" not in output:
        raise RuntimeError(f"{name}: unexpected wrk output\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{name}: {errors.group(1)} error responses\n{output}")
    return Result(name, rate, p50, p99)


def ratio_line(ours: Result, floor: Result, goal: float) -> str:
    ratio = ours.per_second / floor.per_second
    verdict = "meets" if ratio >= goal else "BELOW"
    return f"  ratio {ratio:.2f} of the floor ({verdict} the goal of {goal:.2f})"


#: where `report` appends its rows (JSON lines) when bench/run.py runs the benchmark
RESULTS_ENV = "BENCH_RESULTS"


def report(benchmark: str, floor: str, ours: str, goal: str, met: bool, ratio: float | None = None, **figures: object) -> None:
    """One row of `make bench`'s table (bench/run.py): what was measured, against which
    floor, the ratio and the goal. A benchmark run alone only prints its own lines."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    row = {"benchmark": benchmark, "floor": floor, "ours": ours, "ratio": ratio, "goal": goal, "met": met, **figures}
    with open(path, "a", encoding="utf-8") as results:
        results.write(json.dumps(row) + "\n")


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid`, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    """The child processes of `pid` (gunicorn's workers)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found
