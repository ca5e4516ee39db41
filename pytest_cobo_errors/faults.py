"""`CoboFaults`: declare faults, route intercepted requests to them, check how they were used.

This is the object behind the ``cobo_fault`` fixture and the `cobo_faults` context manager.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pytest_cobo_errors.catalog import shown
from pytest_cobo_errors.coverage import recorder
from pytest_cobo_errors.hosts import (
    DEFAULT_BASES,
    BaseUrl,
    CapturedRequest,
    allowed_host,
    is_cobo_host,
    parse_base_url,
)
from pytest_cobo_errors.outcomes import (
    CoboError,
    NetworkFault,
    Outcome,
    OutcomeLike,
    Reply,
    Respond,
    as_outcome,
    connect_error,
    connect_timeout,
    dropped_connection,
    error,
    gateway,
    read_timeout,
    success,
)
from pytest_cobo_errors.rules import Call, FaultRule, RuleBook
from pytest_cobo_errors.signing import TestKey, session_key
from pytest_cobo_errors.switchboard import SWITCHBOARD, Window
from pytest_cobo_errors.transports import check_supported, parse_transports
from pytest_cobo_errors.transports.contract import NETWORK_FAULT_KINDS

__all__ = ["CoboFaults", "ServedHook", "cobo_faults", "describe_problems"]

ServedHook = Callable[[Outcome, "Reply | NetworkFault"], None]


def describe_problems(problems: Sequence[str]) -> str:
    """The failure message for faults not used as declared, one problem a line."""
    return "cobo_fault: " + "\n  ".join(["faults were not used as declared:", *problems])


def _base_urls(values: object, name: str) -> tuple[BaseUrl, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(f"{name} takes a list of base URLs such as ['https://api.dev.cobo.com'], got {values!r}")
    bases = tuple(parse_base_url(b) for b in values)
    if not bases:
        raise ValueError(f"{name} must name at least one base URL")
    return bases


class CoboFaults:
    """Faults for one test: inject Cobo errors, gateway pages and network faults into HTTP traffic.

    Each ``inject``-style method returns the `FaultRule` it declared, for inspection. Rules
    apply to the Cobo base URLs unless given ``base_url=``; they are tried in declaration
    order. A request no rule answers fails the test, and never reaches the network.

    Fault sets nest: while one is active inside another (a test's ``cobo_fault`` inside a
    module's `cobo_faults` block), the inner set's rules are asked first and what they decline
    goes to the outer set.
    """

    def __init__(
        self,
        *,
        base_urls: Iterable[str | BaseUrl] | None = None,
        transports: str | Sequence[str] | None = None,
        on_served: ServedHook | None = None,
        label: str = "a cobo_faults() block",
    ) -> None:
        bases = DEFAULT_BASES if base_urls is None else _base_urls(base_urls, "base_urls")
        self.base_urls: tuple[BaseUrl, ...] = bases
        self.transport_names = parse_transports(transports)
        self.book = RuleBook()
        self.allowed_hosts: set[str] = set()
        self.signer: TestKey | None = None
        self.label = label
        if on_served is None:  # under --cobo-coverage, whatever is answered counts
            coverage = recorder()
            on_served = coverage.record_served if coverage is not None else None
        self.on_served = on_served
        self._window: Window | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Begin answering requests: start the chosen transports and the network guard."""
        if self._window is not None:
            raise RuntimeError("these faults are already active")
        self._window = SWITCHBOARD.open(self, self.label)

    def stop(self) -> None:
        """Stop answering; the rules and calls stay readable. Later requests are strays."""
        window, self._window = self._window, None
        if window is not None:
            SWITCHBOARD.close(window)

    @property
    def active(self) -> bool:
        """Whether this fault set is answering requests now."""
        return self._window is not None

    def reset(self) -> None:
        """Forget every rule, call and unanswered request (the set stays active)."""
        self.book.clear()

    @property
    def calls(self) -> list[Call]:
        """Every request a rule of this set answered, in order."""
        return self.book.calls

    def problems(self) -> list[str]:
        """Every problem with how the faults were used: unanswered requests, unused rules."""
        return self.book.problems()

    def verify(self) -> None:
        """Raise AssertionError listing every problem `problems` finds."""
        found = self.problems()
        if found:
            raise AssertionError(describe_problems(found))

    @property
    def unmatched(self) -> list[CapturedRequest]:
        """The requests no rule answered, so far."""
        return [request for request, _ in self.book.unmatched]

    @contextmanager
    def expect_unmatched(self) -> Iterator[list[CapturedRequest]]:
        """Assert the block sends at least one request no rule answers, and accept it.

        For tests that provoke the failure on purpose, e.g. a client retrying past the end
        of a sequence; those requests then no longer fail the test at teardown.
        """
        before = len(self.book.unmatched)
        caught: list[CapturedRequest] = []
        try:
            yield caught
        finally:
            # Also when the block raises: the client's error about the unmatched request (or a
            # pytest.raises wrapped around this block) is the expected way out of it.
            with self.book.lock:
                new = self.book.unmatched[before:]
                del self.book.unmatched[before:]
            caught.extend(request for request, _ in new)
        if not new:
            raise AssertionError("cobo_fault.expect_unmatched(): every request in the block was answered by a rule")

    @contextmanager
    def example(self) -> Iterator[CoboFaults]:
        """Scope rules and calls to one block, such as one Hypothesis example; verify at its end."""
        self.reset()
        try:
            yield self
        finally:
            found = self.problems()
            self.reset()
        if found:
            raise AssertionError(describe_problems(found))

    # -- declaring --------------------------------------------------------------------------
    def _rule(
        self,
        outcomes: Sequence[Outcome],
        kind: str,
        *,
        method: str | None,
        path: str | re.Pattern[str] | None,
        base_url: str | Iterable[str] | None,
        times: int | None = None,
        optional: bool = False,
        expect_calls: int | None = None,
        repeat: bool = True,
        counts: Sequence[int] | None = None,
    ) -> FaultRule:
        if base_url is None:
            bases = self.base_urls
        elif isinstance(base_url, str):
            bases = (parse_base_url(base_url),)
        else:
            bases = _base_urls(base_url, "base_url")
        rule = FaultRule(
            outcomes,
            counts=counts,
            base_urls=bases,
            method=method,
            path=path,
            repeat=repeat,
            times=times,
            optional=optional,
            expect_calls=expect_calls,
            kind=kind,
        )
        for outcome in outcomes:
            if isinstance(outcome, NetworkFault):
                check_supported(self.transport_names, network_fault=outcome.kind)
            elif isinstance(outcome, Respond) and outcome.drop_after is not None:
                check_supported(self.transport_names, network_fault="dropped")
        return self.book.add(rule)

    def inject(
        self,
        fault: OutcomeLike,
        *,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        base_url: str | Iterable[str] | None = None,
        status: int | None = None,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, Any] | None = None,
        omit: Collection[str] = (),
        times: int | None = None,
        optional: bool = False,
        expect_calls: int | None = None,
    ) -> FaultRule:
        """Answer matching requests with *fault*: an error code, a catalog entry or case, or an outcome.

        ``status``, ``message``, ``headers``, ``fields`` and ``omit`` override the error body
        (``status=200`` sends "200 with success: false"). ``times`` limits how many requests the
        rule answers; ``expect_calls`` demands an exact count at the end of the test; otherwise
        the rule must be used at least once unless ``optional=True``.
        """

        overrides = {"status": status, "message": message, "headers": headers, "fields": fields}
        given = {k: v for k, v in overrides.items() if v is not None}
        outcome = as_outcome(fault)  # the one place that decides what a code, status or case means
        if given or omit:
            if not isinstance(outcome, CoboError) or isinstance(fault, CoboError):
                raise TypeError(
                    f"{', '.join([*given, *(['omit'] if omit else [])])} override an error code's body; "
                    f"for {shown(fault)} build the outcome itself (error(...), gateway(...), respond(...))"
                )
            outcome = error(outcome.entry, status=status, message=message, headers=headers, fields=fields, omit=omit)
        return self._rule(
            [outcome], "inject", method=method, path=path, base_url=base_url,
            times=times, optional=optional, expect_calls=expect_calls,
        )  # fmt: skip

    def status(
        self,
        status: int,
        *,
        body: str | bytes = "html",
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        base_url: str | Iterable[str] | None = None,
        times: int | None = None,
        optional: bool = False,
        expect_calls: int | None = None,
    ) -> FaultRule:
        """Answer with a bare HTTP *status* as a gateway sends it: ``body="html"``, ``"empty"`` or raw text."""
        return self._rule(
            [gateway(status, body=body, headers=headers)], "status", method=method, path=path,
            base_url=base_url, times=times, optional=optional, expect_calls=expect_calls,
        )  # fmt: skip

    def network(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        base_url: str | Iterable[str] | None = None,
        times: int | None = None,
        optional: bool = False,
        expect_calls: int | None = None,
    ) -> FaultRule:
        """Fail matching requests below HTTP: ``"connect_timeout"``, ``"read_timeout"``,
        ``"connect_error"`` or ``"dropped"`` (a body cut off mid-way)."""
        makers: dict[str, Callable[[], Outcome]] = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "connect_error": connect_error,
            "dropped": dropped_connection,
        }
        if not isinstance(kind, str) or kind not in makers:
            raise ValueError(f"unknown network fault {shown(kind)}; valid: {', '.join(NETWORK_FAULT_KINDS)}")
        return self._rule(
            [makers[kind]()], "network", method=method, path=path, base_url=base_url,
            times=times, optional=optional, expect_calls=expect_calls,
        )  # fmt: skip

    def sequence(
        self,
        outcomes: Iterable[OutcomeLike],
        *,
        repeat_last: bool = False,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        base_url: str | Iterable[str] | None = None,
        optional: bool = False,
        expect_calls: int | None = None,
    ) -> FaultRule:
        """Answer successive matching requests with *outcomes*, in order.

        Once every outcome is given, further requests fail with a clear
        `SequenceExhaustedError` (or, with ``repeat_last=True``, get the last outcome again).
        """
        if isinstance(outcomes, (str, bytes)) or not isinstance(outcomes, Iterable):
            raise TypeError(f"outcomes must be a list of codes or outcomes, got {shown(outcomes)}")
        steps = [as_outcome(o) for o in outcomes]
        if not steps:
            raise ValueError("a sequence needs at least one outcome")
        return self._rule(
            steps, "sequence", method=method, path=path, base_url=base_url,
            optional=optional, expect_calls=expect_calls, repeat=repeat_last,
        )  # fmt: skip

    def fail_then_succeed(
        self,
        fault: OutcomeLike,
        *,
        times: int = 1,
        result: Any = None,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        base_url: str | Iterable[str] | None = None,
        optional: bool = False,
        expect_calls: int | None = None,
    ) -> FaultRule:
        """Fail the first *times* matching requests with *fault*, then answer one with success.

        The success body carries *result*. A request after that fails with a clear error, so a
        client that retries more than it needs to is caught.
        """
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive int, got {shown(times)}")
        failure = as_outcome(fault)
        # counted, not repeated in a list: times=10**9 costs what times=1 does
        return self._rule(
            [failure, success(result)], "fail_then_succeed", method=method, path=path, base_url=base_url,
            optional=optional, expect_calls=expect_calls, repeat=False, counts=(times, 1),
        )  # fmt: skip

    def succeed(
        self,
        result: Any = None,
        *,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        base_url: str | Iterable[str] | None = None,
        times: int | None = None,
        optional: bool = False,
        expect_calls: int | None = None,
    ) -> FaultRule:
        """Answer matching requests normally: ``{"success": true, "result": result}``."""
        return self._rule(
            [success(result)], "succeed", method=method, path=path, base_url=base_url,
            times=times, optional=optional, expect_calls=expect_calls,
        )  # fmt: skip

    def allow_host(self, *hosts: str) -> None:
        """Let requests to *hosts* (on any port) that no rule answers through to the real host.

        Bare host names only: ``allow_host("127.0.0.1")``, ``allow_host("localhost")``. A port, a
        URL or userinfo raises ValueError, as does a Cobo host in any spelling: its traffic is
        never let through.
        """
        names: set[str] = set()
        for host in hosts:  # every host checked before any is allowed
            names.add(allowed_host(host))
            if is_cobo_host(host):
                raise ValueError(f"{host} is a real Cobo host: its traffic is never let through")
        self.allowed_hosts |= names

    def served_codes(self) -> list[int]:
        """The Cobo error codes answered so far, in order."""
        return [c.outcome.code for c in self.calls if c.outcome.code is not None]

    def __repr__(self) -> str:
        via = "+".join(self.transport_names)
        return f"<CoboFaults {len(self.book.rules)} rule(s), {len(self.calls)} call(s), via {via}>"

    def sign_responses(self, key: TestKey | None = None) -> TestKey:
        """Sign every Cobo answer from now on as Cobo signs its responses, and return the signing key.

        Configure the client with ``key.public_key_hex`` as Cobo's public key (the SDK's
        ``Env(host, coboPub)``). *key* defaults to the session's test key, the one the
        ``cobo_signing_key`` fixture gives. Gateway pages stay unsigned; `signed` outcomes
        inject forged signatures. Needs ``pip install 'pytest-cobo-errors[signing]'``.
        """
        if key is not None and not isinstance(key, TestKey):
            raise TypeError(f"key must be a TestKey (e.g. the cobo_signing_key fixture), got {type(key).__name__}")
        signer = session_key() if key is None else key
        self.signer = signer
        return signer


@contextmanager
def cobo_faults(
    *,
    base_urls: Iterable[str] | None = None,
    transports: str | Sequence[str] | None = None,
) -> Iterator[CoboFaults]:
    """Intercept HTTP traffic for the duration of a ``with`` block; verify use at its end.

    The same API as the ``cobo_fault`` fixture, for code outside a fixture: a Hypothesis
    example, a plain script. When the block raises, that error wins and use is not verified.
    Under ``--cobo-coverage`` what it answers counts, as the fixture's does.
    """
    faults = CoboFaults(base_urls=base_urls, transports=transports)
    faults.start()
    try:
        yield faults
    finally:
        faults.stop()
    faults.verify()
