"""`CoboFaults`: declare faults, route intercepted requests to them, check how they were used.

This is the object behind the ``cobo_fault`` fixture, and a context manager of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, TypeVar

from pytest_cobo_errors.catalog import UnknownCodeError, shown
from pytest_cobo_errors.coverage import recorder
from pytest_cobo_errors.envelopes import Api
from pytest_cobo_errors.hosts import (
    DEFAULT_BASES,
    BaseUrl,
    CapturedRequest,
    allowed_host,
    is_cobo_host,
    parse_base_url,
)
from pytest_cobo_errors.outcomes import (
    NETWORK_FAULTS,
    ErrorAnswer,
    LostAnswer,
    NetworkFault,
    Outcome,
    OutcomeLike,
    Reply,
    SuccessAnswer,
    as_outcome,
    check_producible,
    computed_success,
    error,
    gateway,
    success,
)
from pytest_cobo_errors.rules import Call, FaultRule, Predicate, RuleBook
from pytest_cobo_errors.signing import SignedOutcome, Spelling, TestKey, check_spelling, session_key
from pytest_cobo_errors.switchboard import SWITCHBOARD, Window
from pytest_cobo_errors.transports import check_supported, parse_transports
from pytest_cobo_errors.transports.contract import NETWORK_FAULT_KINDS

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from pytest_cobo_errors.request_auth import (
        RequestCheck,  # typing's own from Python 3.11; only the type checker reads it
    )

__all__ = ["CoboFaults", "CountedRuleOptions", "RuleOptions", "ServedHook", "describe_problems"]

_Self = TypeVar("_Self", bound="CoboFaults")
ServedHook = Callable[[Outcome, "Reply | NetworkFault"], None]


class RuleOptions(TypedDict, total=False):
    """The keyword arguments every declaring method takes: which requests a rule answers, how its
    use is checked, and how slowly it answers.

    ``method``, ``path`` (a '/v1/custody/*' glob or a compiled regex, below the base URL's path)
    and ``base_url`` (one or several; the fault set's own by default) say which requests match.
    ``optional=True`` lets the rule go unused; ``expect_calls`` demands an exact number of calls.
    ``delay`` (seconds before the answer) and ``trickle`` (seconds between the ten pieces the
    body is sent in) need a real socket: the ``cobo_server`` fixture's.

    The request matchers narrow a rule further, each checked after method, host and path:

    - ``params={"request_id": "r-1"}``: the query string has these names with exactly these
      values (str: the request carries text); other names may be present.
    - ``form={...}``: the same, for a form-encoded body (``application/x-www-form-urlencoded``).
    - ``json=...``: the body parsed as JSON equals this value, except that a dict is matched as
      a subset: the body's object has those keys with equal values, recursively through nested
      objects (``json={"amount": "10"}`` matches ``{"amount": "10", "coin": "ETH"}``). Lists, and
      the objects inside lists, must be equal. ``true`` is not ``1``; ``1`` is ``1.0``. None
      matches any body (to demand a JSON ``null``, use ``match=``).
    - ``request_headers={"X-Trace": "t1"}``: these headers, named case-insensitively, have
      exactly these values. (``headers=`` of `inject` and `status` are the answer's headers.)
    - ``match=predicate``: a function of the `CapturedRequest`, true for the requests the rule
      answers. One that raises declines the request, its exception named as the reason, and
      fails the test at teardown.

    A request a matcher declines says which one and why in the unmatched message: ``params:
    request_id is 'b', expected 'a'``, ``json: $.amount is 5, expected 10``.
    """

    method: str | None
    path: str | re.Pattern[str] | None
    base_url: str | Iterable[str] | None
    params: Mapping[str, str] | None
    form: Mapping[str, str] | None
    json: Any
    request_headers: Mapping[str, str] | None
    match: Predicate | None
    optional: bool
    expect_calls: int | None
    delay: float | None
    trickle: float | None


class CountedRuleOptions(RuleOptions, total=False):
    """`RuleOptions`, and ``times``: how many requests the rule answers in all."""

    times: int | None


_SHARED = frozenset(RuleOptions.__optional_keys__)
_OPTION_NAMES = {
    "inject": _SHARED | {"times"},
    "gateway": _SHARED | {"times"},
    "network": _SHARED | {"times"},
    "succeed": _SHARED | {"times"},
    "sequence": _SHARED,
    "fail_then_succeed": _SHARED,
}


_V2_PATH = re.compile(r"\^?/v2(?:/|$)")


def _api_for(path: object, bases: Sequence[BaseUrl]) -> Api:
    """The API a rule answers: WaaS 2.0 when its path, or every one of its base URLs, is under ``/v2``."""
    text = path.pattern if isinstance(path, re.Pattern) else path
    if isinstance(text, str) and _V2_PATH.match(text):
        return "v2"
    return "v2" if bases and all(_V2_PATH.match(b.path or "/") for b in bases) else "v1"


def _for_api(outcome: Outcome, api: Api) -> Outcome:
    """*outcome* in *api*'s form, where it was left to the rule (no ``api=`` given)."""
    if isinstance(outcome, (ErrorAnswer, SuccessAnswer)):
        return outcome.for_api(api)
    if isinstance(outcome, SignedOutcome) and outcome.inner is not None:
        inner = _for_api(outcome.inner, api)
        if inner is not outcome.inner:
            return replace(outcome, inner=inner, status=inner.status or outcome.status, code=inner.code)
    if isinstance(outcome, LostAnswer) and outcome.inner is not None:  # the answer that was lost is the API's
        inner = _for_api(outcome.inner, api)
        if inner is not outcome.inner:
            return outcome.with_inner(inner)
    return outcome


def _seconds(value: object, name: str) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ValueError(f"{name} must be a non-negative number of seconds, got {shown(value)}")
    return float(value)


def describe_problems(problems: Sequence[str], fixture: str = "cobo_fault") -> str:
    """The failure message for faults not used as declared, one problem a line."""
    return f"{fixture}: " + "\n  ".join(["faults were not used as declared:", *problems])


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

    Outside a fixture (a Hypothesis example, a module-scoped fixture, a script) a set is its own
    context manager: ``with CoboFaults() as faults:`` intercepts for the block and verifies use
    at its end, unless the block raised (that error wins). Under ``--cobo-coverage`` what it
    answers counts, as the fixture's does.

    Fault sets nest: while one is active inside another (a test's ``cobo_fault`` inside a
    module's ``with CoboFaults()`` block), the inner set's rules are asked first and what they
    decline goes to the outer set.
    """

    def __init__(
        self,
        *,
        base_urls: Iterable[str | BaseUrl] | None = None,
        transports: str | Sequence[str] | None = None,
        on_served: ServedHook | None = None,
        label: str = "a CoboFaults() block",
    ) -> None:
        bases = DEFAULT_BASES if base_urls is None else _base_urls(base_urls, "base_urls")
        self.base_urls: tuple[BaseUrl, ...] = bases
        self.transport_names = self._choose_transports(transports)
        self.book = RuleBook()
        self.allowed_hosts: set[str] = set()
        self.signer: TestKey | None = None
        """The key v1 answers are signed with, once `sign_responses` turned signing on."""
        self.signers: dict[str, TestKey] | None = None
        self.authenticator: Callable[[CapturedRequest], RequestCheck] | None = None
        """Checks each request's signature before the rules see it (`authenticate_requests`)."""
        self.signature_spelling: Spelling = "both"
        self.label = label
        if on_served is None:  # under --cobo-coverage, whatever is answered counts
            coverage = recorder()
            on_served = coverage.record_served if coverage is not None else None
        self.on_served = on_served
        self._window: Window | None = None

    fixture_name: ClassVar[str] = "cobo_fault"
    """The fixture that offers this kind of set, as rule descriptions and failures name it."""

    def _choose_transports(self, transports: str | Sequence[str] | None) -> tuple[str, ...]:
        return parse_transports(transports)

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

    def __enter__(self: _Self) -> _Self:
        """``with CoboFaults(...) as faults:`` starts the set; its end stops it, then verifies use
        (unless the block raised: that error wins)."""
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.stop()
        if exc_type is None:
            self.verify()

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
            raise AssertionError(describe_problems(found, self.fixture_name))

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
            raise AssertionError(describe_problems(found, self.fixture_name))

    # -- declaring --------------------------------------------------------------------------
    def _rule(
        self,
        outcomes: Sequence[Outcome],
        kind: str,
        options: Mapping[str, Any],
        *,
        repeat: bool = True,
        counts: Sequence[int] | None = None,
    ) -> FaultRule:
        unknown = sorted(set(options) - _OPTION_NAMES[kind])
        if unknown:
            raise TypeError(
                f"{kind}() got an unexpected keyword argument {unknown[0]!r}; "
                f"it takes: {', '.join(sorted(_OPTION_NAMES[kind]))}"
            )
        base_url = options.get("base_url")
        if base_url is None:
            bases = self.base_urls
        elif isinstance(base_url, str):
            bases = (parse_base_url(base_url),)
        else:
            bases = _base_urls(base_url, "base_url")
        delay, trickle = _seconds(options.get("delay"), "delay"), _seconds(options.get("trickle"), "trickle")
        rule = FaultRule(
            outcomes,
            counts=counts,
            base_urls=bases,
            method=options.get("method"),
            path=options.get("path"),
            repeat=repeat,
            times=options.get("times"),
            optional=options.get("optional", False),
            expect_calls=options.get("expect_calls"),
            kind=kind,
            delay=delay,
            trickle=trickle,
            params=options.get("params"),
            form=options.get("form"),
            json=options.get("json"),
            request_headers=options.get("request_headers"),
            match=options.get("match"),
        )
        rule.declared_on = self.fixture_name
        rule.api = _api_for(rule.path, bases)
        if delay or trickle:
            check_supported(self.transport_names, delay=True)
        for outcome in outcomes:
            check_producible(outcome, self.transport_names)
        return self.book.add(rule)

    def _api_of(self, options: Mapping[str, Any]) -> Api:
        """The API a rule declared with *options* answers (see `_api_for`)."""
        base = options.get("base_url")
        try:
            bases = (
                self.base_urls if base is None else _base_urls([base] if isinstance(base, str) else base, "base_url")
            )
        except (TypeError, ValueError):
            bases = ()  # _rule reports the bad base URL, in its words
        return _api_for(options.get("path"), bases)

    def _outcome(self, value: OutcomeLike, options: Mapping[str, Any]) -> Outcome:
        """*value* as an outcome, answered in the form of the API the rule answers.

        A bare code is looked up in that API's catalog; one WaaS 2.0 documents and the Custody API
        does not (2024) is WaaS 2.0's wherever the rule applies, as no v1 client could be meant.
        Outcomes built without ``api=`` (``error(1000)``, ``success(...)``, ``signed(...)`` of
        them) take the rule's API too.
        """
        api = self._api_of(options)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return as_outcome(value, api)
            except UnknownCodeError:
                if api == "v2":
                    raise
                return as_outcome(value)  # the Custody API's, else WaaS 2.0's
        return _for_api(as_outcome(value), api)

    def inject(
        self,
        fault: OutcomeLike,
        *,
        status: int | None = None,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, Any] | None = None,
        omit: Collection[str] = (),
        **options: Unpack[CountedRuleOptions],
    ) -> FaultRule:
        """Answer matching requests with *fault*: an error code, a catalog entry or case, or an outcome.

        ``status``, ``message``, ``headers``, ``fields`` and ``omit`` override the error body
        (``status=200`` sends "200 with success: false"). The rule options (`RuleOptions`) say
        which requests it answers (``method``, ``path``, ``base_url``), how often (``times``),
        how its use is checked (``optional``, ``expect_calls``) and, on the loopback server, how
        slowly it answers (``delay``, ``trickle``).
        """

        overrides = {"status": status, "message": message, "headers": headers, "fields": fields}
        given = {k: v for k, v in overrides.items() if v is not None}
        outcome = self._outcome(fault, options)  # the one place that decides what a code, status or case means
        if given or omit:
            if not isinstance(outcome, ErrorAnswer) or isinstance(fault, ErrorAnswer):
                raise TypeError(
                    f"{', '.join([*given, *(['omit'] if omit else [])])} override an error code's body; "
                    f"for {shown(fault)} build the outcome itself (error(...), gateway(...), respond(...))"
                )
            outcome = error(outcome.entry, status=status, message=message, headers=headers, fields=fields, omit=omit)
        return self._rule([outcome], "inject", options)

    def gateway(
        self,
        status: int,
        *,
        body: str | bytes = "html",
        headers: Mapping[str, str] | None = None,
        **options: Unpack[CountedRuleOptions],
    ) -> FaultRule:
        """Answer with a bare HTTP *status* as a gateway sends it: ``body="html"``, ``"empty"`` or raw text.

        Takes the rule options of `inject` (`RuleOptions`, with ``times``).
        """
        return self._rule([gateway(status, body=body, headers=headers)], "gateway", options)

    def network(self, kind: str, **options: Unpack[CountedRuleOptions]) -> FaultRule:
        """Fail matching requests below HTTP. Each *kind* is the name of the outcome that builds it,
        so ``network("connection_reset")`` is ``inject(connection_reset())``: ``"connect_timeout"``,
        ``"read_timeout"``, ``"connect_error"``, ``"connection_reset"`` (the peer resets the
        connection), ``"no_response"`` (the peer closes it without answering) or
        ``"truncated_response"`` (a body cut off mid-way).

        Takes the rule options of `inject` (`RuleOptions`, with ``times``). A transport that
        cannot produce *kind* is named when the rule is declared: the loopback server has a real
        socket, so it produces ``connection_reset``, ``no_response`` and ``truncated_response``,
        and a real timeout with ``delay=`` longer than the client's own timeout.
        """
        if not isinstance(kind, str) or kind not in NETWORK_FAULTS:
            raise ValueError(f"unknown network fault {shown(kind)}; valid: {', '.join(NETWORK_FAULT_KINDS)}")
        return self._rule([NETWORK_FAULTS[kind]()], "network", options)

    def sequence(
        self,
        outcomes: Iterable[OutcomeLike],
        *,
        repeat_last: bool = False,
        **options: Unpack[RuleOptions],
    ) -> FaultRule:
        """Answer successive matching requests with *outcomes*, in order.

        Once every outcome is given, further requests fail with a clear
        `SequenceExhaustedError` (or, with ``repeat_last=True``, get the last outcome again).
        Takes the rule options of `inject` but ``times`` (`RuleOptions`).
        """
        if isinstance(outcomes, (str, bytes)) or not isinstance(outcomes, Iterable):
            raise TypeError(f"outcomes must be a list of codes or outcomes, got {shown(outcomes)}")
        steps = [self._outcome(o, options) for o in outcomes]
        if not steps:
            raise ValueError("a sequence needs at least one outcome")
        return self._rule(steps, "sequence", options, repeat=repeat_last)

    def fail_then_succeed(
        self,
        fault: OutcomeLike,
        *,
        times: int = 1,
        result: Any = None,
        **options: Unpack[RuleOptions],
    ) -> FaultRule:
        """Fail the first *times* matching requests with *fault*, then answer one with success.

        The success body carries *result* (or what a function of the request returns). A
        request after that fails with a clear error, so a client that retries more than it needs
        to is caught. Takes the rule options of `inject` (`RuleOptions`).
        """
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive int, got {shown(times)}")
        failure = self._outcome(fault, options)
        # counted, not repeated in a list: times=10**9 costs what times=1 does
        return self._rule(
            [failure, self._success(result, 200, options)],
            "fail_then_succeed",
            options,
            repeat=False,
            counts=(times, 1),
        )

    def succeed(self, result: Any = None, *, status: int = 200, **options: Unpack[CountedRuleOptions]) -> FaultRule:
        """Answer matching requests normally: ``{"success": true, "result": result}``, or on a ``/v2``
        path *result* itself, as WaaS 2.0 answers (``status=201`` for its create operations).

        *result* may be a function of the captured request that returns it, to echo what the
        request sent: ``succeed(lambda request: {"request_id": request.json()["request_id"]})``.

        Takes the rule options of `inject` (`RuleOptions`, with ``times``).
        """
        return self._rule([self._success(result, status, options)], "succeed", options)

    def _success(self, result: Any, status: int, options: RuleOptions) -> Outcome:
        """A success carrying *result*, in the rule's API's form; a function of the request computes it."""
        if callable(result):
            return computed_success(result, status=status)  # put in the rule's form when it answers
        return _for_api(success(result, status=status), self._api_of(options))

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

    def authenticate_requests(self, api_keys: Iterable[str] | None = None, *, reject_replays: bool = False) -> None:
        """From now on, check each request's ``Biz-Api-*`` signature as Cobo does, before any rule.

        A request that fails is answered as Cobo answers it: Custody API 12000 (headers missing),
        12001 (bad signature) or 1006 (a key not among *api_keys*), WaaS 2.0 2024 at HTTP 401;
        the reason, naming the string the server signed, is in the ``X-Cobo-Fault-Auth`` header,
        and the request fails the test at teardown unless inside `expect_unmatched`. *api_keys*
        (public keys in hex) limits the keys accepted; ``reject_replays=True`` refuses a nonce a
        key already used (1005, or 2024). Needs ``pip install 'pytest-cobo-errors[signing]'``.
        """
        from pytest_cobo_errors.request_auth import NonceBook, check_request, require_crypto

        require_crypto()  # say what to install now, not at the first request
        if api_keys is not None and (
            isinstance(api_keys, str)
            or not isinstance(api_keys, Iterable)
            or not all(isinstance(key, str) for key in api_keys)
        ):
            raise TypeError(
                f"api_keys takes a collection of public keys in hex, e.g. [key], got the string {shown(api_keys)}"
                if isinstance(api_keys, str)
                else f"api_keys takes a collection of public keys in hex, e.g. [key], got {shown(api_keys)}"
            )
        keys = None if api_keys is None else frozenset(api_keys)
        nonces = NonceBook() if reject_replays else None
        self.authenticator = lambda request: check_request(request, api_keys=keys, nonces=nonces)

    def served_codes(self) -> list[int]:
        """The Cobo error codes answered so far, in order."""
        return [c.outcome.code for c in self.calls if c.outcome.code is not None]

    def __repr__(self) -> str:
        via = "+".join(self.transport_names)
        return f"<CoboFaults {len(self.book.rules)} rule(s), {len(self.calls)} call(s), via {via}>"

    def sign_responses(self, key: TestKey | None = None, *, spelling: Spelling = "both") -> TestKey:
        """Sign every Cobo answer from now on as Cobo signs its responses; return *key*, or the
        Custody API's (secp256k1) session key (WaaS 2.0's is the ``cobo_waas2_signing_key`` fixture).

        Custody API (v1) answers are signed on secp256k1, WaaS 2.0 answers on Ed25519, each with
        the session's test key for its curve (the ``cobo_signing_key`` and
        ``cobo_waas2_signing_key`` fixtures), or with *key* for the API of its curve. Configure the
        client with ``key.public_key_hex`` as Cobo's public key (the SDK's ``Env(host, coboPub)``,
        ``cobo_waas2``'s ``resp_pubkey``). Gateway pages stay unsigned; `signed` outcomes inject
        forged signatures. ``spelling`` chooses the headers, as for `signed`: both spellings by
        default, as Cobo sends them. Needs ``pip install 'pytest-cobo-errors[signing]'``.
        """
        self.signature_spelling = check_spelling(spelling)
        if key is not None and not isinstance(key, TestKey):
            raise TypeError(f"key must be a TestKey (e.g. the cobo_signing_key fixture), got {type(key).__name__}")
        signers = {"secp256k1": session_key(), "ed25519": session_key("ed25519")}
        if key is not None:
            signers[key.curve] = key
        self.signers = signers
        self.signer = signers["secp256k1"]
        return signers["secp256k1"] if key is None else key
