"""``@cobo_error_cases``: run a test once per documented Cobo error, with an expectation table.

Each case is a `CoboErrorCase`: a catalog entry with a stable id (``12007-insufficient-balance``,
``http-503-service-unavailable``), ready for ``cobo_fault.inject(case)``, and, when the
decorator got ``expect=``, what the code under test must do for that error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import pytest

from pytest_cobo_errors.catalog import ErrorCode, HttpStatus
from pytest_cobo_errors.outcomes import Outcome, error, gateway
from pytest_cobo_errors.selection import CodeFilter, CodePattern, PatternError, catalog_of, parse_filter, parse_pattern

__all__ = ["CoboErrorCase", "build_cases", "case_key", "cobo_error_cases"]

_NOTHING: Any = object()
Entry = Any  # ErrorCode | HttpStatus, or a WaaS 2.0 entry (catalog_v2 is loaded only for v2 cases)
F = TypeVar("F", bound=Callable[..., Any])


def case_key(entry: Entry) -> str:
    """``"12007"`` for a code, ``"http:503"`` for a status (``"v2:2024"`` for WaaS 2.0's): what
    ``--cobo-codes`` matches."""
    key = f"http:{entry.status}" if isinstance(entry, HttpStatus) else str(entry.code)
    return f"v2:{key}" if getattr(entry, "api", "v1") == "v2" else key


def _describe(expected: object) -> str:
    if isinstance(expected, type):
        return expected.__name__
    return getattr(expected, "__name__", None) or repr(expected)


@dataclass(frozen=True, slots=True)
class CoboErrorCase:
    """One documented error (a code, or a bare HTTP status) and what the code under test must do."""

    entry: Entry
    expected: Any = _NOTHING
    expected_from: str | None = None

    @property
    def id(self) -> str:
        return str(self.entry.id)

    @property
    def code(self) -> int | None:
        """The Cobo ``error_code``, or None for a bare HTTP status case."""
        return None if isinstance(self.entry, HttpStatus) else self.entry.code

    @property
    def status(self) -> int:
        """The HTTP status this case is answered with."""
        return self.entry.status if isinstance(self.entry, HttpStatus) else self.entry.default_status

    @property
    def has_expectation(self) -> bool:
        return self.expected is not _NOTHING

    def outcome(self) -> Outcome:
        """What ``cobo_fault.inject(case)`` answers: the error envelope, or a gateway page."""
        return gateway(self.entry) if isinstance(self.entry, HttpStatus) else error(self.entry)

    def _expectation(self) -> str:
        if not self.has_expectation:
            raise LookupError(f"{self.id}: no expectation; pass expect={{...}} to @cobo_error_cases")
        return f"{_describe(self.expected)} (from expect[{self.expected_from!r}])"

    def _fail(self, what: str) -> None:
        __tracebackhide__ = True
        pytest.fail(f"{self.id} ({self.entry.description}): expected {self._expectation()}, {what}", pytrace=False)

    def check(self, value: object) -> None:
        """Fail unless *value* meets this case's expectation.

        A class expects an instance of it (exceptions included), a callable a truthy answer,
        anything else equality.
        """
        __tracebackhide__ = True
        expected = self.expected
        self._expectation()
        if isinstance(expected, type):
            ok = isinstance(value, expected)
        elif callable(expected):
            ok = bool(expected(value))
        else:
            ok = value == expected
        if not ok:
            self._fail(f"got {value!r}")

    def check_call(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call *func* and check what it raised, or else what it returned, against the expectation."""
        __tracebackhide__ = True
        expected = self.expected
        self._expectation()
        raised: Exception | None = None
        try:
            result = func(*args, **kwargs)
        except Exception as exc:
            raised = exc
        if raised is not None:  # checked outside the handler, so the failure is not chained to it
            if isinstance(expected, type) and not issubclass(expected, BaseException):
                self._fail(f"but the call raised {raised!r}")
            self.check(raised)
            return raised
        if isinstance(expected, type) and issubclass(expected, BaseException):
            self._fail(f"but the call returned {result!r} without raising")
        self.check(result)
        return result

    @contextmanager
    def raises(self) -> Iterator[None]:
        """Fail unless the block raises this case's expected exception type."""
        __tracebackhide__ = True
        expected = self.expected
        self._expectation()
        if not (isinstance(expected, type) and issubclass(expected, BaseException)):
            raise TypeError(f"{self.id}: raises() needs an exception class as expectation, got {expected!r}")
        try:
            yield
        except expected:
            return
        except Exception as exc:
            self._fail(f"but the block raised {exc!r}")
        self._fail("but the block raised nothing")

    def __str__(self) -> str:
        return str(self.entry)


def _term(item: object, api: str) -> str:
    """*item* as a pattern of *api*'s catalog: a bare term gets ``v2:`` for WaaS 2.0 cases."""
    text = str(item.code) if isinstance(item, ErrorCode) or hasattr(item, "default_status") else str(item)  # type: ignore[attr-defined]
    text = text.strip()
    negated = text.startswith("!")
    bare = text[1:].strip() if negated else text
    if api != "v2" or bare.lower().startswith("v2:"):
        return text
    return f"{'!' if negated else ''}v2:{bare}"


def _as_filter(value: object, what: str, api: str = "v1") -> CodeFilter:
    if isinstance(value, str):
        return parse_filter([_term(term, api) for term in value.split(",")])
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_filter(_term(value, api))
    if isinstance(value, Iterable):
        terms = []
        for item in value:
            if isinstance(item, bool) or (
                not isinstance(item, (int, str, ErrorCode)) and not hasattr(item, "default_status")
            ):
                raise TypeError(f"{what} takes codes (12007) or patterns ('12xxx'), got {item!r}")
            terms.append(_term(item, api))
        return parse_filter(terms)
    raise TypeError(f"{what} takes a code, a pattern such as '12xxx', or a list of them, got {value!r}")


def _catalog(api: str, removed: bool) -> tuple[list[Entry], Mapping[int, HttpStatus]]:
    if api not in ("v1", "v2"):
        raise ValueError(f"api must be 'v1' (the Custody API) or 'v2' (WaaS 2.0), got {api!r}")
    if removed and api != "v2":
        raise ValueError("removed=True adds the codes WaaS 2.0's page removed: it needs api='v2'")
    catalog = catalog_of(api)
    codes: list[Entry] = list(catalog.codes.values())
    if removed:
        from pytest_cobo_errors.catalog_v2 import V2_REMOVED_CODES

        codes += V2_REMOVED_CODES.values()
    return codes, catalog.statuses  # type: ignore[return-value]


def _entries(
    family: str | None,
    codes: object,
    exclude: object,
    statuses: bool | Iterable[int],
    *,
    api: str = "v1",
    removed: bool = False,
) -> list[Entry]:
    if family not in (None, "1", "12"):
        raise ValueError(f"family must be '1' or '12' (or None for both), got {family!r}")
    if family is not None and api == "v2":
        raise ValueError("family= chooses among the Custody API's 1xxx and 12xxx codes; for WaaS 2.0 use codes=")
    every, status_table = _catalog(api, removed)
    chosen = [e for e in every if family is None or e.family == family]
    if codes is not None:
        # an empty list means "no codes" (e.g. only statuses), not "no filter"
        is_empty = isinstance(codes, (list, tuple, set, frozenset)) and not codes
        chosen = [] if is_empty else _as_filter(codes, "codes=", api).select(chosen)
    if statuses is True:
        chosen += status_table.values()
    elif statuses is not False:
        if isinstance(statuses, (str, bytes)) or not isinstance(statuses, Iterable):
            raise TypeError(f"statuses must be True, False or a list of HTTP statuses, got {statuses!r}")
        chosen += _as_filter([f"http:{s}" for s in statuses], "statuses=", api).select(status_table.values())
    if exclude:
        dropped = _as_filter(exclude, "exclude=", api)
        chosen = [e for e in chosen if not any(p.matches(e) for p in dropped.include)]
    if not chosen:
        raise ValueError("@cobo_error_cases selects no documented code: loosen family=, codes= or exclude=")
    return chosen


def _expectations(expect: Mapping[object, Any], api: str = "v1") -> list[tuple[CodePattern, Any]]:
    if not isinstance(expect, Mapping):
        raise TypeError(f"expect must be a mapping of code patterns to expectations, got {expect!r}")
    table = []
    for key, value in expect.items():
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            raise TypeError(f"expect keys are codes or patterns such as '12xxx' or '*', got {key!r}")
        if str(key).startswith("!"):
            raise PatternError(f"expect keys cannot exclude ({key!r}); exclude codes with exclude=")
        table.append((parse_pattern(_term(key, api)), value))
    return table


def _resolve(entry: Entry, table: list[tuple[CodePattern, Any]]) -> CoboErrorCase | None:
    matching = [(p, v) for p, v in table if p.matches(entry)]
    if not matching:
        return None
    pattern, value = max(matching, key=lambda pv: pv[0].specificity)  # max keeps the first of equals
    return CoboErrorCase(entry, value, pattern.text)


def build_cases(
    *,
    family: str | None = None,
    codes: object = None,
    exclude: object = (),
    statuses: bool | Iterable[int] = False,
    expect: Mapping[object, Any] | None = None,
    api: str = "v1",
    removed: bool = False,
) -> list[CoboErrorCase]:
    """The cases `cobo_error_cases` parametrizes with, in catalog order: codes, then statuses."""
    entries = _entries(family, codes, exclude, statuses, api=api, removed=removed)
    if expect is None:
        return [CoboErrorCase(e) for e in entries]
    table = _expectations(expect, api)
    cases = [_resolve(e, table) for e in entries]
    missing = [e for e, c in zip(entries, cases, strict=True) if c is None]
    if missing:
        listed = ", ".join(case_key(e) for e in missing)
        raise ValueError(f"expect= has no entry for {listed}: add them, a pattern such as '12xxx', or '*'")
    return [c for c in cases if c is not None]


def _carries_cases(obj: object) -> bool:
    """Whether *obj* was decorated with `cobo_error_cases` (a parametrize mark over its cases)."""
    marks = getattr(obj, "pytestmark", ())
    return any(
        mark.name == "parametrize" and len(mark.args) > 1 and any(isinstance(v, CoboErrorCase) for v in mark.args[1])
        for mark in (marks if isinstance(marks, list) else [marks])
        if isinstance(mark, pytest.Mark)
    )


def refuse_on_unittest(cls: type) -> None:
    """Raise TypeError if unittest.TestCase *cls*, or one of its methods, carries `cobo_error_cases`:
    pytest runs TestCase methods the unittest way, once each and without parameters, so the test
    would run once with no case (or fail on the missing argument)."""
    if _carries_cases(cls):
        where = cls.__qualname__
    else:
        method = next((name for name, value in vars(cls).items() if _carries_cases(value)), None)
        if method is None:
            return
        where = f"{cls.__qualname__}.{method}"
    name = cls.__qualname__
    raise TypeError(
        f"@cobo_error_cases on {where}, a unittest.TestCase: pytest does not parametrize "
        "unittest.TestCase methods, so the test would run once with no case. Drop the TestCase base "
        f"(class {name}: with plain pytest methods, or module-level test functions), or loop over the cases "
        "in the method: for case in build_cases(codes=[...]): with self.subTest(case.id), CoboFaults() as "
        "faults: faults.inject(case); ... (from pytest_cobo_errors.cases import build_cases)"
    )


@overload
def cobo_error_cases(func: F, /) -> F: ...


@overload
def cobo_error_cases(
    *,
    family: str | None = ...,
    codes: object = ...,
    exclude: object = ...,
    statuses: bool | Iterable[int] = ...,
    argname: str = ...,
    expect: Mapping[object, Any] | None = ...,
    api: str = ...,
    removed: bool = ...,
) -> pytest.MarkDecorator: ...


def cobo_error_cases(
    func: Any = None,
    /,
    *,
    family: str | None = None,
    codes: object = None,
    exclude: object = (),
    statuses: bool | Iterable[int] = False,
    argname: str = "cobo_error",
    expect: Mapping[object, Any] | None = None,
    api: str = "v1",
    removed: bool = False,
) -> Any:
    """Parametrize a test (function, method or class) with one case per documented Cobo error.

    Bare, ``@cobo_error_cases`` runs once per documented error code (41 cases) with the
    argument ``cobo_error``. Called, it narrows and extends: ``family="12"``, ``codes=[12007,
    "12xxx"]``, ``exclude=[1070]``, ``statuses=True`` (or ``[429, 503]``) for bare-status
    cases, ``argname="case"``, and ``expect={"12007": InsufficientFunds, "*": ApiError}`` to
    state what the code under test must do per code. ``--cobo-codes`` deselects cases.

    ``api="v2"`` runs over WaaS 2.0's catalog instead (126 codes; ``removed=True`` adds the 9
    codes its page dropped, for older clients); its patterns name v2 codes (``codes="30xxx"``),
    its ids start with ``v2-``, and ``--cobo-codes=v2:30xxx`` selects among them.

    pytest never parametrizes a ``unittest.TestCase`` or its methods, so collecting a decorated
    one is an error (a TypeError saying so); loop over `build_cases` with ``subTest`` there.
    """
    if not isinstance(argname, str) or not argname.isidentifier():
        raise ValueError(f"argname must be a Python identifier, got {argname!r}")
    cases = build_cases(
        family=family, codes=codes, exclude=exclude, statuses=statuses, expect=expect, api=api, removed=removed
    )
    # plain values, no per-case marks: the plugin finds cases by type, and marks cost collection time
    mark = pytest.mark.parametrize(argname, cases, ids=[case.id for case in cases])
    if func is None:
        return mark
    if callable(func):
        return mark(func)
    raise TypeError(f"@cobo_error_cases decorates a test or class; use keywords to configure it, got {func!r}")
