"""Run every benchmark and print one table of medians and ratios.

    python benchmarks/run.py              # everything, about 7 minutes on 2 cores (5 of them bench_server)
    python benchmarks/run.py --quick      # fewer rounds: a smoke test of the scripts, not figures
    python benchmarks/run.py --only overhead,startup --json results.json

Each benchmark generates its suite into a temporary directory and runs ``python -m pytest``
subprocesses, interleaving the variants round by round (see bench_harness.py). Ratios are the
median over rounds of each variant's figure divided by its baseline's in the same round;
"best/best" divides the best round of each, a second estimate that is less sensitive to a
busy machine. The README explains the method and records published figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_collection  # noqa: E402
import bench_guard  # noqa: E402
import bench_hypothesis  # noqa: E402
import bench_memory  # noqa: E402
import bench_overhead  # noqa: E402
import bench_server  # noqa: E402
import bench_startup  # noqa: E402
from bench_harness import Row, print_table  # noqa: E402

# name -> (run(rounds) -> rows, rounds, quick rounds)
BENCHMARKS = {
    "overhead": (bench_overhead.run, 5, 2),
    "guard": (bench_guard.run, 7, 2),
    "startup": (bench_startup.run, 15, 3),
    "collection": (bench_collection.run, 5, 2),
    "hypothesis": (bench_hypothesis.run, 5, 2),
    "memory": (bench_memory.run, 1, 1),  # 10,000 tests a variant: one round already takes half a minute
    "server": (bench_server.run, 5, 2),
}
# with --quick, these run smaller suites too (not only fewer rounds)
QUICK = {"server": bench_server.run_quick}
STRATEGIES = HERE / "bench_strategies.py"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def environment() -> list[str]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True
        ).stdout.strip()
        # read-only: --no-optional-locks keeps status from refreshing the index
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        commit += " (uncommitted changes)" if dirty.strip() else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    packages = ("pytest-cobo-errors", "pytest", "httpx", "respx", "pytest-httpx", "hypothesis", "pytest-httpserver")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}, commit {commit}",
        f"{platform.python_implementation()} {platform.python_version()} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs, load average {load}",
        ", ".join(f"{p} {_version(p)}" for p in packages),
    ]


def run_strategies(quick: bool) -> str:
    """bench_strategies.py has its own table (examples/s per strategy); run it as it is."""
    args = ["--examples", "300", "--rounds", "1"] if quick else ["--examples", "1000", "--rounds", "3"]
    proc = subprocess.run(
        [sys.executable, str(STRATEGIES), *args], capture_output=True, text=True, timeout=600, check=False
    )
    command = f"python benchmarks/bench_strategies.py {' '.join(args)}"
    return f"$ {command}\n{proc.stdout}{proc.stderr if proc.returncode not in (0, 1) else ''}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds: checks the scripts work, figures are rough")
    parser.add_argument("--rounds", type=int, help="rounds for every benchmark (default: each its own)")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join([*BENCHMARKS, 'strategies'])}")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()

    chosen = args.only.split(",") if args.only else [*BENCHMARKS, "strategies"]
    unknown = set(chosen) - {*BENCHMARKS, "strategies"}
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {', '.join([*BENCHMARKS, 'strategies'])}")

    started = time.perf_counter()
    rows: list[Row] = []
    for name in chosen:
        if name == "strategies":
            continue
        run, rounds, quick_rounds = BENCHMARKS[name]
        n = args.rounds or (quick_rounds if args.quick else rounds)
        run = QUICK.get(name, run) if args.quick else run
        print(f"{name}: {n} rounds ...", file=sys.stderr, flush=True)
        rows += run(n)

    strategies = ""
    if "strategies" in chosen and STRATEGIES.exists():
        print("strategies: bench_strategies.py ...", file=sys.stderr, flush=True)
        strategies = run_strategies(args.quick)

    print()
    print(f"$ python benchmarks/run.py {shlex.join(sys.argv[1:])}".rstrip())
    for line in environment():
        print(line)
    print()
    print_table(rows)
    if strategies:
        print()
        print(strategies.rstrip())
    print(f"\n{time.perf_counter() - started:.0f} s in all")

    if args.json:
        args.json.write_text(json.dumps({"environment": environment(), "rows": [asdict(r) for r in rows]}, indent=2))
    missed = [r for r in rows if r.verdict == "MISSED"]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
