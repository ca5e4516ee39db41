"""The pytest plugin: options, markers, hooks and the ``cobo_fault`` fixture. Logic lives elsewhere."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pytest

from pytest_cobo_errors.markers import LIVE_MARKER, MARKERS, NO_COVERAGE_MARKER, TRANSPORTS_MARKER
from pytest_cobo_errors.settings import Settings, add_options, read_settings

if TYPE_CHECKING:
    # The rest is imported where it is used: this module loads into every pytest run of every
    # project that has the plugin installed, most of which never ask for a Cobo fault.
    from pytest_cobo_errors.callbacks import CoboCallbacks
    from pytest_cobo_errors.catalog import ErrorCode, HttpStatus
    from pytest_cobo_errors.coverage import ErrorCoverage
    from pytest_cobo_errors.faults import CoboFaults
    from pytest_cobo_errors.server import CoboServer
    from pytest_cobo_errors.signing import TestKey

_Faults = TypeVar("_Faults", bound="CoboFaults")
SETTINGS = pytest.StashKey[Settings]()
COVERAGE: pytest.StashKey[ErrorCoverage] = pytest.StashKey()
CALL_VERDICTS = pytest.StashKey["_CallVerdicts"]()
CALL_OUTCOME = pytest.StashKey[Literal["", "passed", "failed"]]()
STRAYS = pytest.StashKey[list[str]]()
JSON_PROBLEM = pytest.StashKey[str]()
_SWITCHBOARD = "pytest_cobo_errors.switchboard"
_LOOPBACK = "pytest_cobo_errors.transports.loopback"


class _CallVerdicts:
    """Whether each test's call phase passed, read by the cobo_fault teardown: rule use is judged
    only then. A skip, an xfail, a setup error or a failure (or an attempt pytest-rerunfailures
    will run again) is the news; an "unused rule" error beside it would bury it.

    From the report pytest makes, not the one it logs: pytest-rerunfailures logs an attempt's
    reports only after its teardown ran. Registered on the first use of cobo_fault, because a
    per-test hook costs every test of every suite, most of which never use the plugin.
    """

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost, so it sees the report after xfail's rewrite
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call":
            # Sticky: a failed subtest (pytest's subtests, unittest's subTest) makes a call report of
            # its own before the test's, which pytest turns into a failure only later.
            if not report.passed or hasattr(report, "wasxfail"):
                item.stash[CALL_OUTCOME] = "failed"
            elif item.stash.get(CALL_OUTCOME, "") != "failed":
                item.stash[CALL_OUTCOME] = "passed"
        return report


class _LiveTests:
    """Lets tests marked cobo_live reach Cobo's development host, from their first fixture to their
    last teardown; registered only under --cobo-live."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if item.get_closest_marker(LIVE_MARKER) is not None:
            from pytest_cobo_errors.switchboard import SWITCHBOARD

            SWITCHBOARD.allow_live(item.nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        try:
            return (yield)
        finally:  # also when a fixture's teardown raised
            board = sys.modules.get(_SWITCHBOARD)
            if board is not None:
                board.SWITCHBOARD.allow_live(None)


class _CaseCoverage:
    """Records the @cobo_error_cases cases that run, and tells the coverage which test is running (what it
    serves is that test's, unless it is marked cobo_no_coverage or is a Hypothesis test); registered only
    under --cobo-coverage."""

    def __init__(self, coverage: ErrorCoverage) -> None:
        self.coverage = coverage

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        # setup to teardown: what a wider fixture serves for this test is this test's
        self.coverage.begin_test(
            item.nodeid,
            marked=item.get_closest_marker(NO_COVERAGE_MARKER) is not None,
            hypothesis=isinstance(item, pytest.Function) and bool(getattr(item.obj, "is_hypothesis_test", False)),
        )
        try:
            return (yield)
        finally:
            self.coverage.end_test()

    def pytest_runtest_call(self, item: pytest.Item) -> None:
        for entry in _case_entries(item):
            self.coverage.record_entry(entry)


_SCOPE_HINT = (
    "cobo_fault is function-scoped. To share faults across a module or class, open a "
    "CoboFaults() block in the wider fixture instead (with CoboFaults() as faults: ... yield faults); "
    "each test's cobo_fault rules are then asked first, and what they decline goes to the shared block."
)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # pytest raises ScopeMismatch before our fixture runs, so the hint is added to its report
    if report.when == "setup" and report.failed and hasattr(report.longrepr, "addsection"):
        text = report.longreprtext
        if "ScopeMismatch" in text and "fixture cobo_fault " in text:
            report.longrepr.addsection("cobo-errors", _SCOPE_HINT)  # type: ignore[union-attr]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    settings = config.stash[SETTINGS] = read_settings(config)
    config.stash[STRAYS] = []
    if settings.base_urls:
        from pytest_cobo_errors.switchboard import SWITCHBOARD

        SWITCHBOARD.configure(settings.base_urls)
    if settings.live:
        config.pluginmanager.register(_LiveTests(), "cobo-errors-live-tests")
    if settings.coverage and not config.getoption("collectonly"):  # nothing runs, so nothing to score
        from pytest_cobo_errors.coverage import ErrorCoverage, recording

        coverage = config.stash[COVERAGE] = ErrorCoverage()
        config.pluginmanager.register(_CaseCoverage(coverage), "cobo-errors-case-coverage")
        recording(coverage)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(COVERAGE, None) is not None:
        from pytest_cobo_errors.coverage import recording

        recording(None)


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    lines = [f"cobo-errors: transports {'+'.join(settings.transports) or 'none'}"]
    if settings.base_urls:
        lines[0] += ", base URLs " + ", ".join(str(b) for b in settings.base_urls)
    if settings.codes is not None:
        from pytest_cobo_errors.catalog import iter_entries
        from pytest_cobo_errors.selection import all_entries

        codes = settings.codes
        v2 = any(p.api == "v2" for p in (*codes.include, *codes.exclude))
        entries = list(all_entries() if v2 else iter_entries())  # WaaS 2.0 counted once a term names it
        chosen = sum(1 for entry in entries if codes.selects(entry))
        of = "Custody API and WaaS 2.0 " if v2 else ""
        lines.append(f"cobo-errors: --cobo-codes={codes} selects {chosen} of {len(entries)} documented {of}cases")
    return lines


def _case_entries(item: pytest.Item) -> list[ErrorCode | HttpStatus]:
    """The catalog entries of the @cobo_error_cases cases *item* runs with."""
    cases = sys.modules.get("pytest_cobo_errors.cases")  # not imported: no test uses the decorator
    callspec = getattr(item, "callspec", None)
    if cases is None or callspec is None:
        return []
    return [value.entry for value in callspec.params.values() if isinstance(value, cases.CoboErrorCase)]


@pytest.hookimpl(tryfirst=True)  # before pytest's unittest plugin collects the class its own way
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    unittest = sys.modules.get("unittest")
    cases = sys.modules.get("pytest_cobo_errors.cases")  # not imported: no test uses the decorator
    if cases is not None and unittest is not None and isinstance(obj, type) and issubclass(obj, unittest.TestCase):
        cases.refuse_on_unittest(obj)  # a collection error of the module, naming what to do instead


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = config.stash[SETTINGS]
    guard_now = serving = False
    for item in items:
        if not settings.live and item.get_closest_marker(LIVE_MARKER) is not None:
            item.add_marker(pytest.mark.skip(reason="talks to Cobo's development host: run with --cobo-live"))
        names = getattr(item, "fixturenames", ())
        guard_now = guard_now or "cobo_fault" in names or "cobo_server" in names
        wanted = next((name for name in ("cobo_server", "cobo_server_url") if name in names), None)
        if not serving and wanted is not None:
            serving = True
            problem = _server_missing(wanted)
            if problem:
                raise pytest.UsageError(f"{item.nodeid} uses {problem}")
    if guard_now:
        # Before the first test, not at the first cobo_fault: a test that runs earlier is held too.
        from pytest_cobo_errors import guard
        from pytest_cobo_errors.switchboard import SWITCHBOARD

        guard.arm(SWITCHBOARD)
        if not config.getoption("collectonly"):
            # What every such test needs, made ready once: the first test then costs what the
            # others do (its duration and its timeout are its own)
            from pytest_cobo_errors.transports import preload

            importlib.import_module("pytest_cobo_errors.faults")
            preload(settings.transports)
            _judging(config)
    codes = settings.codes
    if codes is None:
        return
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        keep = all(codes.selects(entry) for entry in _case_entries(item))
        (selected if keep else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: merge what a worker's tests exercised, and its strays, into the controller's report."""
    output = getattr(node, "workeroutput", {})
    node.config.stash[STRAYS].extend(output.get("cobo_strays", ()))
    data = output.get("cobo_coverage")
    if data:
        coverage = node.config.stash.get(COVERAGE, None)
        if coverage is not None:
            coverage.merge(data)


def _strays(config: pytest.Config) -> list[str]:
    board = sys.modules.get(_SWITCHBOARD)  # not imported: nothing was ever intercepted
    if board is not None:
        config.stash[STRAYS].extend(board.SWITCHBOARD.take_strays())
    loopback = sys.modules.get(_LOOPBACK)  # not imported: no test used cobo_server
    if loopback is not None:
        config.stash[STRAYS].extend(f"{line} (via server)" for line in loopback.take_strays())
    return config.stash[STRAYS]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    settings = config.stash[SETTINGS]
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["cobo_strays"] = _strays(config)
    coverage = config.stash.get(COVERAGE, None)
    if coverage is None:
        return
    if workeroutput is not None:
        workeroutput["cobo_coverage"] = coverage.as_dict()
        return
    if settings.fail_under is not None and coverage.percent < settings.fail_under and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if settings.coverage_json is not None:
        problem = _write_json(settings.coverage_json, coverage.as_json(fail_under=settings.fail_under))
        config.stash[JSON_PROBLEM] = problem
        if problem and session.exitstatus == 0:  # a gate whose figure went missing must not pass
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _write_json(path: Path, data: dict[str, Any]) -> str:
    """Write *data* to *path* whole or not at all (a dashboard never reads half a file); the problem, if any."""
    import json
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=2)
                file.write("\n")
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        return f"cobo-errors: could not write --cobo-coverage-json to {path}: {exc.strerror or exc}"
    return ""


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    settings = config.stash[SETTINGS]
    strays = _strays(config) if not hasattr(config, "workeroutput") else []
    if strays:
        terminalreporter.write_sep("=", "cobo-errors: requests refused outside every test's fault window")
        for line in strays:
            terminalreporter.write_line(line)
        served = sum(1 for line in strays if line.endswith("(via server)"))
        if served < len(strays):
            terminalreporter.write_line(
                f"{len(strays) - served} request(s) to Cobo hosts arrived while no test's faults were active and "
                "never left the process; they do not change the exit status."
            )
        if served:
            terminalreporter.write_line(
                f"{served} request(s) reached cobo_server while no test's cobo_server was active and were answered "
                "with error 1000 (stray); they do not change the exit status."
            )
    coverage = config.stash.get(COVERAGE, None)
    if coverage is None or hasattr(config, "workeroutput"):
        return
    terminalreporter.write_sep("=", "cobo error coverage")
    for line in coverage.report(fail_under=settings.fail_under, verbose=(config.getoption("verbose") or 0) > 0):
        terminalreporter.write_line(line)
    if settings.coverage_json is not None:
        problem = config.stash.get(JSON_PROBLEM, "")
        if problem:
            terminalreporter.write_line(problem, red=True, bold=True)
        else:
            terminalreporter.write_line(f"JSON report written to {settings.coverage_json}")
    if settings.fail_under is not None and coverage.percent < settings.fail_under:
        terminalreporter.write_line(
            f"FAIL: cobo error coverage {coverage.percent:.1f}% is under --cobo-coverage-fail-under="
            f"{settings.fail_under:g}%",
            red=True,
            bold=True,
        )


def _judging(config: pytest.Config) -> None:
    """Register `_CallVerdicts`, once: at collection if a test names a fixture that needs it, else
    at the first that does (``request.getfixturevalue``)."""
    if config.stash.get(CALL_VERDICTS, None) is None:
        config.stash[CALL_VERDICTS] = _CallVerdicts()
        config.pluginmanager.register(config.stash[CALL_VERDICTS], "cobo-errors-call-verdicts")


def _judged(request: pytest.FixtureRequest, faults: _Faults) -> Iterator[_Faults]:
    """Run *faults* for one test; at teardown, if the test passed, fail it for faults misused."""
    _judging(request.config)
    request.node.stash[CALL_OUTCOME] = ""  # a rerun's earlier attempt must not speak for this one
    faults.start()
    try:
        yield faults
    finally:
        faults.stop()
    if request.node.stash[CALL_OUTCOME] != "passed":
        return
    problems = faults.problems()
    if problems:
        from pytest_cobo_errors.faults import describe_problems

        pytest.fail(describe_problems(problems, faults.fixture_name), pytrace=False)


@pytest.fixture
def cobo_fault(request: pytest.FixtureRequest) -> Iterator[CoboFaults]:
    """Inject documented Cobo errors, gateway pages and network faults into this test's HTTP traffic.

    ``cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")`` answers matching
    requests to the Cobo hosts with that error; ``gateway(503)``, ``network("read_timeout")``,
    ``fail_then_succeed(1010, times=2)``, ``sequence([...])`` and ``succeed(...)`` declare other
    answers. A request no rule answers fails the test and never reaches the network; a rule
    never used fails the test at teardown unless declared ``optional=True``.

    Function-scoped. To share faults across a module or class, open a ``CoboFaults()`` block in
    a module- or class-scoped fixture: each test's ``cobo_fault`` rules are asked first, and
    what they decline goes to the shared block.
    """
    from pytest_cobo_errors.faults import CoboFaults

    settings = request.config.stash[SETTINGS]
    marker = request.node.get_closest_marker(TRANSPORTS_MARKER)
    try:
        faults = CoboFaults(
            base_urls=settings.base_urls,
            transports=list(marker.args) if marker else settings.transports,
            label=f"test {request.node.nodeid}",
        )
    except (TypeError, ValueError) as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:  # failed outside the handler, so the report is not chained to the ValueError
        pytest.fail(f"@pytest.mark.cobo_transports: {problem}", pytrace=False)
    yield from _judged(request, faults)


def _server_missing(fixture: str) -> str:
    from pytest_cobo_errors.transports import require

    try:
        require("server")
    except ValueError as exc:
        return f"{fixture}: {exc}"
    return ""


@pytest.fixture(scope="session")
def cobo_server_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """The address of this session's fake Cobo on 127.0.0.1, such as ``http://127.0.0.1:41234``.

    Session-scoped, for what starts once per session: a service under test in a subprocess or
    a container, given it as Cobo's base URL (``url + "/v2"`` for WaaS 2.0). Each test's rules
    are declared on ``cobo_server``. One server per test process (each pytest-xdist worker has
    its own port); it needs the ``server`` extra.
    """
    problem = _server_missing("cobo_server_url")
    if problem:
        pytest.fail(problem, pytrace=False)
    # through sys.modules: pytester may have dropped the module an attribute of the package still names
    loopback = importlib.import_module(_LOOPBACK)
    was_running = loopback.running_server() is not None
    server = loopback.running()
    yield server.url
    if not was_running:  # an outer session (pytester's host) keeps the server it started
        pytestconfig.stash[STRAYS].extend(f"{line} (via server)" for line in loopback.shut())


@pytest.fixture
def cobo_server(request: pytest.FixtureRequest, cobo_server_url: str) -> Iterator[CoboServer]:
    """Serve this test's Cobo faults from a fake Cobo on 127.0.0.1, to any client in any process.

    The declaring API of ``cobo_fault`` (``inject``, ``gateway``, ``network``, ``sequence``,
    ``fail_then_succeed``, ``succeed``, ``sign_responses``), on a real socket: hand a client
    ``cobo_server.url`` as Cobo's base URL. Rules may also take ``delay=`` and ``trickle=``, and
    ``network()`` gives ``"connection_reset"``, ``"no_response"`` and ``"truncated_response"`` for real. A request no
    rule answers gets error 1000 at HTTP 500 saying why, and fails the test at teardown; a rule
    never used fails it too, unless declared ``optional=True``.
    """
    from pytest_cobo_errors.server import CoboServer

    yield from _judged(request, CoboServer(label=f"test {request.node.nodeid}"))


@pytest.fixture(scope="session")
def cobo_signing_key() -> TestKey:
    """The session's secp256k1 test key, which signs injected Cobo responses as Cobo signs real ones.

    Hand a client its public half where it takes Cobo's public key, e.g. the SDK's
    ``Env(host, coboPub=cobo_signing_key.public_key_hex)``, and turn signing on with
    ``cobo_fault.sign_responses(cobo_signing_key)``. One key per test process; it needs the
    ``signing`` extra (``pip install 'pytest-cobo-errors[signing]'``).
    """
    from pytest_cobo_errors.signing import SigningUnavailableError, session_key

    try:
        return session_key()
    except SigningUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def cobo_waas2_signing_key() -> TestKey:
    """The session's Ed25519 test key, which signs injected WaaS 2.0 answers as Cobo signs its own.

    WaaS 2.0 signs with Ed25519 over sha256(sha256(body|timestamp)), where the Custody API uses
    secp256k1 (``cobo_signing_key``). ``cobo_fault.sign_responses()`` signs v2 answers with this
    key; ``cobo_waas2_trust`` makes the ``cobo-waas2`` SDK verify with it. It needs the
    ``signing`` extra (``pip install 'pytest-cobo-errors[signing]'``).
    """
    from pytest_cobo_errors.signing import SigningUnavailableError, session_key

    try:
        return session_key("ed25519")
    except SigningUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def cobo_waas2_trust(cobo_waas2_signing_key: TestKey, monkeypatch: pytest.MonkeyPatch) -> TestKey:
    """Make the ``cobo-waas2`` SDK trust the session's Ed25519 test key for this test, and return it.

    The SDK verifies every answer with ``Configuration.resp_pubkey``, which holds Cobo's published
    keys and accepts only Cobo's three hosts: for this test it gives the test key's public half,
    for any host (``Configuration(host=cobo_server.url + "/v2")``); the property is restored after
    the test. Turn signing on with ``cobo_server.sign_responses()``.
    """
    try:
        from cobo_waas2 import Configuration
    except ImportError:
        pytest.fail("cobo_waas2_trust: the cobo-waas2 SDK is not installed: pip install cobo-waas2", pytrace=False)
    public = cobo_waas2_signing_key.public_key_hex
    monkeypatch.setattr(Configuration, "resp_pubkey", property(lambda _self: public))
    return cobo_waas2_signing_key


@pytest.fixture
def cobo_callbacks() -> CoboCallbacks:
    """Deliver signed Cobo callbacks, webhook events and callback messages to your handler, and check its answers.

    ``cobo_callbacks.check(app, case, side_effects=probe)`` sends one case of `callback_cases`
    (a header spelling, a signature fault, a duplicate, an unknown event type...) to an ASGI app
    (FastAPI), a WSGI app (Flask) or the URL of a running server, and fails the test, naming the
    rule, when the handler answers other than Cobo's contract requires. ``deliver`` sends a
    single call; ``payload`` builds realistic bodies.

    Function-scoped; it signs with the session's test keys, so give the handler
    ``cobo_callbacks.public_key_hex(kind)`` where it reads Cobo's public key. Under
    ``--cobo-coverage`` the cases checked are listed under their own heading. It needs the
    ``signing`` extra (``pip install 'pytest-cobo-errors[signing]'``).
    """
    from pytest_cobo_errors.callbacks import CoboCallbacks
    from pytest_cobo_errors.signing import SigningUnavailableError

    try:
        return CoboCallbacks()
    except SigningUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
