"""Per-test cost of ``cobo_fault`` against the same tests written by hand.

One generated suite, 41 documented codes x 10 repetitions = 410 tests; each test injects one
error and makes one httpx request, then checks the status and the error code. Written four ways
(and a copy that imports requests), run nine:

- ``cobo_fault``: ``cobo_fault.inject(code, path=...)``; pytest-httpx's plugin disabled; with
  ``--cobo-transports=httpx``; with ``auto`` in the same module, which never imports requests (so
  its transport waits and intercepts nothing); and with ``auto`` in a copy that imports requests
  (both transports start with every fault set, as in a suite on the official SDK).
- ``respx``: the ``respx_mock`` fixture with a route returning the same five-field envelope
  (with a fresh ``error_id``) at the same status; both the cobo and pytest-httpx plugins disabled.
- ``pytest-httpx``: ``httpx_mock.add_response(...)``; the cobo plugin disabled.
- ``MockTransport``: a client on a bare ``httpx.MockTransport`` (the floor: no mocking library).
- ``respx + cobo plugin loaded``: the respx suite with the cobo plugin left on but unused, to
  show what the plugin's hooks cost the tests that do not use it.

One more run of the ``cobo_fault`` suite (httpx alone) says what of its cost is the network
guard's, with a plugin written into the benchmark's workspace, never shipped: ``guard off`` makes
``pytest_cobo_errors.guard.arm`` a no-op (as bench_guard does).

Figures: the wall time of the whole ``pytest`` process, and the time of its run phase (first
test start to last test end, so interpreter start-up and collection are left out), per test.
Both also as CPU time (``time.process_time()`` in the run phase, and for the whole process at
``pytest_unconfigure``), which another process on a shared machine does not inflate; the targets
are judged on CPU time. Every ratio is taken against pytest-httpx, the plugin users would
otherwise pick.

    python benchmarks/bench_overhead.py [--rounds 5]
"""

from __future__ import annotations

import sys

from bench_harness import COBO, PYTEST_HTTPX, Row, Variant, Workspace, interleave, main, ratio_row

REPS = 10
GUARD_OFF = '''"""Benchmark only: the cobo_fault suite without the network guard."""
import pytest_cobo_errors.guard

pytest_cobo_errors.guard.arm = lambda board: None
'''
TARGET = 1.05  # against pytest-httpx, httpx intercepted alone (issue "Per-test cost at pytest-httpx's level")
TARGET_BOTH = 1.15  # the same with requests intercepted too
URL = "https://api.dev.cobo.com/v1/custody/coin_info/"


def _cases() -> list[tuple[int, int]]:
    from pytest_cobo_errors.catalog import ERROR_CODES

    return [(code, entry.default_status) for code, entry in ERROR_CODES.items()]


def _header(cases: list[tuple[int, int]]) -> str:
    # the cases are written out as literals, so no variant imports the plugin's catalog to get them
    return f"""
import uuid

import httpx
import pytest

URL = {URL!r}
CASES = {cases!r}
CLIENT = httpx.Client()  # one client per module, as real suites share one


def envelope(code):
    message = "injected"
    return {{"success": False, "error_code": code, "error_message": message,
             "error_id": uuid.uuid4().hex, "error_description": message}}


def check(response, code, status):
    assert response.status_code == status
    assert response.json()["error_code"] == code


cases = pytest.mark.parametrize(("code", "status"), CASES)
reps = pytest.mark.parametrize("rep", range({REPS}))
"""


BODIES = {
    "cobo_fault": """
@cases
@reps
def test_error(cobo_fault, code, status, rep):
    cobo_fault.inject(code, path="/v1/custody/coin_info/")
    check(CLIENT.get(URL), code, status)
""",
    "respx": """
@cases
@reps
def test_error(respx_mock, code, status, rep):
    respx_mock.get(URL).mock(return_value=httpx.Response(status, json=envelope(code)))
    check(CLIENT.get(URL), code, status)
""",
    "pytest-httpx": """
@cases
@reps
def test_error(httpx_mock, code, status, rep):
    httpx_mock.add_response(url=URL, method="GET", status_code=status, json=envelope(code))
    check(CLIENT.get(URL), code, status)
""",
    "MockTransport": """
@cases
@reps
def test_error(code, status, rep):
    body = envelope(code)

    def handler(request):
        assert request.url == URL  # routing, as every mock does
        return httpx.Response(status, json=body)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        check(client.get(URL), code, status)
""",
}


def variants() -> list[Variant]:
    # pytest-httpx first: it is the reference every ratio is taken against
    return [
        Variant("pytest-httpx (httpx_mock)", ("test_pytest_httpx.py",), (COBO,)),
        Variant("cobo_fault", ("test_cobo_fault.py", "--cobo-transports=httpx"), (PYTEST_HTTPX,)),
        # the default with the requests extra installed, in a suite whose code never imports requests:
        # its transport waits for the import, and intercepts nothing
        Variant(
            "cobo_fault, auto (requests unused)", ("test_cobo_fault.py", "--cobo-transports=auto"), (PYTEST_HTTPX,)
        ),
        # both transports really active: the module imports requests, as a suite on the official SDK does
        Variant(
            "cobo_fault, httpx+requests",
            ("test_cobo_fault_requests.py", "--cobo-transports=auto"),
            (PYTEST_HTTPX,),
        ),
        Variant("respx (respx_mock)", ("test_respx.py",), (COBO, PYTEST_HTTPX)),
        Variant("MockTransport (floor)", ("test_mocktransport.py",), (COBO, PYTEST_HTTPX)),
        Variant("respx + cobo plugin loaded", ("test_respx.py", "--cobo-transports=httpx"), (PYTEST_HTTPX,)),
        # what of cobo_fault's cost is the guard's (a benchmark-only plugin, see the docstring)
        Variant(
            "cobo_fault, guard off",
            ("test_cobo_fault.py", "--cobo-transports=httpx", "-p", "_bench_guard_off"),
            (PYTEST_HTTPX,),
        ),
    ]


FILES = {
    "cobo_fault": "test_cobo_fault.py",
    "respx": "test_respx.py",
    "pytest-httpx": "test_pytest_httpx.py",
    "MockTransport": "test_mocktransport.py",
}


def run(rounds: int) -> list[Row]:
    header = _header(_cases())
    workspace = Workspace("overhead")
    try:
        files = {FILES[name]: header + body for name, body in BODIES.items()}
        # requests imported by the module, as by code under test: both transports start with every fault set
        files["test_cobo_fault_requests.py"] = header + "\nimport requests  # noqa: F401\n" + BODIES["cobo_fault"]
        workspace.write(files)
        (workspace.path / "plugins" / "_bench_guard_off.py").write_text(GUARD_OFF)
        measured = interleave(workspace, variants(), rounds)
    finally:
        workspace.close()
    tests = len(_cases()) * REPS
    reference = measured[0]
    name = f"per test ({tests} tests)"
    targets = {"cobo_fault": TARGET, "cobo_fault, httpx+requests": TARGET_BOTH}
    cpu_name = f"per test, CPU ({tests} tests)"
    rows = [
        ratio_row(
            cpu_name, m, reference, "run_cpu", unit="ms/test", scale=1000 / tests, target=targets.get(m.variant.label)
        )
        for m in measured
    ]
    rows += [ratio_row(name, m, reference, "run", unit="ms/test", scale=1000 / tests) for m in measured]
    rows += [
        ratio_row("whole process, CPU", m, reference, "cpu", unit="s", target=TARGET if m is measured[1] else None)
        for m in measured
    ]
    rows += [ratio_row("whole run (wall)", m, reference, "wall", unit="s") for m in measured]
    return rows


if __name__ == "__main__":
    sys.exit(main(__doc__, run, rounds=5))
