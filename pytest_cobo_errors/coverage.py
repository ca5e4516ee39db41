"""Which documented codes and statuses a session's tests exercised, and the report of it.

The Custody API (v1) and WaaS 2.0 are scored apart, each against its own catalog; the total is
over the APIs the session touched, so a v1 suite scores as it always did and a v2 suite is not
charged for the v1 codes it never meant to send. Callback cases (``cobo_callbacks.check``) are
listed under their own heading and never count towards the percentage.

What counts, so that the same suite gives the same figure on every run (a CI gate can trust it):

* every ``@cobo_error_cases`` case that runs: its code, or its status;
* every answer a fault gives in a test that is not a Hypothesis test: its error code, and the HTTP
  status it was answered at. An error is answered at a status (its code's default, which is this
  plugin's convention since Cobo documents none, or the ``status=`` given), and the client saw that
  status, so it counts too; the report says which statuses were seen *only* that way;
* not the answers given inside a Hypothesis test (``@given``, or any answer while Hypothesis runs an
  example): Hypothesis draws them, so they change with ``--hypothesis-seed``. A Hypothesis test's
  ``@cobo_error_cases`` cases still count (they are parametrized, not drawn). Cover a code with a
  case or a plain test for it to count;
* nothing from a test marked ``@pytest.mark.cobo_no_coverage``: neither its cases nor its answers
  nor its callback cases.

The report says what was left out; ``-v`` lists, per code and status, the tests that exercised it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Literal

from pytest_cobo_errors.catalog import ERROR_CODES, HTTP_STATUSES, HttpStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pytest_cobo_errors.outcomes import NetworkFault, Outcome, Reply

__all__ = ["ErrorCoverage", "recorder", "recording"]


def _v2_catalog() -> tuple[Mapping[int, Any], Mapping[int, Any]]:
    from pytest_cobo_errors.selection import catalog_of  # WaaS 2.0's catalog: only once v2 is seen

    v2 = catalog_of("v2")
    return v2.codes, v2.statuses


class ErrorCoverage:
    """Codes and statuses seen through ``@cobo_error_cases`` items that ran, or faults that answered;
    which tests exercised each; and the callback cases ``cobo_callbacks.check`` delivered."""

    def __init__(self) -> None:
        self.codes: set[int] = set()
        self.statuses: set[int] = set()
        self.v2_codes: set[int] = set()
        self.v2_statuses: set[int] = set()
        self.callbacks: set[str] = set()
        self.tests: dict[str, set[str]] = {}
        """The node ids that exercised each code or status, by key: ``"12007"``, ``"http:400"``, ``"v2:2024"``."""
        self.status_sources: dict[str, set[str]] = {}
        """What each status counted was the status of: ``""`` a bare status (a gateway page, a case),
        or the key of the error answered at it (``"12007"``)."""
        self.left_out: dict[str, set[str]] = {"marked": set(), "hypothesis": set()}
        """Tests marked cobo_no_coverage that ran, and Hypothesis tests whose answers were not counted."""
        self._test = ""  # the node id of the test running now ("" between tests)
        self._skip: LeftOut | None = None  # why the running test's answers do not count

    # -- the test running now, set by the plugin around each test -----------------------------------------

    def begin_test(self, nodeid: str, *, marked: bool = False, hypothesis: bool = False) -> None:
        """Attribute what is served from now on to *nodeid*; *marked* (cobo_no_coverage) leaves out its
        cases and answers, *hypothesis* (a ``@given`` test) its answers."""
        self._test = nodeid
        self._skip = "marked" if marked else "hypothesis" if hypothesis else None
        if marked:
            self.left_out["marked"].add(nodeid)

    def end_test(self) -> None:
        self._test, self._skip = "", None

    # -- recording ------------------------------------------------------------------------------------------

    def record_callback(self, case_id: str) -> None:
        """Note that the callback case *case_id* (``"v2_webhook-wrong_key"``) was checked."""
        if self._skip != "marked":
            self.callbacks.add(case_id)

    def record_entry(self, entry: Any) -> None:
        """Count the catalog entry of a ``@cobo_error_cases`` case that runs (even in a Hypothesis test:
        the cases are parametrized, the same whatever the seed)."""
        if self._skip == "marked":
            return
        v2 = getattr(entry, "api", "v1") == "v2"
        if isinstance(entry, HttpStatus) or not hasattr(entry, "code"):
            status = entry.status
            (self.v2_statuses if v2 else self.statuses).add(status)
            self._saw(_status_key(status, v2), source="")
        elif not getattr(entry, "removed", False):  # a removed v2 code is outside "every documented code"
            (self.v2_codes if v2 else self.codes).add(entry.code)
            self._saw(_code_key(entry.code, v2))

    def record_served(self, outcome: Outcome, reply: Reply | NetworkFault) -> None:
        """Count what a fault answered: its error code, and the HTTP status it answered at."""
        if self._skip == "marked":
            return
        if self._skip == "hypothesis" or _in_hypothesis_example():
            # Hypothesis draws what is injected, so what is served changes with the seed: left out,
            # so that the figure (and --cobo-coverage-fail-under) is the same for every seed.
            self.left_out["hypothesis"].add(self._test or "(outside a test)")
            return
        code = outcome.code
        status: int | None = getattr(reply, "status", None)  # a NetworkFault has none
        answered = getattr(outcome, "inner", None) or outcome  # a signed(...) answer is its inner one's
        v2 = getattr(answered, "api", "v1") == "v2"
        codes, statuses = _v2_catalog() if v2 else (ERROR_CODES, HTTP_STATUSES)
        counted_code = code is not None and code in codes
        if counted_code:
            (self.v2_codes if v2 else self.codes).add(code)  # type: ignore[arg-type]
            self._saw(_code_key(code, v2))  # type: ignore[arg-type]
        if status is not None and status in statuses:
            (self.v2_statuses if v2 else self.statuses).add(status)
            self._saw(_status_key(status, v2), source=_code_key(code, v2) if counted_code else "")  # type: ignore[arg-type]

    def _saw(self, key: str, *, source: str | None = None) -> None:
        self.tests.setdefault(key, set()).add(self._test or "(outside a test)")
        if source is not None:
            self.status_sources.setdefault(key, set()).add(source)

    # -- pytest-xdist ---------------------------------------------------------------------------------------

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add what another process (a pytest-xdist worker) saw, as made by `as_dict`."""
        self.callbacks.update(c for c in data.get("callbacks", ()) if isinstance(c, str))
        self.codes.update(c for c in data.get("codes", ()) if c in ERROR_CODES)
        self.statuses.update(s for s in data.get("statuses", ()) if s in HTTP_STATUSES)
        if data.get("v2_codes") or data.get("v2_statuses"):
            codes, statuses = _v2_catalog()
            self.v2_codes.update(c for c in data.get("v2_codes", ()) if c in codes)
            self.v2_statuses.update(s for s in data.get("v2_statuses", ()) if s in statuses)
        for name, into in self._by_test():
            given = data.get(name, {})
            for key, values in given.items() if isinstance(given, dict) else ():
                into.setdefault(str(key), set()).update(v for v in values if isinstance(v, str))

    def _by_test(self) -> tuple[tuple[str, dict[str, set[str]]], ...]:
        return (("tests", self.tests), ("status_sources", self.status_sources), ("left_out", self.left_out))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"codes": sorted(self.codes), "statuses": sorted(self.statuses)}
        if self.v2_touched:
            data |= {"v2_codes": sorted(self.v2_codes), "v2_statuses": sorted(self.v2_statuses)}
        if self.callbacks:
            data["callbacks"] = sorted(self.callbacks)
        for name, mapping in self._by_test():
            if any(mapping.values()):
                data[name] = {key: sorted(values) for key, values in mapping.items() if values}
        return data

    @property
    def v2_touched(self) -> bool:
        return bool(self.v2_codes or self.v2_statuses)

    def _scored(self) -> list[tuple[int, int]]:
        """(exercised, documented) per API the session touched: v1 unless only v2 was."""
        scores = []
        if not self.v2_touched or self.codes or self.statuses:
            scores.append((len(self.codes) + len(self.statuses), len(ERROR_CODES) + len(HTTP_STATUSES)))
        if self.v2_touched:
            codes, statuses = _v2_catalog()
            scores.append((len(self.v2_codes) + len(self.v2_statuses), len(codes) + len(statuses)))
        return scores

    @property
    def percent(self) -> float:
        """Exercised codes and statuses as a share of the documented ones of the APIs touched, 0-100."""
        scores = self._scored()
        return 100.0 * sum(seen for seen, _ in scores) / sum(total for _, total in scores)

    def report(self, *, fail_under: float | None = None, verbose: bool = False) -> list[str]:
        """The terminal summary: totals, then what no test exercised, one per line; *verbose* (``-v``)
        adds, per code and status, the tests that exercised it."""
        total = sum(documented for _, documented in self._scored())
        lines = [
            f"error codes   {len(self.codes):>2}/{len(ERROR_CODES)} exercised" + _families(self.codes),
            f"HTTP statuses {len(self.statuses):>2}/{len(HTTP_STATUSES)} exercised",
        ]
        lines += self._through_errors(self.statuses, v2=False)
        if self.v2_touched:
            codes, statuses = _v2_catalog()
            lines += [
                f"WaaS 2.0 error codes   {len(self.v2_codes):>3}/{len(codes)} exercised",
                f"WaaS 2.0 HTTP statuses {len(self.v2_statuses):>3}/{len(statuses)} exercised",
            ]
            lines += self._through_errors(self.v2_statuses, v2=True)
        lines.append(
            f"total         {self.percent:.1f}% of {total} documented codes and statuses"
            + ("" if fail_under is None else f" (required: {fail_under:g}%)")
        )
        lines += self._left_out_lines(verbose)
        missing_codes = [e for c, e in ERROR_CODES.items() if c not in self.codes]
        missing_statuses = [e for s, e in HTTP_STATUSES.items() if s not in self.statuses]
        v2_missing: list[str] = []
        if self.v2_touched:
            codes, statuses = _v2_catalog()
            v2_missing = [f"v2:{c}" for c in codes if c not in self.v2_codes]
            v2_missing += [f"v2:http:{s}" for s in statuses if s not in self.v2_statuses]
        if missing_codes or missing_statuses or v2_missing:
            lines.append("not exercised by any test:")
            if not self.v2_touched or self.codes or self.statuses:
                lines += [f"  {e.code:>5}  {e.message}" for e in missing_codes]
                lines += [f"  http:{e.status}  {e.description.split(' – ')[0]}" for e in missing_statuses]
            lines += _wrapped(v2_missing)
        else:
            lines.append("every documented code and status is exercised")
        if verbose:
            lines += self._exercised_by()
        return lines + self._callback_lines()

    def _through_errors(self, statuses: set[int], *, v2: bool) -> list[str]:
        """Why a status counts that no test asked for by itself: an error is answered at an HTTP status
        (its code's default, or the one given), and the status counts as the client received it."""
        terms = []
        for status in sorted(statuses):
            sources = self.status_sources.get(_status_key(status, v2), set())
            if sources and "" not in sources:
                codes = sorted(sources, key=_sort_key)
                more = f" +{len(codes) - 1}" if len(codes) > 1 else ""
                terms.append(f"{_status_key(status, v2)} ({codes[0]}{more})")
        if not terms:
            return []
        return [f"  only as the status of error answers: {', '.join(terms)}"]

    def _left_out_lines(self, verbose: bool) -> list[str]:
        marked, hypothesis = sorted(self.left_out["marked"]), sorted(self.left_out["hypothesis"])
        parts = []
        if marked:
            parts.append(f"{_count(len(marked), 'test')} marked cobo_no_coverage")
        if hypothesis:
            parts.append(f"the answers of {_count(len(hypothesis), 'Hypothesis test')} (they change with the seed)")
        if not parts:
            return []
        lines = [f"not counted: {'; '.join(parts)}"]
        if verbose:
            lines += [f"  marked:     {_bounded(marked)}"] if marked else []
            lines += [f"  Hypothesis: {_bounded(hypothesis)}"] if hypothesis else []
        return lines

    def _exercised_by(self) -> list[str]:
        """-v: each code and status exercised, with the tests that exercised it (the first few, and a count)."""
        keys = sorted(self.tests, key=_sort_key)
        if not keys:
            return []
        width = max(len(key) for key in keys)
        return ["exercised by:"] + [f"  {key:>{width}}  {_bounded(sorted(self.tests[key]))}" for key in keys]

    def as_json(self, *, fail_under: float | None = None) -> dict[str, Any]:
        """The report for CI dashboards (``--cobo-coverage-json``): what each API's codes and statuses
        scored, the total, the tests per code, what was not counted, and the callback cases."""
        apis: dict[str, Any] = {}
        catalogs = [("v1", ERROR_CODES, HTTP_STATUSES, self.codes, self.statuses)]
        if self.v2_touched:
            catalogs.append(("v2", *_v2_catalog(), self.v2_codes, self.v2_statuses))
        for api, codes, statuses, seen_codes, seen_statuses in catalogs:
            documented = list(codes)
            apis[api] = {
                "codes": {
                    "exercised": sorted(seen_codes),
                    "missing": [c for c in documented if c not in seen_codes],
                    "documented": len(documented),
                },
                "statuses": {
                    "exercised": sorted(seen_statuses),
                    "missing": [s for s in statuses if s not in seen_statuses],
                    "documented": len(statuses),
                },
            }
        scores = self._scored()
        data: dict[str, Any] = {
            "version": 1,
            "percent": round(self.percent, 2),
            "exercised": sum(seen for seen, _ in scores),
            "documented": sum(total for _, total in scores),
            "fail_under": fail_under,
            "passed": fail_under is None or self.percent >= fail_under,
            "apis": apis,
            "tests": {key: sorted(self.tests[key]) for key in sorted(self.tests, key=_sort_key)},
            "only_as_status_of_errors": {
                key: sorted(sources, key=_sort_key)
                for key, sources in sorted(self.status_sources.items(), key=lambda kv: _sort_key(kv[0]))
                if sources and "" not in sources
            },
            "not_counted": {
                "marked": sorted(self.left_out["marked"]),
                "hypothesis": sorted(self.left_out["hypothesis"]),
            },
            "callbacks": None,
        }
        if self.callbacks:
            from pytest_cobo_errors.callback_matrix import callback_cases  # only once a callback case was checked

            every = [case.id for case in callback_cases()]
            data["callbacks"] = {
                "checked": [c for c in every if c in self.callbacks],
                "missing": [c for c in every if c not in self.callbacks],
                "total": len(every),
            }
        return data

    def _callback_lines(self) -> list[str]:
        """The callbacks heading: how many of the callback cases were checked, and which were not."""
        if not self.callbacks:
            return []
        from pytest_cobo_errors.callback_matrix import callback_cases  # only once a callback case was checked

        every = [case.id for case in callback_cases()]
        checked = self.callbacks.intersection(every)
        lines = [f"callback cases {len(checked):>2}/{len(every)} checked"]
        missing = [case_id for case_id in every if case_id not in checked]
        if missing:
            lines.append("callback cases not checked:")
            lines += _wrapped(missing)
        else:
            lines.append("every callback case is checked")
        return lines


LeftOut = Literal["marked", "hypothesis"]
_SHOWN_TESTS = 3  # -v lists this many tests per code, then a count of the rest


def _code_key(code: int, v2: bool) -> str:
    return f"v2:{code}" if v2 else str(code)


def _status_key(status: int, v2: bool) -> str:
    return f"v2:http:{status}" if v2 else f"http:{status}"


def _sort_key(key: str) -> tuple[int, int, int]:
    """v1 before v2, codes before statuses, then by number: ``12007`` < ``http:400`` < ``v2:2024``."""
    v2 = key.startswith("v2:")
    rest = key.removeprefix("v2:")
    status = rest.startswith("http:")
    number = rest.removeprefix("http:")
    return (int(v2), int(status), int(number) if number.isdigit() else 0)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _bounded(tests: list[str]) -> str:
    shown = ", ".join(tests[:_SHOWN_TESTS])
    rest = len(tests) - _SHOWN_TESTS
    return shown + (f" and {rest} more" if rest > 0 else "")


def _in_hypothesis_example() -> bool:
    """Whether Hypothesis is running an example in this thread (a stateful machine, ``find()``, or a
    ``@given`` test the plugin could not see as one)."""
    hypothesis = sys.modules.get("hypothesis")  # not imported: Hypothesis is not running anything
    check = getattr(hypothesis, "currently_in_test_context", None)
    return bool(check is not None and check())


def _wrapped(terms: list[str], width: int = 96) -> list[str]:
    """WaaS 2.0's missing codes, several a line: 126 of them would be a page of their own."""
    lines: list[str] = []
    for term in terms:
        if lines and len(lines[-1]) + len(term) + 2 <= width:
            lines[-1] += f", {term}"
        else:
            lines.append(f"  {term}")
    return lines


def _families(codes: set[int]) -> str:
    ones = sum(1 for e in ERROR_CODES.values() if e.family == "1")
    seen_ones = sum(1 for c in codes if ERROR_CODES[c].family == "1")
    return f" (1xxx: {seen_ones}/{ones}, 12xxx: {len(codes) - seen_ones}/{len(ERROR_CODES) - ones})"


# The session's coverage, while a pytest run with --cobo-coverage is under way. A stack, since
# pytester runs whole sessions inside a session. `CoboFaults()` blocks, which have no fixture to
# reach the config through (Hypothesis examples), report to the innermost one.
_RECORDING: list[ErrorCoverage] = []


def recording(coverage: ErrorCoverage | None) -> None:
    """Start (*coverage*) or stop (None) recording for the innermost session."""
    if coverage is None:
        if _RECORDING:
            _RECORDING.pop()
    else:
        _RECORDING.append(coverage)


def recorder() -> ErrorCoverage | None:
    """The coverage being recorded now, if any."""
    return _RECORDING[-1] if _RECORDING else None
