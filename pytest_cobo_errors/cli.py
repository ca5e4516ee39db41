"""``cobo-fault-server``: the fake Cobo as a command, for the integration tests of a service in any language.

::

    cobo-fault-server --port 8080 --scenario faults.toml

serves a scenario's rules (`pytest_cobo_errors.scenario`: TOML or JSON) on 127.0.0.1, prints one
line with its address, and runs until SIGTERM or Ctrl-C, then exits 0. Requests under
``/_cobo/`` are the control endpoint, JSON in and out, for a test suite to drive it over HTTP:

- ``PUT /_cobo/scenario``: replace the scenario (a JSON body, or TOML sent as ``application/toml``),
  forgetting the calls; 400 with the reason if it is not valid (the old one stays);
- ``DELETE /_cobo/scenario``: no rules, no calls;
- ``GET /_cobo/scenario``: the rules, and the public key clients verify signed answers with;
- ``GET /_cobo/calls``: the requests the rules answered, what with, and those none answered;
- ``GET /_cobo/problems``: rules not used as declared and requests no rule answered: what a test
  asserts is empty at its end;
- ``GET /_cobo/health``: 200 once serving.

Exit status 2, with a one-line message, when it cannot start: an invalid scenario, a busy port, a
host that is not loopback, or the ``server`` extra not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from pytest_cobo_errors.hosts import is_loopback
from pytest_cobo_errors.scenario import ScenarioError, load_scenario, parse_scenario, read_scenario

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import FrameType, ModuleType

    from werkzeug.wrappers import Request, Response

    from pytest_cobo_errors.outcomes import Outcome
    from pytest_cobo_errors.rules import Call
    from pytest_cobo_errors.server import CoboServer
    from pytest_cobo_errors.transports.contract import CapturedRequest
    from pytest_cobo_errors.transports.loopback import LoopbackServer

__all__ = ["ENDPOINTS", "Control", "main"]

PROG = "cobo-fault-server"
_INSTALL = "pip install 'pytest-cobo-errors[server]'"
ENDPOINTS = (
    "GET /_cobo/health",
    "GET /_cobo/scenario",
    "PUT /_cobo/scenario",
    "DELETE /_cobo/scenario",
    "GET /_cobo/calls",
    "GET /_cobo/problems",
)
"""The control endpoint's requests: listed in every 404 and 405 it answers."""


class _CannotStart(Exception):
    """Why the server cannot start: told in one line, exit status 2."""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535 (0 picks a free one), got {text!r}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve documented Cobo API errors from a fake Cobo on 127.0.0.1, as a scenario file declares "
        "them; drive it over HTTP under /_cobo/ (scenario, calls, problems, health).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, help="the port to listen on (default: 0, a free one)")
    parser.add_argument("--scenario", metavar="PATH", help="the scenario to serve: a .toml or .json file")
    parser.add_argument("--quiet", action="store_true", help="print only the address line, not the rules loaded")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGTERM or SIGINT; the exit status: 0, or 2 if it cannot start."""
    args = _parser().parse_args(argv)
    try:
        return _serve(args)
    except _CannotStart as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    if not is_loopback(args.host):
        raise _CannotStart(
            f"--host must be a loopback address such as 127.0.0.1, ::1 or localhost (the fake Cobo serves "
            f"this machine only), got {args.host!r}"
        )
    try:
        from pytest_cobo_errors.transports import loopback
    except ImportError:
        raise _CannotStart(f"the standalone server needs pytest-httpserver: {_INSTALL}") from None
    scenario = None
    if args.scenario is not None:
        try:
            scenario = read_scenario(args.scenario)
        except ScenarioError as exc:
            raise _CannotStart(str(exc)) from None
    server = _listen(loopback, args.host, args.port)
    log: Callable[[str], None] = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr))
    try:
        try:
            control = Control(server, scenario)
        except ScenarioError as exc:
            raise _CannotStart(f"{args.scenario}: {exc}") from None
        server.control = control
        if scenario is not None:
            log(f"{PROG}: {len(control.faults.book.rules)} rule(s) from {args.scenario}:")
            for index, rule in enumerate(control.faults.book.rules):
                log(f"  rules[{index}]: {rule}")
        key = _public_key(control.faults)
        if key is not None:
            log(f"{PROG}: answers are signed; Cobo's public key for clients: {key}")
        _wait_for_signal(f"{PROG}: serving on {server.url} (control: {server.url}{loopback.CONTROL_PREFIX})")
        control.close()
    finally:
        loopback.shut()
    return 0


def _listen(loopback: ModuleType, host: str, port: int) -> LoopbackServer:
    """The process's loopback server, started on *host* and *port*; a busy port is told in one line."""
    try:
        server: LoopbackServer = loopback.running(host, port)
    except OSError as exc:  # the server says which address it could not take, and why
        hint = f"; is another server on port {port}? Stop it, or choose another --port (0 picks a free one)"
        raise _CannotStart(f"{exc.strerror or exc}{hint if port else ''}") from None
    return server


def _wait_for_signal(line: str) -> None:
    """Print *line*, then wait for SIGTERM or SIGINT (Ctrl-C)."""
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # in place before the address is printed: a caller may signal as soon as it reads it
    previous = [(sig, signal.signal(sig, stopping)) for sig in (signal.SIGTERM, signal.SIGINT)]
    try:
        with contextlib.suppress(BrokenPipeError):  # a caller that stopped reading still gets served
            print(line, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous:
            signal.signal(sig, handler)


def _public_key(faults: CoboServer) -> str | None:
    """The public key that verifies the signed answers, if any answer is signed."""
    from pytest_cobo_errors.signing import SignedOutcome, session_key

    if faults.signer is not None:
        return faults.signer.public_key_hex
    signed = [o for rule in faults.book.rules for o in rule.outcomes if isinstance(o, SignedOutcome)]
    if not signed:
        return None
    keys = {(o.key or session_key()).public_key_hex for o in signed}
    return keys.pop() if len(keys) == 1 else None


class Control:
    """The control endpoint under ``/_cobo/``, and the fault set it replaces.

    A new scenario goes into a new fault set, checked in full, before it replaces the old one;
    the new set starts answering before the old one stops, so every request is answered by one of them.
    """

    def __init__(self, server: LoopbackServer, scenario: object | None = None) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.faults = self._fresh(scenario)
        self.faults.start()

    def _fresh(self, scenario: object | None) -> CoboServer:
        from pytest_cobo_errors.server import CoboServer

        faults = CoboServer(server=self.server, label="the scenario")
        if scenario is not None:
            load_scenario(faults, scenario)
        return faults

    def replace(self, scenario: object | None) -> CoboServer:
        """Serve *scenario* (None: no rules) from now on, with no calls; ScenarioError leaves the old one."""
        faults = self._fresh(scenario)
        with self.lock:
            faults.start()  # the innermost set now: it answers every request from here on
            old, self.faults = self.faults, faults
            old.stop()
        return faults

    def close(self) -> None:
        with self.lock:
            self.faults.stop()

    def __call__(self, request: Request) -> Response:
        from pytest_cobo_errors.transports.loopback import CONTROL_PREFIX

        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "health"): self._health,
            ("GET", "scenario"): self._scenario,
            ("PUT", "scenario"): self._put,
            ("DELETE", "scenario"): self._delete,
            ("GET", "calls"): self._calls,
            ("GET", "problems"): self._problems,
        }
        route = routes.get((request.method, name))
        if route is None:
            methods = [method for method, path in routes if path == name]
            if methods:
                problem = f"{CONTROL_PREFIX}{name} takes {', '.join(methods)}, not {request.method}"
                return _json({"error": problem, "endpoints": ENDPOINTS}, 405, {"Allow": ", ".join(methods)})
            problem = f"no control endpoint {request.method} {request.path}"
            return _json({"error": problem, "endpoints": ENDPOINTS}, 404)
        try:
            return route(request)
        except Exception as exc:  # a bug of ours: told to the caller, the server goes on
            return _json({"error": f"{PROG}: internal error: {exc!r}"}, 500)

    def _health(self, request: Request) -> Response:
        return _json({"status": "ok", "url": self.server.url})

    def _scenario(self, request: Request) -> Response:
        with self.lock:
            faults = self.faults
        return _json(_describe(faults))

    def _put(self, request: Request) -> Response:
        form = "toml" if "toml" in request.mimetype else "json"
        try:
            faults = self.replace(parse_scenario(request.get_data(), form, source=f"the {form.upper()} body"))
        except ScenarioError as exc:
            return _json({"error": str(exc)}, 400)
        return _json(_describe(faults))

    def _delete(self, request: Request) -> Response:
        return _json(_describe(self.replace(None)))

    def _calls(self, request: Request) -> Response:
        with self.lock:
            faults = self.faults
        book = faults.book
        with book.lock:
            rule_of = {id(call): index for index, rule in enumerate(book.rules) for call in rule.calls}
            calls = [{**_request(c.request), "rule": rule_of.get(id(c)), "answer": _answer(c)} for c in book.calls]
            unmatched = [{**_request(seen), "reason": why} for seen, why in book.unmatched]
        return _json({"calls": calls, "unmatched": unmatched})

    def _problems(self, request: Request) -> Response:
        with self.lock:
            faults = self.faults
        return _json({"problems": faults.problems()})


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    from werkzeug.wrappers import Response

    body = json.dumps(data, ensure_ascii=False) + "\n"
    return Response(body, status=status, headers=headers, content_type="application/json")


def _describe(faults: CoboServer) -> dict[str, Any]:
    return {"rules": [str(rule) for rule in faults.book.rules], "public_key": _public_key(faults)}


def _request(request: CapturedRequest) -> dict[str, Any]:
    """A request as the control endpoint shows it; credentials masked, as in every message of ours."""
    from pytest_cobo_errors.transports.contract import mask

    return {
        "method": request.method,
        "url": request.url,
        "path": request.path,
        "query": request.query,
        "params": request.params,
        "form": request.form,
        "headers": {name: mask(name, value) for name, value in request.headers.items()},
        "body": request.content.decode("utf-8", "replace"),
    }


def _answer(call: Call) -> dict[str, Any]:
    """What a rule answered: its kind (the scenario's key), label, HTTP status, Cobo code, network fault."""
    from pytest_cobo_errors.outcomes import NetworkFault, Reply

    reply = call.reply
    answer: dict[str, Any] = {
        "kind": _kind(call.outcome),
        "label": call.outcome.label,
        "status": reply.status if isinstance(reply, Reply) else None,
        "code": call.outcome.code,
    }
    if isinstance(reply, NetworkFault):
        answer["network"] = reply.kind
    elif reply.drop_after is not None:
        answer["network"] = "truncated_response"
    return answer


def _kind(outcome: Outcome) -> str:
    from pytest_cobo_errors.outcomes import ErrorAnswer, GatewayPage, NetworkFault, RawAnswer, SuccessAnswer
    from pytest_cobo_errors.signing import SignedOutcome

    if isinstance(outcome, SignedOutcome) and outcome.inner is not None:
        return _kind(outcome.inner)
    if isinstance(outcome, ErrorAnswer):
        return "error"
    if isinstance(outcome, GatewayPage):
        return "gateway"
    if isinstance(outcome, SuccessAnswer):
        return "succeed"
    if isinstance(outcome, NetworkFault) or (isinstance(outcome, RawAnswer) and outcome.drop_after is not None):
        return "network"
    return "respond"


if __name__ == "__main__":
    sys.exit(main())
