"""Fault rules: which requests a rule answers, with what, and what it has seen.

Rules are checked in the order they were declared; the first that matches and still has an
outcome to give answers. Every decision can be explained, so a request nothing answers fails
with the reason each rule declined it.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
import math
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_cobo_errors.catalog import clipped, count_text, shown
from pytest_cobo_errors.hosts import BaseUrl, CapturedRequest, describe_bases, glob_to_regex, normalise_host
from pytest_cobo_errors.outcomes import NetworkFault, Outcome, Reply
from pytest_cobo_errors.transports.contract import mask

if TYPE_CHECKING:
    from pytest_cobo_errors.envelopes import Api

__all__ = [
    "BlockedRequestError",
    "Call",
    "CoboFaultError",
    "FaultRule",
    "Predicate",
    "RuleBook",
    "SequenceExhaustedError",
    "StrayRequestError",
    "UnmatchedRequestError",
    "Verdict",
]

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# How much of a rule its description shows, whatever was declared: messages list every rule.
_SHOWN_RUNS = 5
_SCANNED_STEPS = 1000
_SHOWN_BASES = 5
_SHOWN_CALLS = 20
_FORM = "application/x-www-form-urlencoded"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Predicate = Callable[[CapturedRequest], bool]
"""A ``match=`` predicate: True when a rule should answer the captured request."""


class CoboFaultError(AssertionError):
    """A request the declared faults cannot answer. It fails the test, wherever it is raised."""


class UnmatchedRequestError(CoboFaultError):
    """No rule answers the request, and its host is not allowed through."""


class SequenceExhaustedError(CoboFaultError):
    """The rules that match have given every outcome they declared."""


class BlockedRequestError(UnmatchedRequestError):
    """The network guard stopped a connection to a Cobo host that no in-process transport saw."""


class StrayRequestError(ConnectionRefusedError):
    """A request to a Cobo host outside every test's fault window, refused as a closed port would be.

    A connection error rather than an assertion, so a client fixture's teardown (a logout) that
    tolerates network errors carries on; the request is listed in the terminal summary.
    """


@dataclass(frozen=True, slots=True)
class Call:
    """One request a rule answered, and what it answered with."""

    request: CapturedRequest
    outcome: Outcome
    reply: Reply | NetworkFault

    def __repr__(self) -> str:
        # the request's repr masks its credentials; a reply's body may be megabytes
        if isinstance(self.reply, Reply):
            reply = f"Reply({self.reply.status}, {len(self.reply.headers)} header(s), {shown(self.reply.body)})"
        else:
            reply = repr(self.reply)
        return f"Call({self.request!r}, {self.outcome!r}, {reply})"


# -- request matchers: declared with params=, form=, json=, request_headers= and match= ----------
def _texts(value: object, name: str) -> tuple[tuple[str, str], ...] | None:
    """*value* checked as a matcher's names and text values (``params``, ``form``, ``request_headers``)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name} takes a dict of names to str values, e.g. {name}={{'request_id': 'r-1'}}, got {shown(value)}"
        )
    items: list[tuple[str, str]] = []
    for key, text in value.items():
        if not isinstance(key, str):
            raise TypeError(f"{name} names must be str, got {shown(key)}")
        if not isinstance(text, str):
            hint = f": give {str(text)!r}" if isinstance(text, int) and not isinstance(text, bool) else ""
            raise TypeError(f"{name}[{shown(key)}] must be a str, as the request carries text, got {shown(text)}{hint}")
        items.append((key, text))
    return tuple(items)


def _json_value(value: object, path: str = "$", depth: int = 0) -> Any:
    """*value* checked as JSON (a ``json=`` matcher), copied into dicts and lists."""
    if depth > 100:
        raise ValueError(f"json is nested more than 100 levels deep (or holds itself) at {clipped(path)}")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"json must be finite numbers: {clipped(path)} is {shown(value)}")
        return value
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"json object keys must be str: {clipped(path)} has the key {shown(key)}")
            copied[key] = _json_value(item, _json_path(path, key), depth + 1)
        return copied
    if isinstance(value, (list, tuple)):
        return [_json_value(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise TypeError(
        f"json must be a JSON value (dict, list, str, int, float, bool or None): {clipped(path)} is {shown(value)}"
    )


def _json_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.fullmatch(key) else f"{path}[{key!r}]"


def _json_equal(expected: Any, actual: Any) -> bool:
    """Equal as JSON values: ``1`` is ``1.0``, but ``true`` is not ``1``."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and expected == actual
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_json_equal(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(_json_equal(v, actual[k]) for k, v in expected.items())
        )
    return type(expected) is type(actual) and expected == actual


def _json_difference(expected: Any, actual: Any, path: str, *, subset: bool) -> str | None:
    """Where *actual* differs from *expected*, or None. Objects are matched as subsets while
    *subset* holds (from the top, through nested objects); lists, and objects inside them, exactly."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, want in expected.items():
            where = _json_path(path, key)
            if key not in actual:
                return f"{clipped(where)} is missing, expected {shown(want)}"
            why = _json_difference(want, actual[key], where, subset=subset)
            if why is not None:
                return why
        extra = [key for key in actual if key not in expected]
        if extra and not subset:
            return f"{clipped(path)} has the key {shown(extra[0])}, not expected"
        return None
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            why = _json_difference(want, got, f"{path}[{index}]", subset=False)
            if why is not None:
                return why
        return None
    if _json_equal(expected, actual):
        return None
    return f"{clipped(path)} is {shown(actual)}, expected {shown(expected)}"


def _texts_differ(expected: tuple[tuple[str, str], ...], actual: Mapping[str, str], name: str) -> str | None:
    for key, want in expected:
        got = actual.get(key)
        if got is None:
            return f"{name}: {clipped(key)} is missing, expected {shown(want)}"
        if got != want:
            return f"{name}: {clipped(key)} is {shown(got)}, expected {shown(want)}"
    return None


def _predicate_name(predicate: Callable[..., object]) -> str:
    """A predicate as a message names it: its qualified name, and where a lambda was written."""
    name = getattr(predicate, "__qualname__", None) or type(predicate).__name__
    code = getattr(predicate, "__code__", None)
    if name.endswith("<lambda>") and code is not None:
        return clipped(f"<lambda> at {os.path.basename(code.co_filename)}:{code.co_firstlineno}")
    return clipped(str(name), 120)


def _check_predicate(match: object) -> Predicate | None:
    if match is None:
        return None
    if not callable(match):
        raise TypeError(
            f"match takes a function of the captured request returning True or False, "
            f"e.g. match=lambda request: request.params.get('coin') == 'ETH', got {shown(match)}"
        )
    if inspect.iscoroutinefunction(match):
        raise TypeError(f"match must be a plain function: {_predicate_name(match)} is async, and would not be awaited")
    return match  # called with one request; what it returns is tested for truth


class FaultRule:
    """A declared fault: where it applies, the outcomes it gives, and the calls it received.

    ``outcomes`` are its steps in order; ``counts`` how many requests each answers in turn (one
    each unless given), kept as numbers, so failing 10**9 times costs no more than failing once.

    The matchers, checked after method, host and path, narrow which requests it answers:
    ``params`` (the query string) and ``form`` (a form-encoded body) hold these names with
    exactly these values, others may be present; ``json`` is the body parsed as JSON, equal to
    the value given, where an object (a dict) is matched as a subset, recursively through nested
    objects (lists, and the objects inside lists, must be equal); ``request_headers`` names
    headers (case-insensitively) that must have exactly these values; ``match`` is a predicate on
    the `CapturedRequest`. A predicate that raises declines the request, the exception named as
    the reason, and fails the test at teardown (`problems`): it is kept in `match_errors`.
    """

    def __init__(
        self,
        outcomes: Sequence[Outcome],
        *,
        counts: Sequence[int] | None = None,
        base_urls: Sequence[BaseUrl],
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        repeat: bool = False,
        times: int | None = None,
        optional: bool = False,
        expect_calls: int | None = None,
        kind: str = "inject",
        delay: float = 0.0,
        trickle: float = 0.0,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json: Any = None,
        request_headers: Mapping[str, str] | None = None,
        match: Predicate | None = None,
    ) -> None:
        if not outcomes:
            raise ValueError("a fault needs at least one outcome")
        counts = (1,) * len(outcomes) if counts is None else tuple(counts)
        if len(counts) != len(outcomes) or not all(
            isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in counts
        ):
            raise ValueError(f"counts must give a positive int for each of the {len(outcomes)} outcome(s)")
        if method is not None:
            if not isinstance(method, str) or method.upper() not in _METHODS:
                raise ValueError(f"method must be one of {', '.join(sorted(_METHODS))}, got {shown(method)}")
            method = method.upper()
        if path is not None and not isinstance(path, (str, re.Pattern)):
            raise TypeError(f"path must be a str ('/v1/custody/*' globs) or a compiled regex, got {shown(path)}")
        if isinstance(path, str) and not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {shown(path)}")
        for name, value in (("times", times), ("expect_calls", expect_calls)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative int, got {shown(value)}")
        self.params = _texts(params, "params")
        self.form = _texts(form, "form")
        self.json: Any = _json_value(json)
        self.request_headers = _texts(request_headers, "request_headers")
        if self.request_headers is not None:
            seen: dict[str, str] = {}
            for name, _ in self.request_headers:
                if name.lower() in seen:
                    raise ValueError(
                        f"request_headers names {seen[name.lower()]!r} and {name!r}: one header, named twice"
                    )
                seen[name.lower()] = name
        self.match = _check_predicate(match)
        self.match_errors: list[tuple[CapturedRequest, Exception]] = []
        """What the ``match`` predicate raised, and on which request: each fails the test at teardown."""
        self.failed_answers: list[CapturedRequest] = []
        """Requests this rule took whose computed answer raised (each is also an unanswered request)."""
        self.outcomes = tuple(outcomes)
        self.counts = counts
        self._ends = tuple(itertools.accumulate(counts))  # the call index at which each step ends
        self.base_urls = tuple(base_urls)
        # every request asks every rule: one lookup by origin instead of a comparison per base
        self._by_origin: dict[tuple[str, str, int], list[BaseUrl]] = {}
        for base in self.base_urls:
            self._by_origin.setdefault((base.scheme, base.host, base.port), []).append(base)
        self.method = method
        self.path = path
        self._path_regex = glob_to_regex(path) if isinstance(path, str) and "*" in path else None
        self.repeat = repeat
        self.times = times
        self.optional = optional
        self.expect_calls = expect_calls
        self.kind = kind
        self.delay = delay
        self.trickle = trickle
        self.declared_on = "cobo_fault"
        self.api: Api = "v1"
        """The API the rule answers (``"v2"`` under a ``/v2`` path), as decided when it was declared."""
        """What the rule was declared on, as its description names it (``cobo_server`` for the server's)."""
        self.calls: list[Call] = []

    # -- what it answers --------------------------------------------------------------------
    @property
    def capacity(self) -> int | None:
        """How many requests this rule can answer in all, or None for unlimited."""
        if self.times is not None:
            return self.times
        return None if self.repeat else self._ends[-1]

    @property
    def exhausted(self) -> bool:
        return self.capacity is not None and len(self.calls) >= self.capacity

    def mismatch(self, request: CapturedRequest) -> str | None:
        """Why this rule does not apply to *request*, or None if it does."""
        if self.method is not None and request.method != self.method:
            return f"method {request.method} is not {self.method}"
        bases = self._by_origin.get((request.scheme, normalise_host(request.host), request.port), ())
        relative = [p for p in (base.path_below(request.path) for base in bases) if p is not None]
        if not relative:
            return f"{request.scheme}://{request.host}:{request.port} is not under {self._bases()}"
        if self.path is not None and not any(self._path_matches(path) for path in relative):
            return f"path {shown(relative[0], 120)} does not match {shown(self._pattern, 120)}"
        return self._matchers_decline(request)

    def _path_matches(self, path: str) -> bool:
        if isinstance(self.path, re.Pattern):
            return self.path.fullmatch(path) is not None
        if self._path_regex is not None:
            return self._path_regex.fullmatch(path) is not None
        return path == self.path

    def _matchers_decline(self, request: CapturedRequest) -> str | None:
        """Why a matcher declines *request* (``params: request_id is 'b', expected 'a'``), or None."""
        if self.params is not None:
            why = _texts_differ(self.params, request.params, "params")
            if why is not None:
                return why
        if self.form:
            content_type = request.headers.get("content-type")
            form = request.form
            if not form and (content_type or "").split(";", 1)[0].strip().lower() != _FORM:
                return f"form: the body is not form-encoded (Content-Type {shown(content_type)})"
            why = _texts_differ(self.form, form, "form")
            if why is not None:
                return why
        if self.json is not None:
            try:
                body = request.json()
            except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                return f"json: the body is not JSON ({shown(request.content)})"
            why = _json_difference(self.json, body, "$", subset=True)
            if why is not None:
                return f"json: {why}"
        if self.request_headers is not None:
            for name, want in self.request_headers:
                got = request.headers.get(name)
                if got is None:
                    return f"request_headers: {clipped(name)} is missing, expected {shown(mask(name, want))}"
                if got != want:
                    return (
                        f"request_headers: {clipped(name)} is {shown(mask(name, got))}, "
                        f"expected {shown(mask(name, want))}"
                    )
        if self.match is not None:
            name = _predicate_name(self.match)
            try:
                result = self.match(request)
            except Exception as error:  # the user's bug: named here, and failing the test at teardown
                self.match_errors.append((request, error))
                return f"match: {name} raised {shown(error, 120)}"
            if not result:
                return f"match: {name} returned {shown(result)}"
        return None

    @property
    def _pattern(self) -> str | None:
        return self.path.pattern if isinstance(self.path, re.Pattern) else self.path

    def take(self) -> Outcome:
        """The outcome for the next call (the caller holds the book's lock); past the last step, the last."""
        step = bisect.bisect_right(self._ends, len(self.calls))
        return self.outcomes[min(step, len(self.outcomes) - 1)]

    # -- inspection -------------------------------------------------------------------------
    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def assert_called(self) -> None:
        """Assert this fault answered at least one request."""
        if not self.calls:
            raise AssertionError(f"{self} was never called")

    def assert_called_once(self) -> None:
        """Assert this fault answered exactly one request."""
        self.assert_called_times(1)

    def assert_called_times(self, n: int) -> None:
        """Assert this fault answered exactly *n* requests."""
        if len(self.calls) != n:
            raise AssertionError(
                f"{self} was called {len(self.calls)} time(s), expected {shown(n)}{self._calls_listing()}"
            )

    def assert_not_called(self) -> None:
        """Assert this fault answered no request."""
        self.assert_called_times(0)

    def problems(self) -> list[str]:
        """What is wrong with this rule's use, checked when the test ends."""
        count = len(self.calls) + len(self.failed_answers)  # a function that raised was still called
        problems = [
            f"{self}: its match predicate raised {shown(error, 120)} on {clipped(request.describe(), 200)}"
            " (a predicate returns True or False; the request was declined)"
            for request, error in self.match_errors[:_SHOWN_CALLS]
        ]
        if len(self.match_errors) > _SHOWN_CALLS:
            problems.append(
                f"{self}: its match predicate raised on {len(self.match_errors) - _SHOWN_CALLS} more request(s)"
            )
        if self.expect_calls is not None and count != self.expect_calls:
            expected = count_text(self.expect_calls)
            problems.append(f"{self} was called {count} time(s), expected exactly {expected}{self._calls_listing()}")
        elif self.expect_calls is None and not self.optional and count == 0:
            problems.append(f"{self} was never called (pass optional=True if that is fine)")
        return problems

    def _calls_listing(self) -> str:
        listing = "".join(
            f"\n      call {i}: {clipped(c.request.describe(), 200)} -> {c.outcome.label}"
            for i, c in enumerate(self.calls[:_SHOWN_CALLS], 1)
        )
        more = len(self.calls) - _SHOWN_CALLS
        return listing + (f"\n      … and {more} more call(s)" if more > 0 else "")

    def _answers(self) -> str:
        """The steps as runs of one label (``error 1010 (…) as HTTP 429 ×3, then success``), elided past a few."""
        runs: list[tuple[str, int]] = []
        for outcome, count in itertools.islice(zip(self.outcomes, self.counts, strict=True), _SCANNED_STEPS):
            label = clipped(outcome.label, 120)
            if runs and runs[-1][0] == label:
                runs[-1] = (label, runs[-1][1] + count)
            elif len(runs) == _SHOWN_RUNS:
                break
            else:
                runs.append((label, count))
        text = ", then ".join(label if n == 1 else f"{label} ×{count_text(n)}" for label, n in runs)
        rest = self._ends[-1] - sum(n for _, n in runs)
        return f"{text}, then … (+{count_text(rest)} more)" if rest else text

    def _bases(self) -> str:
        if len(self.base_urls) <= _SHOWN_BASES:
            return describe_bases(self.base_urls)
        return f"{describe_bases(self.base_urls[:_SHOWN_BASES])}, … (+{len(self.base_urls) - _SHOWN_BASES} more)"

    def __str__(self) -> str:
        where = " ".join((self.method or "any method", clipped(self._pattern or "any path"), "on " + self._bases()))
        answers = self._answers()
        if self.repeat and self.times is None:
            answers += " (every time)" if self._ends[-1] == 1 else " (last repeats)"
        elif self.times is not None:
            answers += f" ({count_text(self.times)} time(s))"
        return f"{self.declared_on}.{self.kind}: {answers}, for {where}{self._matchers_text()}"

    def _matchers_text(self) -> str:
        """The matchers in brief: ``, with params={'request_id': 'r-1'}, match=is_large``."""
        shown_ = [
            f"{name}={shown(dict(items))}"
            for name, items in (("params", self.params), ("form", self.form))
            if items is not None
        ]
        if self.json is not None:
            shown_.append(f"json={shown(self.json)}")
        if self.request_headers is not None:
            shown_.append(f"request_headers={shown({name: mask(name, v) for name, v in self.request_headers})}")
        if self.match is not None:
            shown_.append(f"match={_predicate_name(self.match)}")
        return f", with {', '.join(shown_)}" if shown_ else ""

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one fault set's rules decided about a request: the rule and outcome that answer it,
    or why each rule declined."""

    rule: FaultRule | None = None
    outcome: Outcome | None = None
    reasons: tuple[str, ...] = ()
    exhausted: bool = False
    """A rule matched but had already given every outcome it declared."""


class RuleBook:
    """The ordered rules of one fault set, what they answered, and what nothing answered.

    The one record of a fault set's traffic: `FaultRule.calls`, `calls` and `unmatched` are
    written here and nowhere else, always under `lock`.
    """

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.calls: list[Call] = []
        self.unmatched: list[tuple[CapturedRequest, str]] = []
        self.lock = threading.RLock()

    def add(self, rule: FaultRule) -> FaultRule:
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.calls.clear()
            self.unmatched.clear()

    def decide(self, request: CapturedRequest) -> Verdict:
        """The rule and outcome answering *request*, or why each rule declined (caller holds the lock)."""
        reasons: list[str] = []
        exhausted = False
        for index, rule in enumerate(self.rules, 1):
            why = rule.mismatch(request)
            if why is None and rule.exhausted:
                exhausted = True
                why = f"matches, but already gave all {count_text(rule.capacity or 0)} declared outcome(s)"
            if why is None:
                return Verdict(rule, rule.take())
            reasons.append(f"  {index}. {rule}\n     -> {why}")
        return Verdict(reasons=tuple(reasons), exhausted=exhausted)

    def record(self, rule: FaultRule, call: Call) -> None:
        """*rule* answered *call* (caller holds the lock)."""
        rule.calls.append(call)
        self.calls.append(call)

    def refuse(self, request: CapturedRequest, why: str) -> None:
        """Nothing answered *request*: it fails the test at teardown unless expected."""
        with self.lock:
            self.unmatched.append((request, why))

    def problems(self) -> list[str]:
        with self.lock:
            problems = [f"request answered by no rule: {request.describe()}: {why}" for request, why in self.unmatched]
            for rule in self.rules:
                problems.extend(rule.problems())
        return problems
