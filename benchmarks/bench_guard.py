"""What the network guard costs per test: the same suite with the guard and without it.

The suite is bench_overhead's: 41 documented codes x 10 = 410 tests, each injecting one error
with ``cobo_fault`` and making one httpx request. "guard off" loads a plugin (written into the
benchmark's workspace, never shipped) that turns ``pytest_cobo_errors.guard.arm`` into a no-op,
so no audit hook is added and no connect wrapper installed; everything else is identical. The
guard's cost is its audit hook, called for every audited event in the process (imports, file
opens, ...), and the thread bookkeeping when each test's fault set opens and closes.

    python benchmarks/bench_guard.py [--rounds 5]
"""

from __future__ import annotations

import sys

import bench_overhead
from bench_harness import PYTEST_HTTPX, Row, Variant, Workspace, interleave, main, ratio_row

TARGET = 1.02
GUARD_OFF = '''"""Benchmark only: the cobo_fault suite without the network guard."""
import pytest_cobo_errors.guard

pytest_cobo_errors.guard.arm = lambda board: None
'''


def variants() -> list[Variant]:
    base = ("test_cobo_fault.py", "--cobo-transports=httpx")
    return [
        Variant("cobo_fault, guard on", base, (PYTEST_HTTPX,)),
        Variant("cobo_fault, guard off", ("-p", "_bench_guard_off", *base), (PYTEST_HTTPX,)),
    ]


def run(rounds: int) -> list[Row]:
    header = bench_overhead._header(bench_overhead._cases())
    workspace = Workspace("guard")
    try:
        (workspace.path / "plugins" / "_bench_guard_off.py").write_text(GUARD_OFF)
        workspace.write({"test_cobo_fault.py": header + bench_overhead.BODIES["cobo_fault"]})
        on, off = interleave(workspace, variants(), rounds)
    finally:
        workspace.close()
    tests = len(bench_overhead._cases()) * bench_overhead.REPS
    name, scale = f"guard, per test ({tests} tests)", 1000 / tests
    return [
        ratio_row(name, on, off, "run", unit="ms/test", scale=scale, target=TARGET),
        ratio_row(name, off, off, "run", unit="ms/test", scale=scale),
        ratio_row("guard, whole run (wall)", on, off, "wall", unit="s", target=TARGET),
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__, run, rounds=5))
