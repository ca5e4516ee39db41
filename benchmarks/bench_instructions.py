"""Per-test cost of ``cobo_fault`` against pytest-httpx, counted in instructions (callgrind).

CPU time moves by a few per cent from run to run on a shared machine, more than is left to win
against pytest-httpx; instructions executed do not. bench_overhead's suite (41 documented codes,
one injected error and one httpx request per test) is run once with 1 repetition (41 tests) and
once with 10 (410), each under ``valgrind --tool=callgrind``; the difference divided by the 369
tests between is the cost of one test, start-up and collection left out. Each variant runs once
first without valgrind, so bytecode compiled into the workspace's cache is not counted. Ratios
are against pytest-httpx's ``httpx_mock``. ``-p no:randomly``: both sizes run the same tests in
one order.

Needs valgrind (``apt install valgrind``); about 4 minutes on 2 cores. Not run by run.py.

    python benchmarks/bench_instructions.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import bench_overhead
from bench_harness import COBO, PYTEST_HTTPX, Row, Variant, Workspace, print_table

VARIANTS = [
    Variant("pytest-httpx (httpx_mock)", ("test_pytest_httpx.py", "-p", "no:randomly"), (COBO,)),
    Variant("cobo_fault", ("test_cobo_fault.py", "--cobo-transports=httpx", "-p", "no:randomly"), (PYTEST_HTTPX,)),
    Variant(
        "cobo_fault, httpx+requests",
        ("test_cobo_fault_requests.py", "--cobo-transports=auto", "-p", "no:randomly"),
        (PYTEST_HTTPX,),
    ),
]
SIZES = (1, 10)  # repetitions of the 41 codes


def _suite(reps: int) -> dict[str, str]:
    bench_overhead.REPS = reps  # read by _header when it writes the parametrization
    header = bench_overhead._header(bench_overhead._cases())
    files = {bench_overhead.FILES[name]: header + body for name, body in bench_overhead.BODIES.items()}
    with_requests = header + "\nimport requests  # noqa: F401\n" + bench_overhead.BODIES["cobo_fault"]
    files["test_cobo_fault_requests.py"] = with_requests
    return files


def _instructions(workspace: Workspace, variant: Variant) -> int:
    out = workspace.path / "callgrind.out"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *variant.command()]
    proc = subprocess.run(
        command, cwd=workspace.path / "suite", env=workspace.env(variant), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{variant.label}: exited {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    match = re.search(r"^(?:summary|totals): (\d+)", Path(out).read_text(), re.M)
    if match is None:
        raise RuntimeError(f"{variant.label}: no instruction total in {out}")
    return int(match.group(1))


def run() -> list[Row]:
    per_test: dict[str, float] = {}
    counted: dict[tuple[str, int], int] = {}
    for reps in SIZES:
        workspace = Workspace(f"instructions-{reps}")
        try:
            workspace.write(_suite(reps))
            for variant in VARIANTS:  # fills the workspace's bytecode cache, which the counts leave out
                workspace.run(variant)
            for variant in VARIANTS:
                counted[variant.label, reps] = count = _instructions(workspace, variant)
                print(f"  {variant.label}, {41 * reps} tests: {count:,} instructions", flush=True)
        finally:
            workspace.close()
    tests = 41 * (SIZES[1] - SIZES[0])
    for variant in VARIANTS:
        per_test[variant.label] = (counted[variant.label, SIZES[1]] - counted[variant.label, SIZES[0]]) / tests
    reference = per_test[VARIANTS[0].label]
    rows = [
        Row(f"per test ({tests} tests between)", label, f"{value / 1e6:.2f} M instr", value / reference)
        for label, value in per_test.items()
    ]
    whole = counted[VARIANTS[0].label, SIZES[1]]
    rows += [
        Row(f"whole process, {41 * SIZES[1]} tests", v.label, f"{counted[v.label, SIZES[1]] / 1e9:.2f} G instr",
            counted[v.label, SIZES[1]] / whole)
        for v in VARIANTS
    ]  # fmt: skip
    return rows


def main() -> int:
    if shutil.which("valgrind") is None:
        print("bench_instructions needs valgrind on PATH", file=sys.stderr)
        return 2
    print_table(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
