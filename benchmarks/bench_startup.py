"""Start-up cost of having the plugin installed, for a suite that does not use it.

A generated suite of 200 plain tests (10 modules of 20, no HTTP) is collected with
``pytest --collect-only``, with the plugin loaded as installed and with it disabled by
``-p no:cobo_errors``. pytest-httpx is disabled in both, so only the cobo plugin differs.
The figures are the CPU time of the whole process (import, configuration, collection), which
another process on a shared machine does not inflate and on which the target is judged, and its
wall time.

    python benchmarks/bench_startup.py [--rounds 11]
"""

from __future__ import annotations

import subprocess
import sys

from bench_harness import COBO, PYTEST_HTTPX, Row, Variant, Workspace, interleave, main, ratio_row

TARGET = 1.02  # issue "Per-test cost at pytest-httpx's level": the plugin installed but unused
MODULES, PER_MODULE = 10, 20


def files() -> dict[str, str]:
    suite = {}
    for m in range(MODULES):
        tests = "".join(f"\n\ndef test_{m}_{t}():\n    assert {t} + 1 > {t}\n" for t in range(PER_MODULE))
        suite[f"test_plain_{m}.py"] = f'"""Plain tests, module {m}."""' + tests
    return suite


def variants() -> list[Variant]:
    return [
        Variant("cobo plugin installed", ("--collect-only",), (PYTEST_HTTPX,)),
        Variant("cobo plugin disabled", ("--collect-only",), (PYTEST_HTTPX, COBO)),
    ]


def import_cost(workspace: Workspace, runs: int = 7) -> float:
    """Median seconds to import the plugin module in a fresh interpreter that has already imported pytest."""
    code = (
        "import time, pytest; t = time.perf_counter(); import pytest_cobo_errors.plugin; print(time.perf_counter() - t)"
    )
    env = workspace.env(variants()[0])
    times = [
        float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
        for _ in range(runs + 1)
    ][1:]  # the first run fills the bytecode cache
    return sorted(times)[len(times) // 2]


def run(rounds: int) -> list[Row]:
    workspace = Workspace("startup")
    try:
        workspace.write(files())
        installed, disabled = interleave(workspace, variants(), rounds)
        cost = import_cost(workspace)
    finally:
        workspace.close()
    name = f"--collect-only, {MODULES * PER_MODULE} plain tests"
    return [
        ratio_row(f"{name}, CPU", installed, disabled, "cpu", unit="ms", scale=1000, target=TARGET),
        ratio_row(f"{name}, CPU", disabled, disabled, "cpu", unit="ms", scale=1000),
        ratio_row(f"{name}, wall", installed, disabled, "wall", unit="ms", scale=1000),
        ratio_row(f"{name}, wall", disabled, disabled, "wall", unit="ms", scale=1000),
        Row("import pytest_cobo_errors.plugin", "after pytest, fresh interpreter", f"{cost * 1000:,.1f} ms", None),
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__, run, rounds=11))
