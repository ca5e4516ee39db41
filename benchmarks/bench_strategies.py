"""Examples per second of each strategy in pytest_cobo_errors.strategies, side by side with a floor.

The floor is what a user would write by hand: a plain ``st.fixed_dictionaries`` envelope. Each
strategy is run through ``@given`` exactly as a test would use it (generate phase only, no
database, no deadline), with an empty test body, and timed with ``time.perf_counter``; the
examples counted are the calls Hypothesis actually made. Rounds alternate between strategies so
machine noise spreads evenly, and the median round is reported.

    python benchmarks/bench_strategies.py [--examples 2000] [--rounds 3]

Targets (issue 4): valid envelopes at least 0.8x the floor, malformed ones at least 0.5x; (issue 16)
``error_responses()`` at least 0.8x.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from pytest_cobo_errors.catalog import ERROR_CODES
from pytest_cobo_errors.strategies import error_envelopes, error_responses, malformed_envelopes

FLOOR = "floor: st.fixed_dictionaries envelope"
TARGETS = {"error_envelopes()": 0.8, "malformed_envelopes()": 0.5, "error_responses()": 0.8}


def floor_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "success": st.just(False),
            "error_code": st.sampled_from(sorted(ERROR_CODES)),
            "error_message": st.text(),
            "error_id": st.uuids().map(lambda u: u.hex),
            "error_description": st.text(),
        }
    )


STRATEGIES: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    FLOOR: floor_strategy,
    "error_envelopes()": error_envelopes,
    "malformed_envelopes()": malformed_envelopes,
    "error_responses()": error_responses,
    "error_responses(valid=False)": lambda: error_responses(valid=False),
}


def examples_per_second(strategy: st.SearchStrategy[Any], examples: int) -> float:
    calls = 0

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(0)  # the same examples every round: only the machine varies
    @given(strategy)
    def run(value: Any) -> None:
        nonlocal calls
        calls += 1

    start = time.perf_counter()
    run()
    return calls / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per strategy per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the median is reported)")
    args = parser.parse_args()

    rates: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    examples_per_second(floor_strategy(), 200)  # warm-up: imports, caches
    for _ in range(args.rounds):
        for name, make in STRATEGIES.items():
            rates[name].append(examples_per_second(make(), args.examples))

    floor = statistics.median(rates[FLOOR])
    print(
        f"Python {platform.python_version()}, Hypothesis {hypothesis.__version__}, "
        f"{args.examples} examples x {args.rounds} rounds (median)"
    )
    width = max(map(len, STRATEGIES))
    print(f"{'strategy':<{width}}  {'examples/s':>10}  {'x floor':>7}  target")
    failed = False
    for name, values in rates.items():
        rate = statistics.median(values)
        ratio = rate / floor
        target = TARGETS.get(name)
        verdict = "" if target is None else f">= {target:.1f}x " + ("ok" if ratio >= target else "MISSED")
        failed |= target is not None and ratio < target
        print(f"{name:<{width}}  {rate:>10,.0f}  {ratio:>6.2f}x  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
