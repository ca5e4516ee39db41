"""What the network guard costs per test: the same suite with the guard and without it.

The suite is bench_overhead's: 41 documented codes x 10 = 410 tests, each injecting one error
with ``cobo_fault`` and making one httpx request. "guard off" loads a plugin (written into the
benchmark's workspace, never shipped) that turns ``pytest_cobo_errors.guard.arm`` into a no-op,
so no audit hook is added and no connect wrapper installed; everything else is identical. The
guard's cost is its audit hook, called for every audited event in the process (imports, file
opens, ``object.__getattr__``, ...), and the thread bookkeeping when each fault set opens and closes.

A whole-suite comparison cannot resolve a cost much below the machine's noise (a few per cent
here), so the cost is also computed directly: the audited events one test of the suite raises
(counted by a hook during the run phase) times what the guard's hook adds to one audited call
(timed in a fresh interpreter), against the suite's per-test time.

    python benchmarks/bench_guard.py [--rounds 5]
"""

from __future__ import annotations

import json
import subprocess
import sys

import bench_overhead
from bench_harness import PYTEST_HTTPX, Row, Variant, Workspace, interleave, main, ratio_row

TARGET = 1.02
GUARD_OFF = bench_overhead.GUARD_OFF


COUNT_EVENTS = '''"""Benchmark only: count audited events during the run phase."""
import json, os, sys

_counts = {"events": 0, "on": False}


def _hook(event, args):
    if _counts["on"]:
        _counts["events"] += 1


sys.addaudithook(_hook)


def pytest_collection_finish(session):
    _counts["on"] = True


def pytest_sessionfinish(session):
    _counts["on"] = False
    with open(os.environ["BENCH_COUNT_OUT"], "w") as out:
        json.dump({"events": _counts["events"], "tests": session.testscollected}, out)
'''

HOOK_COST = """
import timeit
from pytest_cobo_errors import guard
from pytest_cobo_errors.switchboard import SWITCHBOARD

call = lambda: id(1)  # builtins.id is an audited event
n = 500_000
before = min(timeit.repeat(call, number=n, repeat=5))
guard.arm(SWITCHBOARD)
after = min(timeit.repeat(call, number=n, repeat=5))
print((after - before) / n)
"""


def _direct_cost(workspace: Workspace, per_test_seconds: float) -> Row:
    (workspace.path / "plugins" / "_bench_count_events.py").write_text(COUNT_EVENTS)
    out = workspace.path / "events.json"
    variant = Variant("count", ("-p", "_bench_count_events", "test_cobo_fault.py", "--cobo-transports=httpx"))
    env = workspace.env(variant) | {"BENCH_COUNT_OUT": str(out)}
    subprocess.run(variant.command(), cwd=workspace.path / "suite", env=env, check=True, capture_output=True)
    counted = json.loads(out.read_text())
    per_test = counted["events"] / counted["tests"]
    hook = float(subprocess.run([sys.executable, "-c", HOOK_COST], capture_output=True, text=True, check=True).stdout)
    cost = per_test * hook
    figure = f"{per_test:.0f} events x {hook * 1e9:.0f} ns = {cost * 1e6:.1f} us/test"
    ratio = 1 + cost / per_test_seconds
    verdict = "ok" if ratio <= TARGET else "MISSED"
    return Row("guard, computed", "audit hook cost", figure, ratio, f"<= {TARGET:.2f}x", verdict)


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
        tests = len(bench_overhead._cases()) * bench_overhead.REPS
        computed = _direct_cost(workspace, off.median("run") / tests)
    finally:
        workspace.close()
    name, scale = f"guard, per test ({tests} tests)", 1000 / tests
    return [
        ratio_row(name, on, off, "run", unit="ms/test", scale=scale, target=TARGET),
        ratio_row(name, off, off, "run", unit="ms/test", scale=scale),
        ratio_row("guard, whole run (wall)", on, off, "wall", unit="s", target=TARGET),
        computed,
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__, run, rounds=5))
