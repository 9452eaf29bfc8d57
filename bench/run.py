"""Run every benchmark (`make bench`) and print ONE table of what they measured.

Each benchmark prints its own figures and exits non-zero below its goal. Those that
report rows (bench.common.report) put them in the table, each ratio measured in this run;
one that reports none gets a row with its exit status. The table is also written to
var/bench/results.json. Arguments name the scripts to run alone (`make bench-large`:
`python bench/run.py large_data.py`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH.parent / "var" / "bench" / "results.json"
#: (script, extra environment): the rush runs on both databases
BENCHMARKS: tuple[tuple[str, dict[str, str]], ...] = (
    ("registration_rush.py", {"TEST_DATABASE": "postgresql"}),
    ("registration_rush.py", {"TEST_DATABASE": "sqlite"}),
    ("invoice_bench.py", {}),
    ("parallel_invoicing.py", {"TEST_DATABASE": "postgresql"}),
    ("email_bench.py", {}),
    ("worker_recovery.py", {}),
    ("large_data.py", {"TEST_DATABASE": "postgresql"}),
)
COLUMNS = ("benchmark", "floor", "ours", "ratio", "goal")


def main(only: list[str]) -> int:
    rows: list[dict] = []
    failed = []
    for name, extra in BENCHMARKS:
        if not (BENCH / name).exists() or (only and name not in only):
            continue
        label = f"{name} {' '.join(f'{k}={v}' for k, v in extra.items())}".strip()
        print(f"\n== {label}", flush=True)
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as results:
            environ = {**os.environ, **extra, "BENCH_RESULTS": results.name}
            code = subprocess.run([sys.executable, str(BENCH / name)], cwd=BENCH.parent, env=environ).returncode
            reported = [json.loads(line) for line in Path(results.name).read_text().splitlines() if line.strip()]
        rows += reported or [{"benchmark": label, "floor": "", "ours": "see above", "ratio": None, "goal": "its own",
                              "met": code == 0}]
        if code != 0:
            failed.append(label)
    _print_table(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n(written to {RESULTS.relative_to(BENCH.parent)})")
    if failed:
        print(f"Below the goal or failed: {', '.join(failed)}")
    return 1 if failed else 0


def _print_table(rows: list[dict]) -> None:
    cells = [[_cell(row, column) for column in COLUMNS] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(COLUMNS)]
    print()
    print("| " + " | ".join(column.ljust(width) for column, width in zip(COLUMNS, widths)) + " |")
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for line in cells:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths)) + " |")


def _cell(row: dict, column: str) -> str:
    value = row.get(column)
    if column == "ratio":
        text = "" if value is None else f"{value:.2f}"
        if row.get("spread"):
            text += f" ({row['spread']})"
        return text
    if column == "goal":
        return f"{value} {'ok' if row.get('met') else 'BELOW'}"
    return str(value or "")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
