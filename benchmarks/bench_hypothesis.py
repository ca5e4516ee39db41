"""Examples per second of a ``@given`` test that injects a generated Cobo error per example.

Each example draws an error code and a message, declares the error, makes one httpx request
and checks the code. The same test, written four ways:

- ``respx.mock per example`` (the baseline the issue names): a fresh ``with respx.mock:`` router
  per example, returning the five-field envelope by hand; cobo and pytest-httpx plugins disabled.
- ``cobo_fault.example()``: the fixture, with rules scoped to each example by ``example()``.
- ``CoboFaults() per example``: the context manager, starting and stopping interception per example.
- ``MockTransport per example`` (the floor): a client on a bare ``httpx.MockTransport``.

Settings: ``max_examples`` examples (all generated: no database, no shrinking, no deadline,
``@seed(0)`` so every round draws the same data). The figure is examples run divided by the
duration of the test's call phase, so start-up and collection are left out.

    python benchmarks/bench_hypothesis.py [--rounds 5] [--examples 300]
"""

from __future__ import annotations

import argparse
import sys

from bench_harness import COBO, PYTEST_HTTPX, Row, Variant, Workspace, interleave, print_table, ratio_row

URL = "https://api.dev.cobo.com/v1/custody/coin_info/"


def _statuses() -> dict[int, int]:
    from pytest_cobo_errors.catalog import ERROR_CODES

    return {code: entry.default_status for code, entry in ERROR_CODES.items()}


def _header(examples: int) -> str:
    return f"""
import uuid

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

URL = {URL!r}
STATUS = {_statuses()!r}
CLIENT = httpx.Client()
EXAMPLES = 0

each = settings(
    max_examples={examples},
    database=None,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
draw = given(code=st.sampled_from(sorted(STATUS)), message=st.text(max_size=40))


def envelope(code, message):
    return {{"success": False, "error_code": code, "error_message": message,
             "error_id": uuid.uuid4().hex, "error_description": message}}


def check(response, code, message):
    global EXAMPLES
    EXAMPLES += 1
    assert response.status_code == STATUS[code]
    body = response.json()
    assert body["error_code"] == code and body["error_message"] == message
"""


BODIES = {
    "test_respx.py": """
import respx


@seed(0)
@each
@draw
def test_generated(code, message):
    with respx.mock(assert_all_called=True) as router:
        router.get(URL).mock(return_value=httpx.Response(STATUS[code], json=envelope(code, message)))
        response = CLIENT.get(URL)
    check(response, code, message)
""",
    "test_cobo_example.py": """
@seed(0)
@each
@draw
def test_generated(cobo_fault, code, message):
    with cobo_fault.example():
        cobo_fault.inject(code, message=message)
        response = CLIENT.get(URL)
    check(response, code, message)
""",
    "test_fault_set_blocks.py": """
from pytest_cobo_errors import CoboFaults


@seed(0)
@each
@draw
def test_generated(code, message):
    with CoboFaults(transports="httpx") as faults:
        faults.inject(code, message=message)
        response = CLIENT.get(URL)
    check(response, code, message)
""",
    "test_mocktransport.py": """
@seed(0)
@each
@draw
def test_generated(code, message):
    body = envelope(code, message)

    def handler(request):
        assert request.url == URL
        return httpx.Response(STATUS[code], json=body)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        check(client.get(URL), code, message)
""",
}


def variants() -> list[Variant]:
    return [
        Variant("respx.mock per example", ("test_respx.py",), (COBO, PYTEST_HTTPX)),
        Variant("cobo_fault.example()", ("test_cobo_example.py", "--cobo-transports=httpx"), (PYTEST_HTTPX,)),
        Variant("CoboFaults() per example", ("test_fault_set_blocks.py", "--cobo-transports=httpx"), (PYTEST_HTTPX,)),
        Variant("MockTransport per example (floor)", ("test_mocktransport.py",), (COBO, PYTEST_HTTPX)),
    ]


def run(rounds: int, examples: int = 300) -> list[Row]:
    workspace = Workspace("hypothesis")
    try:
        workspace.write({name: _header(examples) + body for name, body in BODIES.items()})
        measured = interleave(workspace, variants(), rounds)
    finally:
        workspace.close()
    for m in measured:
        assert all(s.marks["examples"] == examples for s in m.samples), f"{m.variant.label}: examples differ"
    base = measured[0]
    name = f"@given, {examples} examples"
    return [ratio_row(name, m, base, "rate", unit="examples/s", higher_is_better=True) for m in measured]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--examples", type=int, default=300)
    args = parser.parse_args()
    print_table(run(args.rounds, args.examples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
