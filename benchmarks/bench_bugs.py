"""How often, and how soon, each strategy that yields responses finds the bugs real Cobo clients have.

Each client below is a small function ``client(status, headers, body)`` that returns the
``result`` of a success or raises ``ApiError``, and carries exactly one realistic bug (the
correct client carries none). The property every client is held to:

- for a genuine success (``response.is_success``), return its ``result``;
- for anything else, raise ``ApiError``: returning a result, or raising anything else, is the bug.

Each strategy runs through ``@given`` as a test would use it: 100 examples, generate phase only,
no database, ``@seed(n)`` for 20 seeds. One run per seed evaluates every client on every example
and records the example number at which each client first fails; a run of one client alone would
stop there, after exactly the same examples (generation does not depend on the test's outcome
until it fails). The table gives, per bug, the share of seeds that find it and the median example
number at which they do. A second table counts, per kind, the seeds whose 100 examples hold it,
and hold it at a 2xx status.

    python benchmarks/bench_bugs.py [--seeds 20] [--examples 100] [--first-seed 0] [--strategy NAME]

Target (issue 16): with ``error_responses()``, every bug found in at least 95% of seeds, and the
correct client failing in none.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from pytest_cobo_errors.strategies import DEFECTS, ErrorResponse, error_responses, responses

Headers = Mapping[str, str]
Client = Callable[[int, Headers, bytes], Any]


class ApiError(Exception):
    """The client's own error: what every non-success must become."""


def _decode(status: int, body: bytes) -> dict[str, Any]:
    """Correct decoding: any ValueError (JSON, UTF-8, CPython's digit limit) and non-objects are ApiErrors."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ApiError(status, "not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(status, "not an object")
    return data


def _error(status: int, data: Mapping[str, Any]) -> ApiError:
    """Correct error building: every field read defensively."""
    code = data.get("error_code")
    return ApiError(status, code if type(code) is int else None, data.get("error_message"), data.get("error_id"))


def _is_success(status: int, data: Mapping[str, Any]) -> bool:
    return 200 <= status < 300 and data.get("success") is True and "error_code" not in data


def correct(status: int, headers: Headers, body: bytes) -> Any:
    """No bug: decodes defensively, and returns only for a 2xx, success true and no error_code."""
    data = _decode(status, body)
    if _is_success(status, data):
        return data.get("result")
    raise _error(status, data)


def truthy_success(status: int, headers: Headers, body: bytes) -> Any:
    """The official SDK's `if body["success"]:`: the string "false" is truthy (and the body has no result)."""
    data = _decode(status, body)
    if status >= 300:
        raise _error(status, data)
    if data["success"]:
        return data["result"]
    raise _error(status, data)


def success_without_code_check(status: int, headers: Headers, body: bytes) -> Any:
    """`success is True` taken as a success without looking for an error_code beside it."""
    data = _decode(status, body)
    if 200 <= status < 300 and data.get("success") is True:
        return data.get("result")
    raise _error(status, data)


def any_2xx_is_success(status: int, headers: Headers, body: bytes) -> Any:
    """`response.raise_for_status()` and nothing more: a 200 with an error envelope is a success."""
    data = _decode(status, body)
    if 200 <= status < 300:
        return data.get("result")
    raise _error(status, data)


def body_over_status(status: int, headers: Headers, body: bytes) -> Any:
    """Ignores the status, as the official v1 SDKs do: a success body under a 502 is a success."""
    data = _decode(status, body)
    if data.get("success") is True and "error_code" not in data:
        return data.get("result")
    raise _error(status, data)


def non_object_crash(status: int, headers: Headers, body: bytes) -> Any:
    """Catches bad JSON, then calls `.get` on whatever parsed: null, [] or a string crash it."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ApiError(status, "not JSON") from None
    if _is_success(status, data):
        return data.get("result")
    raise _error(status, data)


def decode_error_only(status: int, headers: Headers, body: bytes) -> Any:
    """`except json.JSONDecodeError`: non-UTF-8 bytes and a 4301-digit number raise other ValueErrors."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        raise ApiError(status, "not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(status, "not an object")
    if _is_success(status, data):
        return data.get("result")
    raise _error(status, data)


def indexes_fields(status: int, headers: Headers, body: bytes) -> Any:
    """The official SDK's `ApiError(body["error_code"], body["error_message"], body["error_id"])`: KeyError."""
    data = _decode(status, body)
    if _is_success(status, data):
        return data.get("result")
    raise ApiError(status, data["error_code"], data["error_message"], data["error_id"])


def error_id_as_uuid(status: int, headers: Headers, body: bytes) -> Any:
    """Stores error_id in a UUID column, `uuid.UUID(hex=...)`: assumes 32 hex characters."""
    data = _decode(status, body)
    if _is_success(status, data):
        return data.get("result")
    error = _error(status, data)
    if data.get("error_id") is not None:
        uuid.UUID(hex=data["error_id"])
    raise error


def code_as_int(status: int, headers: Headers, body: bytes) -> Any:
    """Routes on `error_code >= 12000` (a custody error): assumes error_code is an int."""
    data = _decode(status, body)
    if _is_success(status, data):
        return data.get("result")
    if data.get("error_code", 0) >= 12000:
        raise ApiError(status, "custody", data.get("error_code"))
    raise _error(status, data)


def needs_content_type(status: int, headers: Headers, body: bytes) -> Any:
    """`if "json" not in response.headers["Content-Type"]`: an answer without the header is a KeyError."""
    if "json" not in headers["Content-Type"]:
        raise ApiError(status, "not JSON")
    data = _decode(status, body)
    if _is_success(status, data):
        return data.get("result")
    raise _error(status, data)


def falsy_result_is_failure(status: int, headers: Headers, body: bytes) -> Any:
    """`if body["success"] and body["result"]:`: is_valid_address's `result: false` becomes an error."""
    data = _decode(status, body)
    if _is_success(status, data) and data.get("result"):
        return data["result"]
    raise _error(status, data)


CLIENTS: dict[str, Client] = {
    "correct (no bug)": correct,
    "truthy success": truthy_success,
    "success without error_code check": success_without_code_check,
    "any 2xx is a success": any_2xx_is_success,
    "body over status": body_over_status,
    "crash on non-object JSON": non_object_crash,
    "JSONDecodeError only": decode_error_only,
    "indexes fields (KeyError)": indexes_fields,
    "error_id is 32 hex": error_id_as_uuid,
    "error_code is an int": code_as_int,
    "Content-Type present": needs_content_type,
    "falsy result is a failure": falsy_result_is_failure,
}

STRATEGIES: dict[str, Callable[[], st.SearchStrategy[ErrorResponse]]] = {
    "error_responses()": error_responses,
    "error_responses(defects=DEFECTS)": lambda: error_responses(defects=list(DEFECTS)),
    "responses()": responses,
}
# What error_responses() does not make by design: genuine successes (responses() does), and a
# success body under an error status (asked for by name: whether it is an error is the client's policy).
OUT_OF_SCOPE = {
    ("error_responses()", "falsy result is a failure"),
    ("error_responses(defects=DEFECTS)", "falsy result is a failure"),
    ("error_responses()", "body over status"),
}


def fails(client: Client, response: ErrorResponse) -> bool:
    """Whether *client* breaks the property on *response*."""
    try:
        result = client(response.status, dict(response.headers), response.body)
    except ApiError:
        return response.is_success
    except Exception:
        return True
    return not response.is_success or result != json.loads(response.body)["result"]


def run_seed(
    strategy: st.SearchStrategy[ErrorResponse], number: int, examples: int
) -> tuple[dict[str, int], set[str], set[str], int]:
    """One seeded run: the first failing example number per client, the kinds seen, those seen at 2xx."""
    found: dict[str, int] = {}
    kinds: set[str] = set()
    at_2xx: set[str] = set()
    count = 0

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(number)
    @given(strategy)
    def run(response: ErrorResponse) -> None:
        nonlocal count
        count += 1
        kind = response.defect or ("success" if response.is_success else "well_formed")
        kinds.add(kind)
        if 200 <= response.status < 300:
            at_2xx.add(kind)
        for name, client in CLIENTS.items():
            if name not in found and fails(client, response):
                found[name] = count

    run()
    return found, kinds, at_2xx, count


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |")
        if number == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per strategy (0, 1, ...)")
    parser.add_argument("--examples", type=int, default=100, help="max_examples of each run")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run from this one (other seeds: a check)")
    parser.add_argument("--strategy", choices=list(STRATEGIES), help="run this strategy only")
    args = parser.parse_args()
    chosen = [args.strategy] if args.strategy else list(STRATEGIES)

    started = time.perf_counter()
    found: dict[str, dict[str, list[int]]] = {s: {c: [] for c in CLIENTS} for s in chosen}
    kinds: dict[str, dict[str, list[int]]] = {s: {} for s in chosen}
    counts: list[int] = []
    for name in chosen:
        for number in range(args.first_seed, args.first_seed + args.seeds):
            first, seen, at_2xx, count = run_seed(STRATEGIES[name](), number, args.examples)
            counts.append(count)
            for client, at in first.items():
                found[name][client].append(at)
            for kind in seen:
                kinds[name].setdefault(kind, [0, 0])[0] += 1
            for kind in at_2xx:
                kinds[name].setdefault(kind, [0, 0])[1] += 1

    seeds = "" if args.first_seed == 0 else f" ({args.first_seed}-{args.first_seed + args.seeds - 1})"
    print(
        f"Hypothesis {hypothesis.__version__}: {args.seeds} seeds{seeds} x {args.examples} examples per strategy, "
        f"generate phase only ({min(counts)}-{max(counts)} examples ran per seed)"
    )
    print("each cell: seeds that find the bug, and the median example number at which they do")
    print("(n/a: the strategy does not make what shows the bug, by design)\n")
    rows = [["bug", *chosen]]
    missed = False
    for client in CLIENTS:
        row = [client]
        for name in chosen:
            hits = found[name][client]
            share = len(hits) / args.seeds
            median = f", median {statistics.median(hits):g}" if hits else ""
            cell = f"{len(hits)}/{args.seeds} ({share:.0%}){median}"
            if (name, client) in OUT_OF_SCOPE:
                cell = f"n/a ({cell})"
            elif name == "error_responses()":
                missed |= share > 0 if client == "correct (no bug)" else share < 0.95
            row.append(cell)
        rows.append(row)
    _table(rows)

    print("\nseeds whose examples hold each kind: at any status / at a 2xx status\n")
    rows = [["kind", *chosen]]
    for label in ["success", "well_formed", *DEFECTS]:
        row = [label]
        for name in chosen:
            anywhere, at_2xx = kinds[name].get(label, [0, 0])
            row.append(f"{anywhere}/{args.seeds} / {at_2xx}/{args.seeds}")
        rows.append(row)
    _table(rows)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
