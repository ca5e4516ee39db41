"""``cobo_server`` against the same rules written by hand on pytest-httpserver: requests/s and per-test cost.

Both servers are werkzeug's, on 127.0.0.1 in the pytest process, and werkzeug answers every
request with ``Connection: close``, so each request is a fresh TCP connection whatever the client
keeps open. The servers:

- ``pytest-httpserver (httpserver)``, the reference: pytest-httpserver's own ``httpserver``
  fixture as a user gets it: *not* threaded (one request at a time, on the server's thread,
  HTTP/1.0), werkzeug's request log line on, every request and response kept in
  ``httpserver.log``; the rule is ``httpserver.expect_request(path).respond_with_json(envelope,
  status=400)`` with the five-field envelope of error 12007. The cobo plugin is disabled.
- ``pytest-httpserver, threaded``: the same fixture on a server built with ``threaded=True``
  (a ``make_httpserver`` override in a conftest, as pytest-httpserver documents), a thread per
  connection like ``cobo_server``'s; log line and ``httpserver.log`` as before.
- ``cobo_server``: ``cobo_server.inject(12007, path=...)``, as shipped (the network guard armed,
  as it is for any test that uses ``cobo_server``); pytest-httpserver's plugin disabled (only its
  module is imported). A fresh ``error_id`` per answer, and every call recorded.
- ``cobo_server, guard off``: the same with ``guard.arm`` made a no-op (bench_guard's plugin).
- ``plain werkzeug (floor)``: a bare WSGI function returning the same bytes on werkzeug's server,
  not threaded like the reference, request log off, started once per session: no rules, no
  fixture per test, so nothing a test could do costs less. Both plugins disabled.
- ``plain werkzeug, threaded``: the same on werkzeug's threaded server, which is what
  ``LoopbackServer`` runs on: what is over it is ``cobo_server``'s own work.

Every suite is in its own directory (the threaded ones hold their conftest). Each server is
stopped by a session fixture in the last test's teardown, where werkzeug's shutdown waits up to
its 0.5 s poll interval; so the run-phase figures end where that teardown starts (a
benchmark-only plugin marks it), and only the whole-run figures include the stop.

Two suites:

1. **Requests per second.** One test declares its rule and sends N = 1,000 requests
   (``http.client``, the lightest client, so that the figure is as much the server's as it can
   be), from one thread and again from 4 threads (N/4 each). The figure is N over the test's call
   phase; also the CPU time of the run phase per request (client, server and pytest share one
   process). Target: ``cobo_server`` at least 0.9x pytest-httpserver's requests/s.
2. **Per test, the server already running.** 400 tests, each declaring one rule (a fresh
   ``error_id`` per test) and sending one request with a module-level ``requests.Session``, then
   checking the status and ``error_code``; the floors' tests send the same request with no rule.
   Run-phase CPU and wall per test, and the whole process, as bench_overhead reports them.

``--quick`` (and ``run.py --quick``) runs 400 requests and 100 tests, 2 rounds: it checks the script.

    python benchmarks/bench_server.py [--rounds 5] [--quick] [--json out.json] [--strict]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from bench_guard import GUARD_OFF
from bench_harness import (
    COBO,
    PYTEST_HTTPX,
    Measured,
    Row,
    Sample,
    Variant,
    Workspace,
    interleave,
    print_table,
    ratio_row,
)

REQUESTS = 1000  # per throughput run
CLIENTS = 4  # threads in the concurrent variant
TESTS = 400  # in the per-test suite
TARGET = 0.9  # cobo_server's requests/s over pytest-httpserver's (issue 12)
HTTPSERVER = "pytest_httpserver"  # pytest-httpserver's pytest11 entry-point name
PATH = "/v1/custody/coin_info/"
CODE, STATUS, MESSAGE = 12007, 400, "Insufficient balance"

COMMON = f"""
import json
import uuid

PATH = {PATH!r}
CODE, STATUS, MESSAGE = {CODE!r}, {STATUS!r}, {MESSAGE!r}


def envelope():
    # the five fields cobo_server renders for CODE, with a fresh error_id
    return {{"success": False, "error_code": CODE, "error_message": MESSAGE,
             "error_id": uuid.uuid4().hex, "error_description": MESSAGE}}
"""

# The floors' server: werkzeug's with its request log off (as LoopbackServer runs it), and a bare
# WSGI function in place of any rules.
FLOOR_CONFTEST = """
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

BODY = json.dumps(envelope()).encode()
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


class Quiet(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


def app(environ, start_response):
    start_response(f"{STATUS} BAD REQUEST", HEADERS)
    return [BODY]


@pytest.fixture(scope="session")
def plain_url():
    server = make_server("127.0.0.1", 0, app, threaded=THREADED, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join()
"""

# werkzeug's shutdown waits up to 0.5 s: the run-phase figures end before the servers stop.
SERVED_END = '''"""Benchmark only: mark the start of the last test's teardown, before the session's servers stop."""
import time

import _bench_timer
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    if nextitem is None:
        _bench_timer._marks["served_end"] = time.perf_counter()
        _bench_timer._marks["served_end_cpu"] = time.process_time()
'''

THREADED_CONFTEST = """
import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="session")
def make_httpserver():
    # pytest-httpserver's own make_httpserver, on a threaded server
    server = HTTPServer(host=HTTPServer.DEFAULT_LISTEN_HOST, port=HTTPServer.DEFAULT_LISTEN_PORT, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
"""

THROUGHPUT = """
import http.client
import threading
from urllib.parse import urlsplit

N = {requests}
CLIENTS = {clients}
EXAMPLES = N  # the timer plugin divides this by the call phase: requests per second


def client(base, count, bodies):
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname, address.port)  # reconnects after each close
    for _ in range(count):
        conn.request("GET", PATH)
        response = conn.getresponse()
        body = response.read()
        assert response.status == STATUS, (response.status, body)
    conn.close()
    bodies.append(body)


def hammer(base):
    bodies = []
    if CLIENTS == 1:
        client(base, N, bodies)
    else:
        threads = [threading.Thread(target=client, args=(base, N // CLIENTS, bodies)) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(bodies) == CLIENTS and all(json.loads(b)["error_code"] == CODE for b in bodies)


def test_requests({fixture}):
    {declare}
    hammer({base})
"""

PER_TEST = """
import pytest
import requests

SESSION = requests.Session()  # one per module, as real suites share one


@pytest.mark.parametrize("rep", range({tests}))
def test_one({fixture}, rep):
    {declare}
    response = SESSION.get({base} + PATH)
    assert response.status_code == STATUS
    assert response.json()["error_code"] == CODE
"""


class _Measured(Measured):
    """The harness's figures, plus the run phase up to the last test's teardown ("served")."""

    @staticmethod
    def value(sample: Sample, what: str) -> float:
        if what == "served":
            return sample.phase("run_start", "served_end")
        if what == "served_cpu":
            return sample.phase("run_start_cpu", "served_end_cpu")
        return Measured.value(sample, what)


def _measure(workspace: Workspace, variants: list[Variant], rounds: int) -> list[_Measured]:
    return [_Measured(m.variant, m.samples) for m in interleave(workspace, variants, rounds)]


# each suite's directory -> (its conftest, the fixture its tests use, how they declare their rule,
# the base URL they hand the client), the reference first
SUITES = {
    "httpserver": ("", "httpserver", "httpserver.expect_request(PATH).respond_with_json(envelope(), status=STATUS)",
                   'httpserver.url_for("/").rstrip("/")'),
    "httpserver_threaded": (THREADED_CONFTEST, "httpserver",
                            "httpserver.expect_request(PATH).respond_with_json(envelope(), status=STATUS)",
                            'httpserver.url_for("/").rstrip("/")'),
    "cobo_server": ("", "cobo_server", "cobo_server.inject(CODE, path=PATH)", "cobo_server.url"),
    "floor": (COMMON + "\nTHREADED = False\n" + FLOOR_CONFTEST, "plain_url", "pass", "plain_url"),
    "floor_threaded": (COMMON + "\nTHREADED = True\n" + FLOOR_CONFTEST, "plain_url", "pass", "plain_url"),
}  # fmt: skip


def files(requests: int, tests: int) -> dict[str, str]:
    """The generated suite: a directory per server, with its conftest, throughput and per-test modules."""
    out = {}
    for suite, (conftest, fixture, declare, base) in SUITES.items():
        given = {"fixture": fixture, "declare": declare, "base": base}
        if conftest:
            out[f"{suite}/conftest.py"] = conftest
        for clients in (1, CLIENTS):
            out[f"{suite}/test_rate_{clients}.py"] = COMMON + THROUGHPUT.format(
                requests=requests, clients=clients, **given
            )
        out[f"{suite}/test_each.py"] = COMMON + PER_TEST.format(tests=tests, **given)
    return out


def _clients(clients: int) -> str:
    return f"{clients} client{'s' if clients > 1 else ''}"


def variants(clients: int | None = None) -> list[Variant]:
    """Every server, the reference first: the throughput suite with *clients*, else the per-test one."""
    module = f"test_rate_{clients}.py" if clients else "test_each.py"
    label = f", {_clients(clients)}" if clients else ""
    mark = ("-p", "_bench_served_end")  # every variant loads it, the floors too
    cobo, httpserver, neither = (HTTPSERVER, PYTEST_HTTPX), (COBO, PYTEST_HTTPX), (COBO, HTTPSERVER, PYTEST_HTTPX)
    return [
        Variant(f"pytest-httpserver (httpserver){label}", (*mark, f"httpserver/{module}"), httpserver),
        Variant(f"pytest-httpserver, threaded{label}", (*mark, f"httpserver_threaded/{module}"), httpserver),
        Variant(f"cobo_server{label}", (*mark, f"cobo_server/{module}"), cobo),
        Variant(f"cobo_server, guard off{label}", (*mark, "-p", "_bench_guard_off", f"cobo_server/{module}"), cobo),
        Variant(f"plain werkzeug (floor){label}", (*mark, f"floor/{module}"), neither),
        Variant(f"plain werkzeug, threaded{label}", (*mark, f"floor_threaded/{module}"), neither),
    ]


def _throughput_rows(measured: list[_Measured], clients: int, requests: int) -> list[Row]:
    base, cobo = measured[0], f"cobo_server, {_clients(clients)}"
    rows = [
        ratio_row(
            f"requests/s, {requests} requests",
            m,
            base,
            "rate",
            unit="req/s",
            higher_is_better=True,
            target=TARGET if m.variant.label == cobo else None,
        )
        for m in measured
    ]
    # client, server and pytest share the process: its CPU time over the run phase, per request
    name = f"CPU per request, {requests} requests"
    rows += [ratio_row(name, m, base, "served_cpu", unit="us/req", scale=1e6 / requests) for m in measured]
    return rows


def run(rounds: int, requests: int = REQUESTS, tests: int = TESTS) -> list[Row]:
    workspace = Workspace("server")
    rows: list[Row] = []
    try:
        (workspace.path / "plugins" / "_bench_guard_off.py").write_text(GUARD_OFF)
        (workspace.path / "plugins" / "_bench_served_end.py").write_text(SERVED_END)
        workspace.write(files(requests, tests))
        for clients in (1, CLIENTS):
            print(f"  requests/s, {_clients(clients)}:", file=sys.stderr, flush=True)
            measured = _measure(workspace, variants(clients), rounds)
            for m in measured:
                assert all(s.marks["examples"] == requests for s in m.samples), m.variant.label
            rows += _throughput_rows(measured, clients, requests)
        print(f"  per test, {tests} tests:", file=sys.stderr, flush=True)
        measured = _measure(workspace, variants(), rounds)
    finally:
        workspace.close()
    for m in measured:
        assert all(s.marks["items"] == tests for s in m.samples), m.variant.label
    base, scale = measured[0], 1000 / tests
    rows += [
        ratio_row(f"per test, CPU ({tests} tests)", m, base, "served_cpu", unit="ms/test", scale=scale)
        for m in measured
    ]
    rows += [ratio_row(f"per test ({tests} tests)", m, base, "served", unit="ms/test", scale=scale) for m in measured]
    rows += [ratio_row("whole process, CPU", m, base, "cpu", unit="s") for m in measured]
    rows += [ratio_row("whole run (wall)", m, base, "wall", unit="s") for m in measured]
    return rows


def run_quick(rounds: int) -> list[Row]:
    """A smoke test of the script (run.py --quick): fewer requests and tests; the figures are rough."""
    return run(rounds, requests=400, tests=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="400 requests, 100 tests, 2 rounds: checks the script")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    rows = run_quick(rounds) if args.quick else run(rounds)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({"rows": [asdict(r) for r in rows]}, indent=2))
    return 1 if args.strict and any(r.verdict == "MISSED" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
