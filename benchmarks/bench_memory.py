"""Memory over a long run: what each test leaves behind, with ``cobo_fault`` and with pytest-httpx.

A generated suite of 10,000 tests (10 modules of 1,000), each injecting one error and making one
httpx request, run with pytest-httpx's ``httpx_mock``, with ``cobo_fault`` intercepting httpx, and
with ``cobo_fault`` intercepting requests too (which no test imports, so its transport waits for
the library's import every test: what that waiting leaves must be nothing either). A tiny
plugin counts live objects and allocated blocks (after ``gc.collect()``) once 1,000 tests have
finished and again when the session ends; the figure is what stayed allocated per test in between.
pytest itself keeps something per test (its items and reports), so the reference is pytest-httpx
on the same suite: a plugin that leaked per test would show up as a difference, not as a ratio.

    python benchmarks/bench_memory.py [--rounds 3]
"""

from __future__ import annotations

import sys

from bench_harness import COBO, PYTEST_HTTPX, Row, Variant, Workspace, interleave, main

MODULES, PER_MODULE, EARLY = 10, 1_000, 1_000
URL = "https://api.dev.cobo.com/v1/custody/coin_info/"

HEADER = f"""
import httpx
import pytest

URL = {URL!r}
CLIENT = httpx.Client()
ENVELOPE = {{"success": False, "error_code": 12007, "error_message": "Insufficient balance",
            "error_id": "0" * 32, "error_description": "Insufficient balance"}}
reps = pytest.mark.parametrize("rep", range({PER_MODULE}))
"""

BODIES = {
    "cobo_fault": """
@reps
def test_error(cobo_fault, rep):
    cobo_fault.inject(12007, path="/v1/custody/coin_info/")
    assert CLIENT.get(URL).status_code == 400
""",
    "pytest-httpx": """
@reps
def test_error(httpx_mock, rep):
    httpx_mock.add_response(url=URL, method="GET", status_code=400, json=ENVELOPE)
    assert CLIENT.get(URL).status_code == 400
""",
}


def files() -> dict[str, str]:
    return {
        f"test_{name.replace('-', '_')}_{m}.py": HEADER + body for name, body in BODIES.items() for m in range(MODULES)
    }


def variants() -> list[Variant]:
    env = {"BENCH_MEMORY_AT": str(EARLY)}
    httpx_mock = tuple(f"test_pytest_httpx_{m}.py" for m in range(MODULES))
    cobo = tuple(f"test_cobo_fault_{m}.py" for m in range(MODULES))
    return [
        Variant("pytest-httpx (httpx_mock)", httpx_mock, (COBO,), env),
        Variant("cobo_fault", (*cobo, "--cobo-transports=httpx"), (PYTEST_HTTPX,), env),
        Variant("cobo_fault, auto (requests unused)", (*cobo, "--cobo-transports=auto"), (PYTEST_HTTPX,), env),
    ]


def run(rounds: int) -> list[Row]:
    workspace = Workspace("memory")
    try:
        workspace.write(files())
        measured = interleave(workspace, variants(), rounds)
    finally:
        workspace.close()
    tests = MODULES * PER_MODULE
    rows = []
    for what, unit in (("objects", "objects/test"), ("blocks", "blocks/test")):
        for m in measured:
            rows.append(
                Row(
                    f"retained after test {EARLY:,} of {tests:,}",
                    m.variant.label,
                    f"{m.median(what):,.2f} {unit}",
                    None,
                )
            )
        for m in measured[1:]:
            difference = m.median(what) - measured[0].median(what)
            rows.append(
                Row(
                    f"retained after test {EARLY:,} of {tests:,}",
                    f"{m.variant.label} minus pytest-httpx",
                    f"{difference:+,.2f} {unit}",
                    None,
                )
            )
    return rows


if __name__ == "__main__":
    sys.exit(main(__doc__, run, rounds=3))
