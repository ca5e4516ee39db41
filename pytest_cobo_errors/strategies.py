"""Hypothesis strategies for Cobo error bodies: well-formed envelopes, and the malformed ones that break clients.

The official Python SDK raises ``KeyError`` on the docs' own short envelope and ``JSONDecodeError``
on an HTML 502 page. These strategies let a property test find such crashes in your client::

    from hypothesis import given
    from pytest_cobo_errors import CoboFaults
    from pytest_cobo_errors.strategies import error_responses

    @given(response=error_responses())
    def test_client_survives_any_error(response):
        with CoboFaults(transports="httpx") as fault:  # fresh rules and calls for each example
            fault.inject(response, path="/v1/custody/coin_info/")
            with pytest.raises(MyClientError):  # its own error, not KeyError or JSONDecodeError
                my_client.coin_info("BTC")

Every value they generate can be injected as it is, ``fault.inject(value)``: an `ErrorResponse`
at its drawn status, a `MalformedBody` at its ``status``, an `EnvelopeDict` (a dict) at its
code's documented status. Each carries ``code``, the integer ``error_code`` its body holds, which
``--cobo-coverage`` and ``fault.served_codes()`` count.

`responses()` mixes genuine successes (``response.is_success``) in with the errors, so a property
can say "returns a result only for a real success, raises its own error for anything else".

Use `CoboFaults` per example rather than the ``cobo_fault`` fixture: a function-scoped fixture
is shared by every example of a ``@given`` test (Hypothesis's ``function_scoped_fixture`` health
check rejects it), and its rules and calls would leak from one example into the next. If you
must use the fixture, wrap each example in ``with cobo_fault.example():`` and suppress that
health check.

This is the only module of the plugin that imports Hypothesis, and nothing else imports it.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, TypeVar

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from pytest_cobo_errors.catalog import ERROR_CODES, ErrorCode, UnknownCodeError, error_code
from pytest_cobo_errors.envelopes import ENVELOPE_FIELDS, build_envelope, encode_json
from pytest_cobo_errors.outcomes import RawAnswer, gateway, respond

__all__ = [
    "DEFECTS",
    "GATEWAY_STATUSES",
    "EnvelopeDict",
    "ErrorResponse",
    "MalformedBody",
    "error_envelopes",
    "error_responses",
    "malformed_envelopes",
    "responses",
]

DEFECTS: Mapping[str, str] = MappingProxyType(
    {
        "empty_body": "an empty body, as a gateway or proxy sends it",
        "not_an_object": "JSON that is not an object: null, [], a string, a number, or an envelope wrapped in "
        "an array or encoded as a JSON string",
        "truncated_json": "an envelope cut off part-way, as a dropped connection or a size limit leaves it",
        "html_gateway_page": "an nginx-style HTML error page (text/html) from a gateway, no Cobo JSON",
        "no_content_type": "no Content-Type header at all: a gateway's or load balancer's empty page has none, "
        "and a misconfigured proxy strips it from a JSON envelope",
        "not_utf8": "an envelope whose bytes are not UTF-8: a stray 0xff byte, or text encoded as Latin-1, "
        "cp1252 or GBK",
        "short_form": "the docs' short envelope: success, error_code and error_description only, "
        "no error_message and no error_id",
        "missing_success": "the envelope without its success field",
        "missing_error_code": "the envelope without its error_code field",
        "missing_error_message": "the envelope without its error_message field",
        "missing_error_id": "the envelope without its error_id field",
        "missing_error_description": "the envelope without its error_description field",
        "success_as_string": 'success is a string ("false", "False", "0", "") instead of the boolean false',
        "success_true_with_error": "success is true, yet the body carries an error code",
        "success_at_error_status": 'a well-formed success body {"success": true, "result": ...} under a non-2xx '
        "status, as a proxy that rewrites statuses or a retrying gateway serves it",
        "code_as_string": 'error_code is a string: "12007"',
        "code_as_float": "error_code is a float: 12007.0",
        "code_as_bool": "error_code is a boolean",
        "code_as_null": "error_code is null",
        "code_as_list_or_object": 'error_code is a list ([12007]) or an object ({"code": 12007}), as an API '
        "that batches errors or wraps them in the v2 style would send it",
        "undocumented_code": "error_code is an integer in a documented family (1xxx, 12xxx) that Cobo does not "
        "document",
        "out_of_range_code": "error_code is an integer outside both families: 0, negative, 999, 13000, "
        "beyond 32 or 64 bits",
        "bad_error_id": "error_id is not 32 lowercase hex characters: empty, uppercase, a dashed UUID, "
        "too short, too long, not hex, or a number",
        "extra_keys": "fields beyond the five (result, data, request_id, ...)",
        "duplicate_keys": "one field appears twice in the JSON object, the second time with another valid value",
        "huge_values": "error_message and error_description of 64 KiB to 1 MiB characters",
        "huge_number": "error_code with more digits (4301 or more) than CPython's int parser accepts: "
        "json.loads raises ValueError, not JSONDecodeError",
    }
)
"""Every defect `malformed_envelopes` generates, name -> description, simplest first.

Shrinking moves toward the front of this order: the falsifying example of a client that crashes
on several defects is the simplest one for `malformed_envelopes`, and an earlier one, usually
the simplest, for `error_responses` and `responses` (see `_kinds`).
"""

GATEWAY_STATUSES: tuple[int, ...] = (502, 503, 504, 500, 429)
"""Statuses a proxy or gateway in front of Cobo answers with, most common first."""

_JSON = "application/json"
_HTML = "text/html"
_PREVIEW = 60
_EXTRA_FIELDS: Mapping[str, Any] = MappingProxyType(
    {
        "result": None,
        "data": {},
        "request_id": "req-1",
        "error_data": {"field": "amount"},
        "http_status": 400,
        "timestamp": 1700000000000,
    }
)
_FAMILIES = {"1": range(1000, 2000), "12": range(12000, 13000)}
_UNDOCUMENTED = tuple(c for r in _FAMILIES.values() for c in r if c not in ERROR_CODES)
_OUT_OF_RANGE = (0, -1, 999, 2000, 11999, 13000, 65535, 2**31, 2**63, 2**64, 10**30, -(2**63))
# (encoding, message): each encodes to bytes that are not valid UTF-8
_NOT_UTF8 = (
    ("utf-8", "\udcff"),  # a stray 0xff byte, via surrogateescape
    ("latin-1", "Solde insuffisant, réessayez"),
    ("cp1252", "Insufficient balance – “retry”"),
    ("gbk", "余额不足"),
)
_HUGE_SIZES = (1 << 16, 1 << 18, 1 << 20)
_HUGE_FILLERS = ("x", "Insufficient balance. ", "余额不足")
_HUGE_DIGITS = (4301, 5000, 10000)


def _preview(body: bytes) -> str:
    shown = repr(body[:_PREVIEW])
    return shown if len(body) <= _PREVIEW else f"{shown}..."


@dataclass(frozen=True, slots=True)
class MalformedBody:
    """A response body that is wrong in exactly one way, named by ``defect`` (a key of `DEFECTS`).

    Its repr starts with the defect, so Hypothesis's falsifying example says what broke the client.
    ``status`` is the HTTP status the body belongs with: `malformed_envelopes` always sets it (see
    there); None only in a body built by hand. ``code`` is the error code the body carries (see
    `ErrorResponse`), or None. ``fault.inject(body)`` serves it as it is (`outcome`).
    """

    defect: str
    body: bytes
    content_type: str = _JSON
    status: int | None = None
    code: int | None = None

    @property
    def description(self) -> str:
        """What is wrong with this body, in words."""
        return DEFECTS[self.defect]

    def outcome(self, *, status: int | None = None) -> RawAnswer:
        """The raw response ``cobo_fault.inject(body)`` serves: these bytes with this Content-Type
        (none if empty), at *status*, else at ``self.status`` (400 if that is None)."""
        chosen = status if status is not None else 400 if self.status is None else self.status
        headers = dict(_headers(self.content_type)) or None
        return respond(chosen, self.body, headers=headers, code=self.code)

    def __repr__(self) -> str:
        status = "" if self.status is None else f"HTTP {self.status}, "
        content_type = self.content_type or "no Content-Type"
        return f"{self.defect}: {_preview(self.body)} ({status}{len(self.body)} bytes, {content_type})"

    # Hypothesis prints dataclasses field by field; this makes it print the readable repr instead.
    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """A complete HTTP response for ``cobo_fault.inject(...)``: status, headers and body bytes.

    ``defect`` names what is wrong with the body (a key of `DEFECTS`), or is None for a
    well-formed envelope of the documented ``code``. ``is_success`` marks a genuine success
    (`responses` makes them): ``{"success": true, "result": ...}`` at a 2xx status, no defect, no code.

    ``code`` is the error code the body carries, malformed or not: its ``error_code`` when that
    is a JSON integer (not a string such as ``"12007"``, a float, a bool or a list) in a JSON object,
    read as ``json.loads`` reads it (the last of a repeated key) once bytes that are not UTF-8 are
    replaced; None otherwise. An undocumented or out-of-range integer is carried too; only
    documented codes count in ``--cobo-coverage``. A short-form body of 12009 carries 12009; a
    string ``"12007"`` carries none, as a strict client reads no code from it.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    defect: str | None = None
    code: int | None = None
    is_success: bool = False

    @property
    def label(self) -> str:
        """``"success"``, ``"well_formed 12007"`` or the defect name."""
        if self.is_success:
            return "success"
        return f"well_formed {self.code}" if self.defect is None else self.defect

    def outcome(self) -> RawAnswer:
        """The raw response to serve, exactly as generated (what ``cobo_fault.inject`` calls)."""
        return respond(self.status, self.body, headers=dict(self.headers), code=self.code)

    def __repr__(self) -> str:
        return f"{self.label} as HTTP {self.status}: {_preview(self.body)} ({len(self.body)} bytes)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class EnvelopeDict(dict[str, Any]):
    """A well-formed Cobo error envelope, as `error_envelopes` generates it: a plain ``dict`` (it
    compares equal to one, ``json.dumps`` writes it), which ``cobo_fault.inject(envelope)`` also takes.

    ``EnvelopeDict(12007, message=None, error_id="...")`` is ``build_envelope(...)``'s dict, as a
    falsifying example prints it. Injected, it is served as JSON, exactly as it then holds, at
    ``status``: its code's documented status (`outcome`).
    """

    __slots__ = ()

    def __init__(self, code: int | ErrorCode, *, message: str | None = None, error_id: str | None = None) -> None:
        super().__init__(build_envelope(code, message=message, error_id=error_id))

    @property
    def code(self) -> int | None:
        """Its ``error_code``, if that is an int (it is, unless the dict was changed)."""
        return _int_code(self)

    @property
    def status(self) -> int:
        """The documented HTTP status of its code (`ErrorCode.default_status`), 400 for any other."""
        code = self.code
        entry = None if code is None else ERROR_CODES.get(code)
        return 400 if entry is None else entry.default_status

    def outcome(self, *, status: int | None = None) -> RawAnswer:
        """The response ``cobo_fault.inject(envelope)`` serves: the dict as JSON (UTF-8, non-ASCII
        kept), ``Content-Type: application/json``, at *status*, else at `status`."""
        body = encode_json(self, "the envelope")
        return respond(self.status if status is None else status, body, headers={"Content-Type": _JSON}, code=self.code)


def _int_code(envelope: Mapping[str, Any]) -> int | None:
    code = envelope.get("error_code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


# -- argument checks ------------------------------------------------------------------------------
def _check_code(value: object) -> int:
    if isinstance(value, ErrorCode):
        return value.code
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"codes must hold ints such as 12007, got {type(value).__name__} {value!r}")
    try:
        return error_code(value).code
    except UnknownCodeError as exc:
        raise InvalidArgument(str(exc)) from None


def _check_family(family: object) -> range | None:
    if family is None:
        return None
    if not isinstance(family, str) or family not in _FAMILIES:
        raise InvalidArgument(f"family must be '1' (codes 1xxx) or '12' (codes 12xxx), got {family!r}")
    return _FAMILIES[family]


def _codes(codes: Iterable[int | ErrorCode] | SearchStrategy[int] | None, family: object) -> SearchStrategy[int]:
    span = _check_family(family)
    if isinstance(codes, SearchStrategy):
        checked = codes.map(_check_code)
        return checked if span is None else checked.filter(span.__contains__)
    if codes is None:
        chosen = list(ERROR_CODES)
    elif isinstance(codes, (str, bytes)) or not isinstance(codes, Iterable):
        raise InvalidArgument(f"codes must be a list of documented codes or a strategy of them, got {codes!r}")
    else:
        chosen = list(dict.fromkeys(_check_code(c) for c in codes))
        if not chosen:
            raise InvalidArgument("codes is empty: give at least one documented code, or None for all 41")
    inside = [c for c in chosen if span is None or c in span]
    if not inside:
        raise InvalidArgument(f"none of codes {chosen} is in family {family!r}")
    return st.sampled_from(inside)


def _statuses(statuses: Iterable[int] | SearchStrategy[int]) -> SearchStrategy[int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
            raise InvalidArgument(f"statuses must hold HTTP statuses from 100 to 599, got {value!r}")
        return value

    if isinstance(statuses, SearchStrategy):
        return statuses.map(check)
    if isinstance(statuses, (str, bytes)) or not isinstance(statuses, Iterable):
        raise InvalidArgument(f"statuses must be a list of HTTP statuses or a strategy of them, got {statuses!r}")
    chosen = list(dict.fromkeys(check(s) for s in statuses))
    if not chosen:
        raise InvalidArgument("statuses is empty: give at least one HTTP status, or None for the defaults")
    return st.sampled_from(chosen)


def _check_defects(defects: Collection[str] | None) -> list[str]:
    if defects is None:
        return list(DEFECTS)
    if isinstance(defects, str) or not isinstance(defects, Iterable):
        raise InvalidArgument(f"defects must be a list of names from DEFECTS, got {defects!r}")
    wanted = list(defects)
    for name in wanted:
        if name not in DEFECTS:
            near = difflib.get_close_matches(str(name), DEFECTS, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InvalidArgument(f"unknown defect {name!r}; {hint}valid: {', '.join(DEFECTS)}")
    if not wanted:
        raise InvalidArgument("defects is empty: give at least one name from DEFECTS, or None for all")
    # Always DEFECTS order, whatever order was asked for: shrinking moves toward the simplest.
    return [name for name in DEFECTS if name in wanted]


# -- well-formed envelopes ------------------------------------------------------------------------
def _error_ids() -> SearchStrategy[str]:
    return st.uuids(version=4).map(lambda u: u.hex)


def error_envelopes(
    *,
    codes: Iterable[int | ErrorCode] | SearchStrategy[int] | None = None,
    family: str | None = None,
    messages: SearchStrategy[str] | None = None,
) -> SearchStrategy[EnvelopeDict]:
    """Well-formed Cobo error envelopes: the five fields, for documented codes, as parsed JSON.

    Each is an `EnvelopeDict`: a dict, which ``cobo_fault.inject(envelope)`` serves at its
    code's documented status (``inject(envelope.outcome(status=200))`` at another).

    ``codes`` narrows the codes (a list, or a strategy of ints; default all 41, shrinking toward
    the first); ``family`` keeps only ``"1"`` (1xxx) or ``"12"`` (12xxx) codes. ``messages``
    draws ``error_message`` (default: the documented title or any text); ``error_description``
    equals it, as in every published example, and ``error_id`` is a UUID4 as 32 lowercase hex.
    """
    if messages is not None and not isinstance(messages, SearchStrategy):
        raise InvalidArgument(f"messages must be a strategy of str, such as st.text(), got {messages!r}")
    return _valid(_codes(codes, family), messages)


def _valid(codes: SearchStrategy[int], messages: SearchStrategy[str] | None) -> SearchStrategy[EnvelopeDict]:
    # builds() rather than tuples().map(): measurably faster under @given, and a falsifying
    # example prints as the EnvelopeDict(...) call that rebuilds it.
    drawn_messages = _MESSAGES if messages is None else messages.map(_check_message)
    return st.builds(EnvelopeDict, codes, message=drawn_messages, error_id=_error_ids())


def _check_message(message: object) -> str:
    if not isinstance(message, str):
        raise InvalidArgument(f"messages must generate str, got {type(message).__name__} {message!r}")
    return message


_MESSAGES: SearchStrategy[str | None] = st.one_of(st.none(), st.text())  # None: the documented title


# -- malformed envelopes --------------------------------------------------------------------------
# Every body is built from the same draws: (kind, code, error_id, param), the kind first (`_chain`
# for malformed_envelopes, one draw for error_responses: see `_kinds`). Hypothesis shrinks toward
# shorter, then smaller, choice sequences, so toward the kinds earlier in DEFECTS, and a defect's
# simplest form is the one it builds for param 0.
_PARAM = st.integers(0, (1 << 16) - 1)
_Envelope = dict[str, Any]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _pairs(items: Iterable[tuple[str, str]]) -> bytes:
    """A JSON object from (key, raw JSON value) pairs: keys may repeat, values are written as given."""
    return ("{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in items) + "}").encode("utf-8")


def _pick(options: tuple[Any, ...], param: int) -> Any:
    return options[param % len(options)]


def _json_body(defect: str, envelope: _Envelope) -> MalformedBody:
    """*envelope* as a JSON body, carrying its error_code if that is an int."""
    return MalformedBody(defect, _dumps(envelope), code=_int_code(envelope))


def _empty_body(env: _Envelope, param: int) -> MalformedBody:
    return MalformedBody("empty_body", b"")


_NON_OBJECTS = ("null", "[]", '""', "0", "true", '"Internal Server Error"')


def _not_an_object(env: _Envelope, param: int) -> MalformedBody:
    choice = param % (len(_NON_OBJECTS) + 2)
    if choice < len(_NON_OBJECTS):
        raw = _NON_OBJECTS[choice]
    elif choice == len(_NON_OBJECTS):
        raw = _text([env])  # the envelope, wrapped in an array
    else:
        raw = _text(_text(env))  # the envelope, encoded twice: a JSON string
    return MalformedBody("not_an_object", raw.encode("utf-8"))


def _truncated_json(env: _Envelope, param: int) -> MalformedBody:
    text = _text(env)
    # cut whole characters, so the bytes stay UTF-8 and only the JSON is broken
    return MalformedBody("truncated_json", text[: 1 + param % (len(text) - 1)].encode("utf-8"))


def _gateway_html(status: int) -> bytes:
    return gateway(status, body="html").render().body


def _html_gateway_page(env: _Envelope, param: int) -> MalformedBody:
    status: int = _pick(GATEWAY_STATUSES, param)
    return MalformedBody("html_gateway_page", _gateway_html(status), _HTML, status)


def _no_content_type(env: _Envelope, param: int) -> MalformedBody:
    # a gateway's empty page (param even), or the envelope itself with its header stripped
    if param % 2 == 0:
        return MalformedBody("no_content_type", b"", "")
    return MalformedBody("no_content_type", _dumps(env), "", code=env["error_code"])


def _not_utf8(env: _Envelope, param: int) -> MalformedBody:
    encoding, text = _pick(_NOT_UTF8, param)
    message = env["error_message"] + text if encoding == "utf-8" else text
    body = _text({**env, "error_message": message, "error_description": message})
    # the code is ASCII, readable once the bytes that are not UTF-8 are replaced
    return MalformedBody("not_utf8", body.encode(encoding, "surrogateescape"), code=env["error_code"])


def _short_form(env: _Envelope, param: int) -> MalformedBody:
    short = {"success": False, "error_code": env["error_code"], "error_description": env["error_description"]}
    return _json_body("short_form", short)


# what a genuine success carries in "result": an object, and the plain values some endpoints answer with
# (is_valid_address answers an invalid address with result false: a success, not an error)
_RESULTS: tuple[Any, ...] = ({"coin": "BTC", "decimal": 8}, False, [], {}, "ok", 0)
_ERROR_STATUSES = (500, 400, 502, 503, 404, 409)


def _success_body(param: int) -> bytes:
    return _dumps({"success": True, "result": _pick(_RESULTS, param)})


def _success_at_error_status(env: _Envelope, param: int) -> MalformedBody:
    status: int = _pick(_ERROR_STATUSES, param // len(_RESULTS))
    return MalformedBody("success_at_error_status", _success_body(param), _JSON, status)


def _without(field: str) -> Callable[[_Envelope, int], MalformedBody]:
    defect = f"missing_{field}"

    def make(env: _Envelope, param: int) -> MalformedBody:
        return _json_body(defect, {k: v for k, v in env.items() if k != field})

    return make


def _replaced(
    defect: str, field: str, value: Callable[[_Envelope, int], Any]
) -> Callable[[_Envelope, int], MalformedBody]:
    def make(env: _Envelope, param: int) -> MalformedBody:
        return _json_body(defect, {**env, field: value(env, param)})

    return make


def _out_of_range(env: _Envelope, param: int) -> int:
    # Each named value as often as the open-ended 13000 + n: they are what breaks clients (0 is falsy,
    # -1 a sentinel, 2**31 and up overflow fixed-width integers). Taken only for param < 12, they
    # were about 2% of these bodies, and the values beyond 32 bits almost never came.
    choice = param % (len(_OUT_OF_RANGE) + 1)
    return _OUT_OF_RANGE[choice] if choice < len(_OUT_OF_RANGE) else 13000 + param


# Every form breaks a client that expects 32 lowercase hex characters; only these five also break
# one that parses the id as a UUID (uuid.UUID(hex=...) accepts upper case and dashes), so they come
# fifteen times in sixteen and the two canonical-looking forms once each in thirty-two.
_UNPARSEABLE_IDS: tuple[Callable[[str], Any], ...] = (
    lambda h: "",
    lambda h: h[:31],
    lambda h: h + "0",
    lambda h: "z" + h[1:],
    lambda h: int(h[:12], 16),
)
_NON_CANONICAL_IDS: tuple[Callable[[str], Any], ...] = (
    str.upper,
    lambda h: f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}",
)
_BAD_ERROR_IDS = _UNPARSEABLE_IDS * 6 + _NON_CANONICAL_IDS


def _extra_keys(env: _Envelope, param: int) -> MalformedBody:
    mask = 1 + param % ((1 << len(_EXTRA_FIELDS)) - 1)  # a non-empty subset of the extra fields
    extra = {name: value for bit, (name, value) in enumerate(_EXTRA_FIELDS.items()) if mask >> bit & 1}
    return _json_body("extra_keys", {**env, **extra})


def _other_value(env: _Envelope, field: str) -> Any:
    """Another value that is valid for *field*, so a repeated key is the body's only defect."""
    if field == "error_code":
        codes = list(ERROR_CODES)
        return codes[(codes.index(env["error_code"]) + 1) % len(codes)]
    if field == "error_id":
        return env["error_id"][::-1]
    if field == "success":
        return False
    return env[field] + " (repeated)"


def _duplicate_keys(env: _Envelope, param: int) -> MalformedBody:
    field: str = _pick(ENVELOPE_FIELDS, param)
    value = env[field] if param // len(ENVELOPE_FIELDS) % 2 == 0 else _other_value(env, field)
    items = [(k, _text(v)) for k, v in env.items()]
    code = value if field == "error_code" else env["error_code"]  # json.loads keeps the last
    return MalformedBody("duplicate_keys", _pairs([*items, (field, _text(value))]), code=code)


def _huge_values(env: _Envelope, param: int) -> MalformedBody:
    size: int = _pick(_HUGE_SIZES, param)
    filler: str = _pick(_HUGE_FILLERS, param // len(_HUGE_SIZES))
    # The bytes json.dumps writes for {**env, "error_message": text, "error_description": text}, but
    # with the text encoded once for both fields and the body joined once: 1.7 ms a body, not 4.1
    # (a huge body is one example in 23, and was a fifth of error_responses()'s time).
    huge = _text((filler * (size // len(filler) + 1))[:size]).encode("utf-8")
    pieces = [b"{"]
    for key, value in env.items():
        raw = huge if key in ("error_message", "error_description") else _text(value).encode("utf-8")
        pieces += [b", " if len(pieces) > 1 else b"", _text(key).encode("utf-8"), b": ", raw]
    return MalformedBody("huge_values", b"".join([*pieces, b"}"]), code=_int_code(env))


def _huge_number(env: _Envelope, param: int) -> MalformedBody:
    digits: int = _pick(_HUGE_DIGITS, param)
    # written as raw JSON: CPython cannot even turn an int this long into a str
    items = [(k, "9" * digits if k == "error_code" else _text(v)) for k, v in env.items()]
    return MalformedBody("huge_number", _pairs(items))


_MAKERS: Mapping[str, Callable[[_Envelope, int], MalformedBody]] = MappingProxyType(
    {
        "empty_body": _empty_body,
        "not_an_object": _not_an_object,
        "truncated_json": _truncated_json,
        "html_gateway_page": _html_gateway_page,
        "no_content_type": _no_content_type,
        "not_utf8": _not_utf8,
        "short_form": _short_form,
        **{f"missing_{field}": _without(field) for field in ENVELOPE_FIELDS},
        "success_as_string": _replaced(
            "success_as_string", "success", lambda env, p: _pick(("false", "False", "0", ""), p)
        ),
        "success_true_with_error": _replaced("success_true_with_error", "success", lambda env, p: True),
        "success_at_error_status": _success_at_error_status,
        "code_as_string": _replaced("code_as_string", "error_code", lambda env, p: str(env["error_code"])),
        "code_as_float": _replaced("code_as_float", "error_code", lambda env, p: float(env["error_code"])),
        "code_as_bool": _replaced("code_as_bool", "error_code", lambda env, p: bool(p % 2)),
        "code_as_null": _replaced("code_as_null", "error_code", lambda env, p: None),
        "code_as_list_or_object": _replaced(
            "code_as_list_or_object",
            "error_code",
            lambda env, p: _pick(([env["error_code"]], {"code": env["error_code"]}, [], {}), p),
        ),
        "undocumented_code": _replaced("undocumented_code", "error_code", lambda env, p: _pick(_UNDOCUMENTED, p)),
        "out_of_range_code": _replaced("out_of_range_code", "error_code", _out_of_range),
        "bad_error_id": _replaced("bad_error_id", "error_id", lambda env, p: _pick(_BAD_ERROR_IDS, p)(env["error_id"])),
        "extra_keys": _extra_keys,
        "duplicate_keys": _duplicate_keys,
        "huge_values": _huge_values,
        "huge_number": _huge_number,
    }
)


def _malformed_body(defect: str, code: int, error_id: str, param: int) -> MalformedBody:
    """The body of *defect*, with a status only if it has its own (a gateway page, a success body)."""
    body = _MAKERS[defect](build_envelope(code, error_id=error_id), param)
    event(f"cobo defect: {defect}")  # shown by --hypothesis-show-statistics
    return body


def _malformed_envelope(defect: str, code: int, error_id: str, param: int) -> MalformedBody:
    """`_malformed_body`, at its natural status: its own, a gateway's for an empty page, else *code*'s."""
    body = _malformed_body(defect, code, error_id, param)
    if body.status is not None:
        return body
    return replace(body, status=GATEWAY_STATUSES[0] if not body.body else ERROR_CODES[code].default_status)


_T = TypeVar("_T")


def _kinds(kinds: Sequence[_T]) -> SearchStrategy[_T]:
    """Choose one of *kinds*, each entry equally often, in one draw; shrinking moves toward the first.

    For `error_responses`, over its `_weighted` kinds: one sampled_from draw, made first. `_chain`
    lets the shrinker reach the earliest failing kind from any later one, but costs about a third
    of the examples per second, and as Hypothesis makes the first tenth of a run's examples from a
    random prefix of one or two choices completed with the simplest ones, it gives those examples
    the first two kinds (measured: empty_body came up in 7.5% of examples, not 3.6%); one draw is
    random in them too.
    The shrinker lowers it to 0, 1, and step by step while the lower kind still fails: it reaches
    the earliest failing kind when the kinds between fail too, and may stop at a later one
    otherwise (measured: it reached the earlier kind of 15 random pairs 12 times).

    Across a run the draws are as independent as Hypothesis makes them, but for that first tenth:
    each new prefix runs twice, completed with the simplest choices and then at random, so 5 of
    the first 11 examples repeat the kind before them (measured over 100 seeds; later, 3.7% of
    neighbours share a kind, as independent draws would). A kind taken from the sum of the first
    and the last draw differs between the two, but it bought about 5 more kinds a run (under a
    point on any bug of benchmarks/bench_bugs.py) for a sixth of the examples per second, so the
    kind stays one draw.
    """
    return st.just(kinds[0]) if len(kinds) == 1 else st.sampled_from(kinds)


def _chain(kinds: Sequence[_T]) -> SearchStrategy[_T]:
    """Choose one of *kinds*, each about equally often; shrinking reaches the earliest that fails.

    Step j draws an index below len(kinds) - j and takes kinds[j] on 0 (probability 1 / the
    kinds left: uniform overall). Choosing kinds[j] takes j + 1 draws, so every earlier kind is
    a shorter choice sequence, one draw lowered to 0 away: the shrinker tries each of them. The
    steps use sampled_from, not integers(), whose bias toward boundary values skews the chain
    toward the first kinds. Used by `malformed_envelopes`, whose examples are about bodies alone.
    """
    if len(kinds) == 1:
        return st.just(kinds[0])
    steps = [st.sampled_from(range(len(kinds) - j)) for j in range(len(kinds) - 1)]

    @st.composite
    def chain(draw: st.DrawFn) -> _T:
        for kind, step in zip(kinds[:-1], steps, strict=True):
            if draw(step) == 0:
                return kind
        return kinds[-1]

    return chain()


def malformed_envelopes(
    *,
    defects: Collection[str] | None = None,
    codes: Iterable[int | ErrorCode] | SearchStrategy[int] | None = None,
    family: str | None = None,
) -> SearchStrategy[MalformedBody]:
    """Response bodies that are each wrong in one way, as `MalformedBody` (``.defect``, ``.body`` bytes).

    ``defects`` keeps only some names of `DEFECTS` (default: all, about equally often); whatever
    order they are given in, shrinking follows `DEFECTS` order, simplest first, so a falsifying
    example shows the simplest defect that breaks the client, in its simplest form. ``codes``
    and ``family`` choose the documented codes the bodies are built from, as for `error_envelopes`.

    Every body has a ``status``, the one it naturally comes with: a gateway page's own, the error
    status a success body is served under, 502 for an empty page (``empty_body``, and the empty
    ``no_content_type`` page), and for any other the documented status of the code it was built
    from. ``code`` is the error code the body carries (see `ErrorResponse`). ``fault.inject(body)``
    serves it as it is; ``fault.inject(body.outcome(status=200))`` at another status.
    """
    chosen = _check_defects(defects)
    return st.builds(_malformed_envelope, _chain(chosen), _codes(codes, family), _error_ids(), _PARAM)


# -- complete responses ---------------------------------------------------------------------------
# Clients take different paths on a 2xx (decide success from the body), a 4xx (an API error) and a
# 5xx (retry, or a gateway's page), so every kind is drawn under each status class: "error" (the
# code's own status, 400 for a malformed body; index 0, where shrinking goes), 200, or a gateway
# 5xx. Half of all answers are 2xx, where a client trusts the body and most body bugs show. The
# defects of the success flag come at 200 seven times in eight: a client that checks the status
# first reads the flag only on a 2xx, so elsewhere they are just another error body.
_STATUS_CLASSES = ("error",) * 4 + ("2xx",) * 8 + ("5xx",) * 4
_SUCCESS_FLAG_CLASSES = ("error",) + ("2xx",) * 14 + ("5xx",)
_SUCCESS_FLAG_KINDS = frozenset({"missing_success", "success_as_string", "success_true_with_error"})
_5XX = (502, 503, 504, 500)
assert len(_STATUS_CLASSES) == len(_SUCCESS_FLAG_CLASSES)  # one drawn index serves both
_SUCCESS_SHARE = 5  # responses(): one in this many is a genuine success
_OPT_IN_DEFECTS = ("success_at_error_status",)  # error_responses() makes them only when named

# Kinds drawn at half weight when the kinds named beside them are drawn too: every client path
# they reach (the check a client makes, the exception it raises) is also reached by those kinds,
# which alone reach a path of their own, so a bug only one kind shows (a missing Content-Type, a
# JSON body that is not an object) gets the larger share. Measured over 400 runs of 100 examples:
# a kind at the full share (2 in 47 by default) is missing from 1.5% of runs, where at 1 in 27 it
# was 2.9%; a kind at half share from 14%, while the kinds that cover it are there.
_COVERED_BY: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # json.loads rejects it under application/json as it does a cut envelope; the empty page is no_content_type's
        "empty_body": ("truncated_json", "no_content_type"),
        "missing_error_message": ("short_form",),  # the short form lacks error_message too
        "missing_error_id": ("short_form",),  # and error_id
        # not an int to compare, type-check or format, as a list is; not in the catalog, as 0 or 13000 is
        "code_as_string": ("code_as_list_or_object", "out_of_range_code"),
        "code_as_float": ("code_as_list_or_object",),  # compared and looked up, 12007.0 is 12007
        "code_as_bool": ("code_as_list_or_object", "out_of_range_code"),  # ints no code has, as 0 (False falsy too)
        "code_as_null": ("code_as_list_or_object", "missing_error_code"),  # .get reads None for a missing key too
    }
)


def _weighted(kinds: Sequence[str | None]) -> tuple[str | None, ...]:
    """*kinds* in order, each twice, or once for a `_COVERED_BY` kind whose covering kinds are drawn
    too: one uniform draw over the result gives each its weight, and shrinking still moves toward
    the first."""
    if len(kinds) < 2:
        return tuple(kinds)
    drawn = set(kinds)

    def copies(kind: str | None) -> int:
        covering = _COVERED_BY.get(kind) if kind is not None else None
        return 1 if covering and drawn.issuperset(covering) else 2

    return tuple(kind for kind in kinds for _ in range(copies(kind)))


def _headers(content_type: str) -> tuple[tuple[str, str], ...]:
    return (("Content-Type", content_type),) if content_type else ()


def error_responses(
    *,
    statuses: Iterable[int] | SearchStrategy[int] | None = None,
    valid: bool = True,
    malformed: bool = True,
    codes: Iterable[int | ErrorCode] | SearchStrategy[int] | None = None,
    family: str | None = None,
    defects: Collection[str] | None = None,
) -> SearchStrategy[ErrorResponse]:
    """Complete error responses (status, headers, body) as `ErrorResponse`, ready for ``cobo_fault.inject``.

    With ``valid``, well-formed envelopes (as `error_envelopes` makes them); with ``malformed``, the
    bodies of `malformed_envelopes`, except ``success_at_error_status``: whether a success body
    under an error status is an error is the client's policy (the official SDKs ignore the status),
    so it comes only when ``defects`` names it, and by default in `responses`, whose properties tell
    a genuine success apart. Every kind comes equally often, but for seven at half that share
    (``empty_body``, ``missing_error_message``, ``missing_error_id``, ``code_as_string|float|bool|null``)
    when the kinds that reach every client path they reach are drawn too (``truncated_json`` and
    ``no_content_type``, ``short_form``, ``code_as_list_or_object`` with ``out_of_range_code`` or
    ``missing_error_code``): a bug only one kind shows is then found in more runs. Each is served
    under one of the status classes where clients take different paths: the code's own status (400
    for a malformed body), 200, or a gateway 5xx; half of all responses are 200, and the defects of
    the success flag are at 200 seven times in eight (a client that checks the status first
    reads the flag only there). An HTML page and a success body under an error status keep their
    own status. ``statuses`` (a list or a strategy of ints) replaces those choices for every
    response, and an HTML page then names it. Shrinking moves toward a well-formed envelope at its
    code's status, then along `DEFECTS`; a falsifying example prints as its label, status and first
    bytes.
    """
    return _responses(
        statuses=statuses,
        valid=valid,
        malformed=malformed,
        codes=codes,
        family=family,
        defects=defects,
        successes=False,
    )


def responses(
    *,
    statuses: Iterable[int] | SearchStrategy[int] | None = None,
    valid: bool = True,
    malformed: bool = True,
    codes: Iterable[int | ErrorCode] | SearchStrategy[int] | None = None,
    family: str | None = None,
    defects: Collection[str] | None = None,
) -> SearchStrategy[ErrorResponse]:
    """`error_responses`, and genuine successes among them: about one response in five is a
    well-formed ``{"success": true, "result": ...}`` at 200, with ``is_success`` set (label ``success``).

    A property can then say what a client must do with each: return a result exactly when
    ``response.is_success``, and raise its own error otherwise. The arguments are those of
    `error_responses`, and every defect of `DEFECTS` comes by default, ``success_at_error_status``
    too (a success body under an error status is not a genuine success). A success keeps a drawn
    2xx status from ``statuses``, and is served at 200 otherwise. Shrinking moves toward an error
    response, never toward a success.
    """
    return _responses(
        statuses=statuses, valid=valid, malformed=malformed, codes=codes, family=family, defects=defects, successes=True
    )


def _responses(
    *,
    statuses: Iterable[int] | SearchStrategy[int] | None,
    valid: object,
    malformed: object,
    codes: Iterable[int | ErrorCode] | SearchStrategy[int] | None,
    family: str | None,
    defects: Collection[str] | None,
    successes: bool,
) -> SearchStrategy[ErrorResponse]:
    if not isinstance(valid, bool) or not isinstance(malformed, bool):
        raise InvalidArgument(f"valid and malformed must be booleans, got valid={valid!r}, malformed={malformed!r}")
    if not (valid or malformed):
        raise InvalidArgument("valid=False and malformed=False leave nothing to generate")
    if defects is not None and not malformed:
        raise InvalidArgument("defects= chooses malformed bodies, but malformed=False")
    kinds: list[str | None] = [None] if valid else []
    if malformed:
        chosen = _check_defects(defects)
        # error_responses() promises bodies that every client must turn into its own error, and
        # whether a success body under a 5xx is one is the client's policy (the official SDKs
        # ignore the status): it is asked for by name there, and by default in responses()
        opt_in = () if defects is not None or successes else _OPT_IN_DEFECTS
        kinds += [name for name in chosen if name not in opt_in]
    code_strategy = _codes(codes, family)
    given = None if statuses is None else _statuses(statuses)
    # tuples, not ranges: a range would share its label with a step of `_kinds`, and Hypothesis's
    # generator would then copy draws between the two, repeating kinds within a run
    # Three small uniform draws: the kind, its status class, whether it is a genuine success. One
    # sampled_from over all (kind, class) cells would be one draw, but Hypothesis skews a draw
    # from a long list toward its start (measured: the last fifth of 560 cells came up half as
    # often as the first). Tuples, not ranges: equal labels would let Hypothesis's generator copy
    # a draw from one to the other, repeating kinds within a run.
    status_index = st.sampled_from(tuple(range(len(_STATUS_CLASSES)))) if given is None else given
    # every kind draws a message, used or not, so all kinds take the same draws after the kind
    messages = _MESSAGES if valid else st.none()
    respond_with = functools.partial(_response, given=given is not None)
    extra = {"genuine": st.sampled_from(tuple(range(_SUCCESS_SHARE)))} if successes else {}
    return st.builds(
        respond_with,
        _kinds(_weighted(kinds)),
        code=code_strategy,
        error_id=_error_ids(),
        param=_PARAM,
        message=messages,
        status=status_index,
        **extra,
    )


def _response(
    kind: str | None,
    *,
    code: int,
    error_id: str,
    param: int,
    message: str | None,
    status: int,
    given: bool,
    genuine: int = 0,
) -> ErrorResponse:
    if genuine == _SUCCESS_SHARE - 1:  # the last index, so shrinking moves away from successes
        if not (given and 200 <= status < 300):
            status = 200
        event("cobo response: success")
        return ErrorResponse(status, _headers(_JSON), _success_body(param), is_success=True)
    classes = _SUCCESS_FLAG_CLASSES if kind in _SUCCESS_FLAG_KINDS else _STATUS_CLASSES
    status_class = "" if given else classes[status]
    if kind is None:
        envelope = build_envelope(code, message=message, error_id=error_id)
        if status_class:
            status = {"error": ERROR_CODES[code].default_status, "2xx": 200}.get(status_class) or _pick(
                _5XX, param >> 8
            )
        return ErrorResponse(status, _headers(_JSON), _dumps(envelope), None, code)
    body = _malformed_body(kind, code, error_id, param)
    content = body.body
    if status_class:
        status = {"error": 400, "2xx": 200}.get(status_class) or _pick(_5XX, param >> 8)
    if body.status is not None:
        if given and body.defect == "html_gateway_page":
            content = _gateway_html(status)  # the page names the status it is served with
        elif not given or 200 <= status < 300:
            status = body.status  # a success body at an error status stays at one
    return ErrorResponse(status, _headers(body.content_type), content, kind, body.code)
