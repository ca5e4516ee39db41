"""The switchboard: the one owner of request state, between every transport and every fault set.

Each active fault set is a *window*. A request, whichever transport or the network guard saw
it, is first attributed to the window it belongs to: the one open in the context that sent it
(asyncio tasks and ``asyncio.to_thread`` carry it), else the one open where its thread was
started (``threading.Thread.start`` is wrapped to note it), else the innermost open window (a
thread pool's workers, threads started before any window). A request that belongs to a closed
window, or to none, is a *stray*: refused, recorded for the terminal summary, never answered by
another test's rules.

Within its window a request is offered to the innermost fault set first; what that set's rules
decline goes to the next one out. The set whose rule answers records the call; when nothing
answers, the innermost set records the refusal and the client gets one message that explains
every set's reasons. Transports are started once for all nested windows that chose them.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sys
import threading
import traceback
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pytest_cobo_errors import guard, hosts
from pytest_cobo_errors.catalog import shown
from pytest_cobo_errors.outcomes import ComputedAnswer, LostAnswer, Outcome, check_producible, is_computed
from pytest_cobo_errors.rules import (
    BlockedRequestError,
    Call,
    CoboFaultError,
    SequenceExhaustedError,
    StrayRequestError,
    UnmatchedRequestError,
    Verdict,
)
from pytest_cobo_errors.signing import render_signed
from pytest_cobo_errors.transports import TRANSPORTS, UnsupportedFaultError, in_process, load
from pytest_cobo_errors.transports.contract import DEFER, PASS_THROUGH, CapturedRequest, Decision, NetworkFault, Reply

if TYPE_CHECKING:
    from pytest_cobo_errors.faults import CoboFaults
    from pytest_cobo_errors.hosts import BaseUrl
    from pytest_cobo_errors.rules import FaultRule
    from pytest_cobo_errors.transports.contract import Transport

__all__ = ["SWITCHBOARD", "Switchboard", "Window"]

_OWNER: contextvars.ContextVar[Window | None] = contextvars.ContextVar("cobo_fault_window", default=None)
_UNANSWERED = "1000 at HTTP 500 (header X-Cobo-Fault-Unanswered)"
_IN_PROCESS_HINT = "https://github.com/pytest-cobo-errors/pytest-cobo-errors#nothing-reaches-cobo"


@dataclass(eq=False)
class Window:
    """One fault set while it is active: where it came from and what it may answer."""

    faults: CoboFaults
    label: str
    parent: Window | None
    open: bool = True
    token: contextvars.Token[Window | None] | None = field(default=None, repr=False)

    def chain(self) -> Iterator[Window]:
        """This window and the open ones it is nested in, innermost first."""
        window: Window | None = self
        while window is not None:
            if window.open:
                yield window
            window = window.parent


@dataclass(frozen=True, slots=True)
class _Stray:
    why: str


def _pool_worker(thread: threading.Thread) -> bool:
    # A ThreadPoolExecutor's workers (asyncio's default executor among them) serve whichever
    # test submits work, so they belong to no window of their own.
    target = getattr(thread, "_target", None)
    return getattr(target, "__module__", None) == "concurrent.futures.thread"


def _serves_every_test() -> bool:
    """Whether this is a test runner's long-lived task (anyio's pytest plugin runs every async
    test of a session-scoped backend in one task, whose context is a copy from its first test)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return False
    coro = task.get_coro() if task is not None else None
    return str(getattr(coro, "__qualname__", "")).endswith("TestRunner._run_tests_and_fixtures")


_STARTS_NOTED = "__cobo_errors_notes_starts__"


def _note_thread_starts() -> None:
    """Wrap ``threading.Thread.start`` once per process, so each thread knows the window it began in."""
    if getattr(threading.Thread, _STARTS_NOTED, False):
        return
    real_start = threading.Thread.start

    def start(self: threading.Thread) -> None:
        # looked up on each start: pytester may have re-imported this module since
        board = getattr(sys.modules.get(__name__), "SWITCHBOARD", None)
        if board is not None and not _pool_worker(self):
            board.born(self)
        real_start(self)

    start.__doc__ = real_start.__doc__
    threading.Thread.start = start  # type: ignore[method-assign]
    setattr(threading.Thread, _STARTS_NOTED, True)


def _suggested_rule(request: CapturedRequest, windows: list[Window]) -> str:
    """A rule that answers *request* when declared on the innermost fault set that sees its transport."""
    chosen = [w.faults for w in windows if request.transport in w.faults.transport_names]
    bases = chosen[0].base_urls if chosen else hosts.DEFAULT_BASES
    name = TRANSPORTS[request.transport].fixture
    for base in bases:
        relative = base.relative_path(request)
        if relative is not None:  # a rule's path is matched below its base URL's path
            return f"{name}.succeed(path={relative!r})"
    # another scheme, port or host than the set's base URLs (http://, :8443): the rule must name it
    origin = str(hosts.BaseUrl.origin_of(request))
    return f"{name}.succeed(path={request.path!r}, base_url={origin!r})"


@dataclass(frozen=True, slots=True)
class _Pending:
    """A rule took the request, and its answer is the user's function to call: called once the
    switchboard's and the rule book's locks are released, so that it may wait for another thread's
    request to be answered."""

    window: Window
    rule: FaultRule
    outcome: Outcome


def _check_producible(outcome: Outcome, transport: str, computed: ComputedAnswer) -> None:
    """Refuse what *computed* returned if *transport* cannot produce it (declared outcomes were
    checked when their rule was declared; a computed one can only be checked now)."""
    try:
        check_producible(outcome, (transport,))
    except UnsupportedFaultError as unsupported:
        raise UnsupportedFaultError(f"{computed.label} returned {outcome.label}, but {unsupported}") from None


def _resolved(outcome: Outcome, request: CapturedRequest, rule: FaultRule) -> Outcome:
    """*outcome* as it answers *request*: a `ComputedAnswer` called (also inside a `LostAnswer`),
    what it returned put in the form of the rule's API, as a declared answer was at declaration.
    What a user's function raises propagates."""
    __tracebackhide__ = True  # failures show the user's frames, not the plugin's
    from pytest_cobo_errors.faults import _for_api  # the rule's own conversion, as at declaration

    api = rule.api
    if isinstance(outcome, ComputedAnswer):
        computed = outcome
        outcome = _for_api(computed.resolve(request, api), api)
        _check_producible(outcome, request.transport, computed)
    elif isinstance(outcome, LostAnswer) and isinstance(outcome.inner, ComputedAnswer):
        outcome = outcome.with_inner(_for_api(outcome.inner.resolve(request, api), api))
    return outcome


def _answer_failed(outcome: Outcome, request: CapturedRequest, raised: BaseException) -> str:
    """Why *request* got no answer: the user's function behind *outcome* raised *raised*."""
    computed = outcome.inner if isinstance(outcome, LostAnswer) else outcome
    label = computed.label if computed is not None else outcome.label
    frames = traceback.extract_tb(raised.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    got = (
        "the client's call raised it"
        if in_process(request.transport)
        else f"the client got the unanswered {_UNANSWERED} naming it"
    )
    return f"the {label} raised {shown(raised, 200)}{where}; {got}"


class Switchboard:
    """Attributes, decides, records and explains every request to a Cobo fault set."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.windows: list[Window] = []
        self.strays: list[str] = []
        self.session_bases: tuple[BaseUrl, ...] = ()
        self._transports: dict[str, tuple[Transport, int]] = {}
        # a thread -> the window it was started in: its label, and a weak reference (a thread that
        # never ends must not keep that window's rules and calls alive)
        self._births: weakref.WeakKeyDictionary[threading.Thread, tuple[str, weakref.ref[Window]]] = (
            weakref.WeakKeyDictionary()
        )
        self._guarded = hosts.COBO_HOSTS
        self._live: frozenset[str] = frozenset()
        self._served: tuple[BaseUrl, ...] = ()  # the base URLs of active loopback servers

    # -- windows ----------------------------------------------------------------------------
    def open(self, faults: CoboFaults, label: str) -> Window:
        """Activate *faults*: start its transports, arm the guard, attribute this context to it."""
        guard.arm(self)
        _note_thread_starts()
        with self.lock:
            parent = self._owner(innermost=False)
            window = Window(faults, label, parent if isinstance(parent, Window) else None)
            started: list[str] = []
            try:
                for name in faults.transport_names:
                    self._acquire(name)
                    started.append(name)
            except BaseException:
                for name in started:
                    self._release(name)
                raise
            self.windows.append(window)
            self._refresh()
        window.token = _OWNER.set(window)
        return window

    def close(self, window: Window) -> None:
        """Deactivate *window*: threads it started that still run become strays from now on."""
        with self.lock:
            if not window.open:
                return
            window.open = False
            self.windows.remove(window)
            for name in window.faults.transport_names:
                self._release(name)
            self._refresh()
        token, window.token = window.token, None
        if token is not None:
            try:
                _OWNER.reset(token)
            except ValueError:  # closed from another context than it was opened in
                return
        restored = _OWNER.get()
        if restored is not None and not restored.open:  # nested windows closed out of order
            _OWNER.set(next(restored.chain(), None))

    def _acquire(self, name: str) -> None:
        transport, users = self._transports.get(name, (None, 0))
        if transport is None:
            transport = load(name)
            transport.start(self)
        self._transports[name] = (transport, users + 1)

    def _release(self, name: str) -> None:
        transport, users = self._transports[name]
        if users > 1:
            self._transports[name] = (transport, users - 1)
            return
        del self._transports[name]
        transport.stop()

    def _refresh(self) -> None:
        if not self.windows and not self.session_bases:  # every test's close comes here: nothing to add up
            self._guarded, self._served = hosts.COBO_HOSTS, ()
            return
        bases = [*self.session_bases, *(b for w in self.windows for b in w.faults.base_urls)]
        self._guarded = hosts.guarded_hosts(bases)
        self._served = tuple(
            base
            for window in self.windows
            if not all(in_process(name) for name in window.faults.transport_names)
            for base in window.faults.base_urls
        )

    def allow_live(self, test: str | None) -> None:
        """While *test* (a ``cobo_live`` test) runs, let Cobo's development host through; None ends it."""
        with self.lock:
            self._live = frozenset({hosts.DEV_HOST}) if test is not None else frozenset()

    def configure(self, base_urls: tuple[BaseUrl, ...] | None) -> None:
        """Guard the hosts of the session's ``--cobo-base-url`` too."""
        with self.lock:
            self.session_bases = tuple({*self.session_bases, *(base_urls or ())})
            self._refresh()

    # -- attribution ------------------------------------------------------------------------
    def born(self, thread: threading.Thread) -> None:
        """Note the window *thread* is started in (called by the wrapped ``Thread.start``)."""
        with self.lock:
            owner = self._owner(innermost=False)
            if isinstance(owner, Window):
                self._births[thread] = (owner.label, weakref.ref(owner))

    def owner_or_none(self) -> Window | None:
        found = self._owner()
        return found if isinstance(found, Window) else None

    def _owner(self, *, innermost: bool = True) -> Window | _Stray | None:
        """The window the running code belongs to; with *innermost*, unattributed code (pool
        workers, threads older than every window) belongs to the innermost open window."""
        window = _OWNER.get()
        if window is not None:
            if window.open:
                return window
            if not _serves_every_test():
                return _Stray(f"sent by code started in {window.label}, after it ended")
        birth = self._births.get(threading.current_thread())
        if birth is not None:
            label, ref = birth
            started_in = ref()
            if started_in is not None and started_in.open:
                return started_in
            return _Stray(f"sent by a thread started in {label}, after it ended")
        if innermost and self.windows:
            return self.windows[-1]
        return None

    def _stray(self, request: CapturedRequest, why: str) -> str:
        line = f"{request.describe()} (via {request.transport}): {why}"
        self.strays.append(line)
        return (
            f"cobo-errors: refused {request.describe()} (via {request.transport}): it arrived outside every "
            f"test's fault window ({why}). Requests to Cobo hosts never leave the process; make the code "
            "that sends it finish inside the test (join the thread, await the task, or have the client "
            "fixture request cobo_fault so its teardown runs first)."
        )

    # -- the transports' handler ------------------------------------------------------------
    def is_guarded(self, host: str) -> bool:
        return hosts.normalise_host(host) in self._guarded

    def _protected(self, request: CapturedRequest, windows: list[Window]) -> bool:
        if self.is_guarded(request.host):
            return True
        return any(base.same_origin(request) for w in windows for base in w.faults.base_urls)

    @staticmethod
    def _allowed(request: CapturedRequest, windows: list[Window]) -> bool:
        """Whether a test let *request*'s host through (in any spelling: ``0x7f000001`` is 127.0.0.1)."""
        host = hosts.normalise_host(request.host)
        return any(host in w.faults.allowed_hosts for w in windows)

    def _serving(self, request: CapturedRequest) -> Window | _Stray:
        """The fault set a loopback server's request belongs to: the innermost active one that
        chose the server (the request has no context of its own: it may come from another process)."""
        serving = [w for w in reversed(self.windows) if request.transport in w.faults.transport_names]
        # the set whose base URL is the server it arrived at, if several servers run
        at = next((w for w in serving if any(b.same_origin(request) for b in w.faults.base_urls)), None)
        if at is not None or serving:
            return at or serving[0]
        return _Stray(f"no fault set that serves {request.transport} was active")

    def _to_loopback(self, request: CapturedRequest) -> bool:
        """Whether an in-process request is addressed to a server of ours on loopback (it goes there)."""
        return bool(self._served) and any(base.same_origin(request) for base in self._served)

    def __call__(self, request: CapturedRequest, *, others_may_answer: bool = False) -> Decision:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        decision = self._decide(request, others_may_answer)
        return self._computed_answer(request, decision) if isinstance(decision, _Pending) else decision

    def _decide(self, request: CapturedRequest, others_may_answer: bool) -> Decision | _Pending:
        __tracebackhide__ = True
        with self.lock:
            if not in_process(request.transport):
                owner: Window | _Stray | None = self._serving(request)
                if isinstance(owner, _Stray):
                    raise StrayRequestError(self._stray(request, owner.why))
            elif self._to_loopback(request):
                return PASS_THROUGH  # to our own server, which answers it with its rules
            else:
                owner = self._owner()
            if not isinstance(owner, Window):
                if not self._protected(request, []):
                    # not ours to police outside a window: as if nothing of ours were patched
                    return DEFER if others_may_answer else PASS_THROUGH
                # a stray to a Cobo host is refused and listed, never handed to the next test's mocks
                why = owner.why if owner is not None else "no fault set was active"
                return NetworkFault("connect_error", detail=self._stray(request, why))
            windows = list(owner.chain())
            if not any(request.transport in w.faults.transport_names for w in windows):
                # no active set chose this library: as if unpatched (the guard still holds Cobo hosts)
                return DEFER if others_may_answer else PASS_THROUGH
            reply, declined = self._ask(request, windows)
            if reply is not None:
                return reply
            if not self._protected(request, windows):
                if others_may_answer:
                    return DEFER
                if self._allowed(request, windows):
                    return PASS_THROUGH
            elif request.host in self._live:
                return PASS_THROUGH
            raise self._refuse(request, windows, declined)

    def _ask(
        self, request: CapturedRequest, windows: list[Window], *, authenticate: bool = True
    ) -> tuple[Reply | NetworkFault | _Pending | None, list[tuple[Window, Verdict]]]:
        """Offer *request* to the fault sets of *windows* that chose its transport, innermost
        first: the reply of the first rule that answers (the call recorded), or every set's reasons.

        A rule whose answer is computed gives a `_Pending` instead: the caller calls the function
        once it has released the switchboard's lock (`_computed_answer`). The `Call` records what
        the function returned; for a `LostAnswer`, the answer that was lost (its reply is what the
        client got instead)."""
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        declined: list[tuple[Window, Verdict]] = []
        for window in windows:
            if request.transport not in window.faults.transport_names:
                continue
            book = window.faults.book
            if authenticate and window.faults.authenticator is not None:
                refused = self._unauthenticated(request, window)
                if refused is not None:
                    return refused, declined
            with book.lock:
                verdict = book.decide(request)
                if verdict.rule is None or verdict.outcome is None:
                    declined.append((window, verdict))
                    continue
                if is_computed(verdict.outcome):
                    return _Pending(window, verdict.rule, verdict.outcome), declined
                reply = self._deliver(request, window, verdict.rule, verdict.outcome)
            return reply, declined
        return None, declined

    def _computed_answer(self, request: CapturedRequest, pending: _Pending) -> Reply | NetworkFault:
        """Call the user's function behind *pending* (no lock held), then deliver what it returned."""
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        book = pending.window.faults.book
        try:
            outcome = _resolved(pending.outcome, request, pending.rule)
        except BaseException as raised:
            if not isinstance(raised, (KeyboardInterrupt, SystemExit)):
                # the client gets the exception itself; the test fails at teardown too, should the
                # client (or its retry loop) swallow it. The rule did take the request: not "never called"
                with book.lock:
                    pending.rule.failed_answers.append(request)
                book.refuse(request, _answer_failed(pending.outcome, request, raised))
            raise
        with book.lock:
            return self._deliver(request, pending.window, pending.rule, outcome)

    @staticmethod
    def _deliver(request: CapturedRequest, window: Window, rule: FaultRule, outcome: Outcome) -> Reply | NetworkFault:
        """Render *outcome* as *rule* sends it, record the call and report it served (book lock held)."""
        faults = window.faults
        reply = render_signed(outcome, faults.signers, faults.signature_spelling)  # rendered once
        if isinstance(reply, Reply):
            reply = reply.as_sent_to(request.method)
        if rule.delay or rule.trickle:
            reply = (
                replace(reply, delay=rule.delay, trickle=rule.trickle)
                if isinstance(reply, Reply)
                else replace(reply, delay=rule.delay)
            )
        if isinstance(outcome, LostAnswer) and outcome.inner is not None:
            outcome = outcome.inner  # what happened at Cobo: the client got `reply` instead
        faults.book.record(rule, Call(request, outcome, reply))
        if faults.on_served is not None:
            faults.on_served(outcome, reply)
        return reply

    @staticmethod
    def _unauthenticated(request: CapturedRequest, window: Window) -> Reply | None:
        """Cobo's answer to a request whose signature fails the set's check, recorded as unanswered."""
        faults = window.faults
        assert faults.authenticator is not None
        check = faults.authenticator(request)
        if check.ok or check.code is None:
            return None
        from pytest_cobo_errors.outcomes import error

        reason = (
            check.reason.replace("…", "...")
            .encode("latin-1", "replace")
            .decode("latin-1")
            .replace("\r", " ")
            .replace("\n", " ")
        )
        outcome = error(check.code, api=check.api, status=check.status, headers={"X-Cobo-Fault-Auth": reason})
        reply = render_signed(outcome, faults.signers, faults.signature_spelling)
        assert isinstance(reply, Reply)
        faults.book.refuse(request, f"rejected by the request-signature check: {check.reason}")
        return reply.as_sent_to(request.method)

    def refused_by_others(self, request: CapturedRequest, their_message: str) -> Decision:
        """A request this board deferred was refused by the user's own mock too: let it through if
        a test allowed its host, else refuse it with one message that names both."""
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        decision = self._decide_refused(request, their_message)
        return self._computed_answer(request, decision) if isinstance(decision, _Pending) else decision

    def _decide_refused(self, request: CapturedRequest, their_message: str) -> Decision | _Pending:
        __tracebackhide__ = True
        with self.lock:
            owner = self.owner_or_none()
            windows = list(owner.chain()) if owner is not None else []
            if not any(request.transport in w.faults.transport_names for w in windows):
                return DEFER  # no active set chose this library: their refusal stands, as if we were not there
            if self._allowed(request, windows):
                return PASS_THROUGH
            # a rule may have been declared meanwhile; the signature was checked the first time (a nonce
            # checked twice would read as a replay)
            reply, declined = self._ask(request, windows, authenticate=False)
            if reply is not None:
                return reply
            raise self._refuse(request, windows, declined, others=their_message)

    def _refuse(
        self,
        request: CapturedRequest,
        windows: list[Window],
        declined: list[tuple[Window, Verdict]],
        *,
        others: str = "",
    ) -> CoboFaultError:
        exhausted = any(verdict.exhausted for _, verdict in declined)
        protected = self._protected(request, windows)
        if exhausted:
            why = "every matching rule had already given all its outcomes"
        elif not any(verdict.reasons for _, verdict in declined):
            why = "no fault is declared"
        elif protected:
            why = "no rule matches"
        else:
            why = "no rule matches, and the host is not allowed through"
        if windows:
            if not in_process(request.transport):  # the client got an answer: teardown is where this is read
                why += f"; declare e.g. {_suggested_rule(request, windows)}"
            windows[0].faults.book.refuse(request, why)
        message = self._explain(request, windows, declined, protected, others)
        return (SequenceExhaustedError if exhausted else UnmatchedRequestError)(message)

    def _explain(
        self,
        request: CapturedRequest,
        windows: list[Window],
        declined: list[tuple[Window, Verdict]],
        protected: bool,
        others: str,
    ) -> str:
        fixture = TRANSPORTS[request.transport].fixture
        lines = [f"{fixture}: no rule answers {request.describe()} (via {request.transport})."]
        reasons = [(w, v) for w, v in declined if v.reasons]
        if reasons:
            lines.append("The declared rules, and why each did not answer:")
            for window, verdict in reasons:
                if len(windows) > 1:
                    lines.append(f"  in {window.label}:")
                lines.extend(verdict.reasons)
        else:
            lines.append("No fault is declared in this test.")
        skipped = [w for w in windows if request.transport not in w.faults.transport_names]
        for window in skipped:
            lines.append(
                f"{window.label} intercepts {'+'.join(window.faults.transport_names)} only, not {request.transport}."
            )
        if others:
            lines.append(f"Your own {request.transport} mock did not answer it either: {others.strip()}")
        # Each suggestion on a line of its own, as code to paste: tests/test_advice.py follows every
        # one and checks that the request is then answered.
        rule = _suggested_rule(request, windows)
        if not in_process(request.transport):
            lines += [f"{fixture} answered it with error {_UNANSWERED}; declare a rule for it, e.g.", f"    {rule}"]
        elif protected:
            where = "a Cobo host" if hosts.is_cobo_host(request.host) else "under this test's Cobo base URLs"
            lines += [f"It is {where}, so it never reaches the network: declare a rule for it, e.g.", f"    {rule}"]
        else:
            lines += [
                "Declare a rule for it, e.g.",
                f"    {rule}",
                "or let real traffic to its host through:",
                f"    cobo_fault.allow_host({hosts.normalise_host(request.host)!r})",
            ]
        return "\n".join(lines)

    # -- the network guard's handler --------------------------------------------------------
    def blocked(self, request: CapturedRequest, library: str) -> BaseException | None:
        """The error for a lookup of or connection to a guarded host that no transport answered;
        None if a live test may reach it."""
        with self.lock:
            owner = self._owner()
            if isinstance(owner, _Stray):  # never let through, not even during a live test
                return StrayRequestError(self._stray(request, owner.why))
            if request.host in self._live:
                return None
            if owner is None:
                return StrayRequestError(self._stray(request, "no fault set was active"))
            windows = list(owner.chain())
            intercepted = sorted({name for w in windows for name in w.faults.transport_names})
            why = f"{library} is not intercepted in-process; the network guard stopped it"
            windows[0].faults.book.refuse(request, why)
        in_process = library.split(" ", maxsplit=1)[0]
        if in_process in intercepted:  # went around the transport: a client's own transport class, say
            advice = (
                f"{in_process} is intercepted in this test at {TRANSPORTS[in_process].seam}, and this request "
                f"went around that (a transport or adapter of the client's own, or {in_process}'s internals "
                "called directly): send it through the library's usual client, or point the client at the "
                "cobo_server fixture's url (a server on loopback)"
            )
        elif in_process in TRANSPORTS:
            advice = (
                f"{in_process} is not among this test's transports ({'+'.join(intercepted) or 'none'}): "
                f"add it, e.g. @pytest.mark.cobo_transports({', '.join(repr(n) for n in [*intercepted, in_process])})"
            )
        else:
            advice = (
                f"cobo_fault answers httpx and requests in-process; {library} is not intercepted, so point this "
                "client at a server on loopback (127.0.0.1) instead of a Cobo host"
            )
        return BlockedRequestError(
            f"cobo-errors: the network guard stopped {request.describe()} (via {library}): "
            f"requests to Cobo hosts never leave the process. {advice}. See {_IN_PROCESS_HINT}"
        )

    def take_strays(self) -> list[str]:
        with self.lock:
            strays, self.strays = self.strays, []
        return strays


SWITCHBOARD = Switchboard()
"""The process's one switchboard: windows nest across fixtures, blocks and threads."""
