"""Collection cost of ``@cobo_error_cases`` against plain ``pytest.mark.parametrize``.

50 test functions (5 modules of 10), each run once per documented error code: 41 x 50 = 2,050
items. Decorated three ways and collected with ``pytest --collect-only``:

- ``@cobo_error_cases``: the bare decorator (one ``CoboErrorCase`` and one case marker per item).
- ``parametrize, plugin disabled``: ``@pytest.mark.parametrize("cobo_error", CODES, ids=IDS)``
  over the same 41 codes with the same ids, with ``-p no:cobo_errors``: what the plain suite costs.
- ``parametrize, plugin loaded``: the same plain suite with the plugin installed, which isolates
  the decorator's own cost from the plugin's start-up (measured separately by bench_startup).

Figures: the collection phase (``pytest_collection`` to ``pytest_collection_finish``), which is
where the decorator runs (at import of the test modules), and the wall time of the process.

    python benchmarks/bench_collection.py [--rounds 5]
"""

from __future__ import annotations

import sys

from bench_harness import COBO, PYTEST_HTTPX, Row, Variant, Workspace, interleave, main, ratio_row

TARGET = 1.2
MODULES, PER_MODULE = 5, 10


def _cases() -> tuple[list[int], list[str]]:
    from pytest_cobo_errors.catalog import ERROR_CODES

    return list(ERROR_CODES), [entry.id for entry in ERROR_CODES.values()]


def files() -> dict[str, str]:
    codes, ids = _cases()
    suite = {}
    for m in range(MODULES):
        decorated = ["from pytest_cobo_errors import cobo_error_cases\n"]
        plain = [f"import pytest\n\nCODES = {codes!r}\nIDS = {ids!r}\n"]  # the same values and ids, as literals
        for t in range(PER_MODULE):
            decorated.append(f"\n\n@cobo_error_cases\ndef test_{m}_{t}(cobo_error):\n    assert cobo_error.code\n")
            plain.append(
                f'\n\n@pytest.mark.parametrize("cobo_error", CODES, ids=IDS)\n'
                f"def test_{m}_{t}(cobo_error):\n    assert cobo_error\n"
            )
        suite[f"decorated/test_cases_{m}.py"] = "".join(decorated)
        suite[f"plain/test_cases_{m}.py"] = "".join(plain)
    return suite


def variants() -> list[Variant]:
    return [
        Variant("@cobo_error_cases", ("--collect-only", "decorated"), (PYTEST_HTTPX,)),
        Variant("parametrize, plugin disabled", ("--collect-only", "plain"), (PYTEST_HTTPX, COBO)),
        Variant("parametrize, plugin loaded", ("--collect-only", "plain"), (PYTEST_HTTPX,)),
    ]


def run(rounds: int) -> list[Row]:
    workspace = Workspace("collection")
    try:
        workspace.write(files())
        measured = interleave(workspace, variants(), rounds)
    finally:
        workspace.close()
    items = MODULES * PER_MODULE * len(_cases()[0])
    for m in measured:
        assert all(s.marks["items"] == items for s in m.samples), f"{m.variant.label} did not collect {items} items"
    cases, plain, plain_loaded = measured
    name = f"collection ({items} items)"
    return [
        ratio_row(name, cases, plain, "collect", unit="ms", scale=1000, target=TARGET),
        ratio_row(name, plain, plain, "collect", unit="ms", scale=1000),
        ratio_row(name, plain_loaded, plain, "collect", unit="ms", scale=1000),
        ratio_row(f"{name}, both with plugin loaded", cases, plain_loaded, "collect", unit="ms", scale=1000),
        ratio_row("collect-only (wall)", cases, plain, "wall", unit="ms", scale=1000, target=TARGET),
        ratio_row("collect-only (wall)", plain, plain, "wall", unit="ms", scale=1000),
        ratio_row("collect-only (wall)", plain_loaded, plain, "wall", unit="ms", scale=1000),
    ]


if __name__ == "__main__":
    sys.exit(main(__doc__, run, rounds=5))
