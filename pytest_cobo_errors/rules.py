"""Fault rules: which requests a rule answers, with what, and what it has seen.

Rules are checked in the order they were declared; the first that matches and still has an
outcome to give answers. Every decision can be explained, so a request nothing answers fails
with the reason each rule declined it.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_cobo_errors.catalog import clipped, count_text, shown
from pytest_cobo_errors.hosts import BaseUrl, CapturedRequest, describe_bases, glob_to_regex, normalise_host
from pytest_cobo_errors.outcomes import NetworkFault, Outcome, Reply

__all__ = [
    "BlockedRequestError",
    "Call",
    "CoboFaultError",
    "FaultRule",
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


class FaultRule:
    """A declared fault: where it applies, the outcomes it gives, and the calls it received.

    ``outcomes`` are its steps in order; ``counts`` how many requests each answers in turn (one
    each unless given), kept as numbers, so failing 10**9 times costs no more than failing once.
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
        if self.path is None:
            return None
        for path in relative:
            if isinstance(self.path, re.Pattern):
                if self.path.fullmatch(path):
                    return None
            elif self._path_regex is not None:
                if self._path_regex.fullmatch(path):
                    return None
            elif path == self.path:
                return None
        return f"path {shown(relative[0], 120)} does not match {shown(self._pattern, 120)}"

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
        count = len(self.calls)
        if self.expect_calls is not None and count != self.expect_calls:
            expected = count_text(self.expect_calls)
            return [f"{self} was called {count} time(s), expected exactly {expected}{self._calls_listing()}"]
        if self.expect_calls is None and not self.optional and count == 0:
            return [f"{self} was never called (pass optional=True if that is fine)"]
        return []

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
        return f"{self.declared_on}.{self.kind}: {answers}, for {where}"

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
