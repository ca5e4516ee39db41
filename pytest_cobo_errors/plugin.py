"""The pytest plugin: options, markers, hooks and the ``cobo_fault`` fixture. Logic lives elsewhere."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_cobo_errors.markers import CASE_MARKER, MARKERS, TRANSPORTS_MARKER
from pytest_cobo_errors.settings import Settings, add_options, read_settings

if TYPE_CHECKING:
    # The rest is imported where it is used: this module loads into every pytest run of every
    # project that has the plugin installed, most of which never ask for a Cobo fault.
    from pytest_cobo_errors.catalog import ErrorCode, HttpStatus
    from pytest_cobo_errors.coverage import ErrorCoverage
    from pytest_cobo_errors.faults import CoboFaults
    from pytest_cobo_errors.signing import TestKey

SETTINGS = pytest.StashKey[Settings]()
COVERAGE: pytest.StashKey[ErrorCoverage] = pytest.StashKey()
CALL_FAILED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    config.stash[SETTINGS] = read_settings(config)
    if config.stash[SETTINGS].coverage:
        from pytest_cobo_errors.coverage import ErrorCoverage

        config.stash[COVERAGE] = ErrorCoverage()


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    lines = [f"cobo-errors: transports {'+'.join(settings.transports) or 'none'}"]
    if settings.base_urls:
        lines[0] += ", base URLs " + ", ".join(str(b) for b in settings.base_urls)
    if settings.codes is not None:
        from pytest_cobo_errors.catalog import ERROR_CODES, HTTP_STATUSES, iter_entries

        total = len(ERROR_CODES) + len(HTTP_STATUSES)
        chosen = sum(1 for entry in iter_entries() if settings.codes.selects(entry))
        lines.append(f"cobo-errors: --cobo-codes={settings.codes} selects {chosen} of {total} documented cases")
    return lines


def _case_keys(item: pytest.Item) -> list[str]:
    return [str(mark.args[0]) for mark in item.iter_markers(CASE_MARKER) if mark.args]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    codes = config.stash[SETTINGS].codes
    if codes is None:
        return
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        keys = _case_keys(item)
        keep = all(codes.selects(_entry(key)) for key in keys)
        (selected if keep else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def _entry(key: str) -> ErrorCode | HttpStatus:
    from pytest_cobo_errors.catalog import ERROR_CODES, HTTP_STATUSES

    return HTTP_STATUSES[int(key[5:])] if key.startswith("http:") else ERROR_CODES[int(key)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call":
        if report.failed:
            # the cobo_fault teardown reads this, so "unused fault" errors don't pile onto a failure
            item.stash[CALL_FAILED] = True
        coverage = item.config.stash.get(COVERAGE, None)
        if coverage is not None:
            for key in _case_keys(item):
                coverage.record_entry(_entry(key))
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: merge what a worker's tests exercised into the controller's report."""
    data = getattr(node, "workeroutput", {}).get("cobo_coverage")
    if data:
        coverage = node.config.stash.get(COVERAGE, None)
        if coverage is not None:
            coverage.merge(data)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    settings = config.stash[SETTINGS]
    coverage = config.stash.get(COVERAGE, None)
    if coverage is None:
        return
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["cobo_coverage"] = coverage.as_dict()
        return
    if settings.fail_under is not None and coverage.percent < settings.fail_under and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    settings = config.stash[SETTINGS]
    coverage = config.stash.get(COVERAGE, None)
    if coverage is None or hasattr(config, "workeroutput"):
        return
    terminalreporter.write_sep("=", "cobo error coverage")
    for line in coverage.report(fail_under=settings.fail_under):
        terminalreporter.write_line(line)
    if settings.fail_under is not None and coverage.percent < settings.fail_under:
        terminalreporter.write_line(
            f"FAIL: cobo error coverage {coverage.percent:.1f}% is under --cobo-coverage-fail-under="
            f"{settings.fail_under:g}%",
            red=True,
            bold=True,
        )


@pytest.fixture
def cobo_fault(request: pytest.FixtureRequest) -> Iterator[CoboFaults]:
    """Inject documented Cobo errors, gateway pages and network faults into this test's HTTP traffic.

    ``cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")`` answers matching
    requests to the Cobo hosts with that error; ``status(503)``, ``network("read_timeout")``,
    ``fail_then_succeed(1010, times=2)``, ``sequence([...])`` and ``succeed(...)`` declare other
    answers. A request no rule answers fails the test and never reaches the network; a rule
    never used fails the test at teardown unless declared ``optional=True``.
    """
    from pytest_cobo_errors.faults import CoboFaults

    config = request.config
    settings = config.stash[SETTINGS]
    marker = request.node.get_closest_marker(TRANSPORTS_MARKER)
    try:
        faults = CoboFaults(
            base_urls=settings.base_urls,
            transports=list(marker.args) if marker else settings.transports,
            on_served=coverage.record_served if (coverage := config.stash.get(COVERAGE, None)) else None,
        )
    except (TypeError, ValueError) as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:  # failed outside the handler, so the report is not chained to the ValueError
        pytest.fail(f"@pytest.mark.cobo_transports: {problem}", pytrace=False)
    faults.start()
    try:
        yield faults
    finally:
        faults.stop()
    if request.node.stash.get(CALL_FAILED, False):
        return
    problems = faults.problems()
    if problems:
        pytest.fail("cobo_fault: " + "\n  ".join(["faults were not used as declared:", *problems]), pytrace=False)


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
