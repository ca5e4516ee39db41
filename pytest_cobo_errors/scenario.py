"""Scenario files: the fault vocabulary as data, for the standalone server and for tests that share one.

A scenario is a table (TOML, or a JSON object) with a ``rules`` list and an optional ``sign``;
each rule names one answer and the requests it applies to, in the words of the Python API::

    sign = true                      # or {key = "<64 hex digits>", spelling = "hyphen"}

    [[rules]]
    method = "POST"
    path = "/v1/custody/new_withdraw_request/"
    error = 12009                    # with status, message, headers, fields, omit, signature, spelling
    times = 1

    [[rules]]
    path = "/v1/custody/coin_info/"
    sequence = [1010, 503, {succeed = {coin = "BTC"}}]   # an int is a code (a status if 100-599), or a table

One answer per rule: ``error`` (a code), ``gateway`` (a status as a proxy sends it, ``body =
"html"``, ``"empty"`` or text), ``network`` (a kind `CoboFaults.network` takes, such as
``"connection_reset"``), ``succeed`` (the result), ``sequence`` (steps, ``repeat_last``) or
``fail_then_succeed`` (``{error = 1010, times = 2, result = {...}}``). The options of every
rule: ``method``, ``path`` (a glob) or ``path_regex``, ``times`` (not for sequences), ``delay``,
``trickle``, ``optional``, ``expect_calls``, and the matchers ``params``, ``form``, ``json`` and
``request_headers`` (``match=``, a Python function, has no scenario form).

`load_scenario` declares a scenario on any fault set, ``cobo_server`` or ``cobo_fault`` alike;
everything is checked first, and a `ScenarioError` names the rule and key at fault and what is valid.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

from pytest_cobo_errors.catalog import error_code, shown
from pytest_cobo_errors.outcomes import (
    NETWORK_FAULTS,
    Outcome,
    error,
    gateway,
    success,
)
from pytest_cobo_errors.signing import (
    SIGNATURE_FAULTS,
    SPELLINGS,
    SigningUnavailableError,
    TestKey,
    session_key,
    signed,
)
from pytest_cobo_errors.transports.contract import NETWORK_FAULT_KINDS

if TYPE_CHECKING:
    import os

    from pytest_cobo_errors.faults import CoboFaults, RuleOptions
    from pytest_cobo_errors.rules import FaultRule
    from pytest_cobo_errors.signing import SignatureFault, Spelling

__all__ = ["ANSWERS", "ScenarioError", "load_scenario", "parse_scenario", "read_scenario"]


class ScenarioError(ValueError):
    """A scenario that cannot be served as written: the message names the rule, the key and what is valid."""


_STEPS: dict[str, tuple[str, ...]] = {
    "error": ("error", "status", "message", "headers", "fields", "omit", "signature", "spelling"),
    "gateway": ("gateway", "body", "headers"),
    "network": ("network",),
    "succeed": ("succeed", "status", "headers", "signature", "spelling"),
}
ANSWERS = (*_STEPS, "sequence", "fail_then_succeed")
"""The keys that say what a rule answers; each rule has exactly one."""
_MATCHERS = ("params", "form", "json", "request_headers")  # match= is a function: Python only
_OPTIONS = ("method", "path", "path_regex", "delay", "trickle", "optional", "expect_calls", *_MATCHERS)
_RULE_KEYS: dict[str, tuple[str, ...]] = {
    **{kind: (*keys, *_OPTIONS[:3], "times", *_OPTIONS[3:]) for kind, keys in _STEPS.items()},
    "sequence": ("sequence", "repeat_last", *_OPTIONS),
    "fail_then_succeed": ("fail_then_succeed", *_OPTIONS),
}
_EVERY_KEY = frozenset(key for keys in _RULE_KEYS.values() for key in keys)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_FORMATS = {".toml": "toml", ".json": "json"}


# -- reading --------------------------------------------------------------------------------
def read_scenario(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The scenario in the file at *path*: TOML (``.toml``) or JSON (``.json``), by its suffix."""
    file = Path(path)
    form = _FORMATS.get(file.suffix.lower())
    if form is None:
        raise ScenarioError(f"{file}: unknown scenario format {file.suffix or '(no suffix)'!r}; valid: .toml, .json")
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{file}: cannot read it: {exc.strerror or exc}") from None
    return parse_scenario(text, form, source=str(file))


def parse_scenario(text: str | bytes, form: str, *, source: str = "the scenario") -> dict[str, Any]:
    """*text* parsed as *form* (``"toml"`` or ``"json"``); a ScenarioError says where it is malformed."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScenarioError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if form == "toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # the server extra installs it there
            try:
                import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
            except ImportError:
                raise ScenarioError(
                    f"{source}: reading TOML on Python 3.10 needs tomli: pip install 'pytest-cobo-errors[server]'"
                ) from None
        try:
            parsed: object = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    elif form == "json":
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{source}: not valid JSON: {exc}") from None
    else:
        raise ScenarioError(f"{source}: unknown scenario format {form!r}; valid: toml, json")
    if not isinstance(parsed, dict):
        raise ScenarioError(f"{source}: must be a table (a JSON object) with keys rules, sign; got {shown(parsed)}")
    return parsed


# -- checking values ------------------------------------------------------------------------
def _fail(where: str, problem: str) -> NoReturn:
    raise ScenarioError(f"{where}: {problem}")


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        _fail(where, f"must be a table (a JSON object), got {shown(value)}")
    return value


def _check_keys(table: Mapping[str, Any], where: str, valid: Sequence[str], kind: str | None = None) -> None:
    for key in table:
        if key in valid:
            continue
        if kind is not None and key in _EVERY_KEY:
            _fail(_at(where, key), f"not valid in {kind} rule; valid: {', '.join(valid)}")
        near = difflib.get_close_matches(key, valid, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        _fail(_at(where, key), f"unknown key{hint}; valid: {', '.join(valid)}")


def _answer_key(table: Mapping[str, Any], where: str, valid: Sequence[str]) -> str:
    given = [key for key in valid if key in table]
    if len(given) != 1:
        what = "no answer" if not given else f"{' and '.join(given)} both given"
        _fail(where, f"{what}; give exactly one of: {', '.join(valid)}")
    return given[0]


def _int(value: object, where: str, *, low: int, what: str, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        _fail(where, f"must be {what}, got {shown(value)}")
    return value


def _text(value: object, where: str, *, valid: Sequence[str] = ()) -> str:
    if not isinstance(value, str) or (valid and value not in valid):
        expected = f"one of: {', '.join(valid)}" if valid else "a string"
        _fail(where, f"must be {expected}, got {shown(value)}")
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        _fail(where, f"must be true or false, got {shown(value)}")
    return value


def _seconds(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        _fail(where, f"must be a non-negative number of seconds, got {shown(value)}")
    return float(value)


def _strings(value: object, where: str) -> dict[str, str]:
    table = _table(value, where)
    for key, item in table.items():
        _text(item, _at(where, key))
    return table


def _api(where: str, declare: Callable[[], Any]) -> Any:
    """*declare*'s result; its TypeError or ValueError (the Python API's own check) told at *where*,
    or at the key the message starts with (``headers: ...`` is told at ``where.headers``)."""
    try:
        return declare()
    except (TypeError, ValueError, SigningUnavailableError) as exc:
        message = str(exc)
    key, colon, rest = message.partition(": ")
    if colon and key in _EVERY_KEY:
        _fail(_at(where, key), rest)
    _fail(where, message)


# -- answers --------------------------------------------------------------------------------
def _answer(table: Mapping[str, Any], kind: str, where: str) -> Outcome:
    """The outcome of a rule or step whose answer key is *kind* (one of ``_STEPS``)."""
    value = table[kind]
    headers = _strings(table["headers"], _at(where, "headers")) if "headers" in table else None
    status = _int(table.get("status", 200), _at(where, "status"), low=100, high=599, what="an HTTP status 100-599")
    outcome: Outcome
    if kind == "error":
        code = _int(value, _at(where, "error"), low=0, what="a documented Cobo error code such as 12009")
        entry = _api(_at(where, "error"), lambda: error_code(code))
        message = _text(table["message"], _at(where, "message")) if "message" in table else None
        fields = _table(table["fields"], _at(where, "fields")) if "fields" in table else None
        omit = table.get("omit", [])
        if not isinstance(omit, list) or not all(isinstance(name, str) for name in omit):
            _fail(_at(where, "omit"), f"must be a list of envelope field names, got {shown(omit)}")
        given_status = status if "status" in table else None
        outcome = _api(
            where,
            lambda: error(entry, status=given_status, message=message, headers=headers, fields=fields, omit=omit),
        )
    elif kind == "gateway":
        code = _int(value, _at(where, "gateway"), low=100, high=599, what="an HTTP status 100-599 such as 503")
        body = _text(table.get("body", "html"), _at(where, "body"))
        outcome = _api(where, lambda: gateway(code, body=body, headers=headers))
    elif kind == "network":
        outcome = NETWORK_FAULTS[_text(value, _at(where, "network"), valid=NETWORK_FAULT_KINDS)]()
    else:
        _api(_at(where, "succeed"), lambda: success(value))  # the result is told apart from the rest
        outcome = _api(where, lambda: success(value, status=status, headers=headers))
    if "signature" in table or "spelling" in table:
        signature = cast(
            "SignatureFault", _text(table.get("signature", "valid"), _at(where, "signature"), valid=SIGNATURE_FAULTS)
        )
        spelling = cast("Spelling", _text(table.get("spelling", "both"), _at(where, "spelling"), valid=SPELLINGS))
        unsigned = outcome
        outcome = _api(_at(where, "signature"), lambda: signed(unsigned, signature, spelling=spelling))
    return outcome


def _step(value: object, where: str) -> Outcome | int:
    """A sequence step: an int as the Python API takes it (a code; a status if 100-599), or a table."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, dict):
        _fail(where, f"must be an error code or status (int) or a table such as {{error = 1010}}, got {shown(value)}")
    table = _table(value, where)
    kind = _answer_key(table, where, tuple(_STEPS))
    _check_keys(table, where, _STEPS[kind])
    return _answer(table, kind, where)


def _options(rule: Mapping[str, Any], where: str) -> RuleOptions:
    options: RuleOptions = {}
    if "method" in rule:
        method = rule["method"]
        if not isinstance(method, str) or method.upper() not in _METHODS:
            _fail(_at(where, "method"), f"must be one of: {', '.join(_METHODS)}, got {shown(method)}")
        options["method"] = method.upper()
    if "path" in rule and "path_regex" in rule:
        _fail(where, "path and path_regex both given; give one")
    if "path" in rule:
        path = _text(rule["path"], _at(where, "path"))
        if not path.startswith("/"):
            _fail(
                _at(where, "path"), f"must start with '/', e.g. '/v1/custody/coin_info/' or '/v1/*', got {shown(path)}"
            )
        options["path"] = path
    if "path_regex" in rule:
        try:
            options["path"] = re.compile(_text(rule["path_regex"], _at(where, "path_regex")))
        except re.error as exc:
            _fail(_at(where, "path_regex"), f"not a regular expression: {exc}")
    if "delay" in rule:
        options["delay"] = _seconds(rule["delay"], _at(where, "delay"))
    if "trickle" in rule:
        options["trickle"] = _seconds(rule["trickle"], _at(where, "trickle"))
    if "optional" in rule:
        options["optional"] = _bool(rule["optional"], _at(where, "optional"))
    if "expect_calls" in rule:
        options["expect_calls"] = _int(rule["expect_calls"], _at(where, "expect_calls"), low=0, what="an int >= 0")
    for matcher in _MATCHERS:  # checked when the rule is declared, which load_scenario does all or nothing
        if matcher in rule:
            options[matcher] = rule[matcher]  # type: ignore[literal-required]
    return options


def _rule(rule: Mapping[str, Any], where: str) -> Callable[[CoboFaults], FaultRule]:
    """Check *rule* whole, and return what declares it on a fault set."""
    kind = _answer_key(rule, where, ANSWERS)
    article = "an" if kind[0] in "aeiou" else "a"
    _check_keys(rule, where, _RULE_KEYS[kind], f"{article} {kind}")
    options = _options(rule, where)
    if kind == "sequence":
        steps = rule["sequence"]
        if not isinstance(steps, list) or not steps:
            _fail(_at(where, "sequence"), f"must be a non-empty list of steps, got {shown(steps)}")
        outcomes = [_step(step, f"{where}.sequence[{i}]") for i, step in enumerate(steps)]
        repeat = _bool(rule.get("repeat_last", False), _at(where, "repeat_last"))
        return lambda faults: faults.sequence(outcomes, repeat_last=repeat, **options)
    if kind == "fail_then_succeed":
        inner = f"{where}.fail_then_succeed"
        table = _table(rule["fail_then_succeed"], inner)
        failing = _answer_key(table, inner, tuple(_STEPS))
        _check_keys(table, inner, (*_STEPS[failing], "times", "result"))
        fault = _answer({k: v for k, v in table.items() if k not in ("times", "result")}, failing, inner)
        times = _int(table.get("times", 1), _at(inner, "times"), low=1, what="a positive int")
        result = table.get("result")
        _api(_at(inner, "result"), lambda: success(result))
        return lambda faults: faults.fail_then_succeed(fault, times=times, result=result, **options)
    outcome = _answer(rule, kind, where)
    count = _int(rule["times"], _at(where, "times"), low=1, what="a positive int") if "times" in rule else None
    return lambda faults: faults.inject(outcome, times=count, **options)


def _signing(value: object) -> tuple[TestKey | None, Spelling] | None:
    """``sign``: whether to sign every Cobo answer, with which key and header spelling."""
    if value is False:
        return None
    if value is True:
        _api("sign", session_key)  # fails now if the signing extra is missing
        return None, "both"
    if not isinstance(value, dict):
        _fail("sign", f"must be true, false or a table {{key = ..., spelling = ...}}, got {shown(value)}")
    table = _table(value, "sign")
    _check_keys(table, "sign", ("key", "spelling"))
    spelling = cast("Spelling", _text(table.get("spelling", "both"), "sign.spelling", valid=SPELLINGS))
    if "key" not in table:
        _api("sign", session_key)
        return None, spelling
    private = _text(table["key"], "sign.key")
    try:
        return TestKey(private), spelling
    except SigningUnavailableError as exc:
        _fail("sign", str(exc))
    except ValueError:  # its message calls it private_key_hex; the value itself is not repeated
        _fail("sign.key", "must be 64 hex digits naming a secp256k1 private key (1 to n-1)")


# -- declaring ------------------------------------------------------------------------------
def load_scenario(faults: CoboFaults, scenario: object) -> list[FaultRule]:
    """Declare *scenario*'s rules on *faults*, after theirs, and turn on its signing; return the rules.

    The whole scenario is checked before anything is declared, so on a `ScenarioError` *faults*
    is as it was. *scenario* is what `read_scenario` or `parse_scenario` returns (or the same
    built in Python).
    """
    table = _table(scenario, "the scenario")
    _check_keys(table, "", ("rules", "sign"))
    signing = _signing(table.get("sign", False))
    rules = table.get("rules", [])
    if not isinstance(rules, list):
        _fail("rules", f"must be a list of tables ([[rules]] in TOML), got {shown(rules)}")
    declarations = [(f"rules[{i}]", _rule(_table(rule, f"rules[{i}]"), f"rules[{i}]")) for i, rule in enumerate(rules)]
    book = faults.book
    with book.lock:  # all or nothing: a transport may still refuse a rule (a delay in-process)
        before = len(book.rules)
        try:
            declared = [_api(where, functools.partial(declare, faults)) for where, declare in declarations]
        except ScenarioError:
            del book.rules[before:]
            raise
        if signing is not None:
            faults.sign_responses(signing[0], spelling=signing[1])
    return declared
