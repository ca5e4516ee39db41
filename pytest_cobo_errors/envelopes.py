"""Cobo's error envelope: build the real five-field body, and check one strictly.

A real error body carries ``success``, ``error_code``, ``error_message``, ``error_id``
(32 lowercase hex) and ``error_description``. `parse_envelope` lists *every* way a body
departs from that, so a failing assertion says precisely what the server (or a mock) sent.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pytest_cobo_errors.catalog import ERROR_CODES, ErrorCode, clipped, error_code, nearest_codes, shown

if TYPE_CHECKING:
    from pytest_cobo_errors.catalog_v2 import V2ErrorCode

__all__ = [
    "ENVELOPE_FIELDS",
    "V2_ENVELOPE_FIELDS",
    "Api",
    "EnvelopeError",
    "ErrorEnvelope",
    "assert_cobo_error",
    "build_envelope",
    "entry_for",
    "new_error_id",
    "parse_envelope",
    "success_envelope",
]

ENVELOPE_FIELDS = ("success", "error_code", "error_message", "error_id", "error_description")
V2_ENVELOPE_FIELDS = ("error_code", "error_message", "error_id")
"""WaaS 2.0's envelope (its OpenAPI ``ErrorResponse``): all three required, nothing else."""

Api = Literal["v1", "v2"]
"""The five fields of a real Cobo error body, in the order Cobo sends them."""

_ERROR_ID = re.compile(r"[0-9a-f]{32}")


class _ResponseLike(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...


def new_error_id() -> str:
    """A fresh ``error_id`` in Cobo's form: 32 lowercase hex characters, random as a UUID4's."""
    return os.urandom(16).hex()  # uuid4().hex costs three times as much, on every answer


# -- what can be sent -----------------------------------------------------------------------
_JSON_TYPES = "valid: dict, list, str, int, finite float, bool, None"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate(text: str, what: str) -> str | None:
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"{what} holds a lone surrogate {found.group()!r} at position {found.start()}, which UTF-8 cannot encode"


def check_text(value: str, what: str) -> str:
    """*value*, if UTF-8 can encode it; else a ValueError naming *what* and the lone surrogate."""
    problem = _surrogate(value, what)
    if problem is not None:
        raise ValueError(f"{problem}; valid: any text without unpaired surrogates")
    return value


def encode_json(value: Any, what: str = "the body") -> bytes:
    """*value* as every injected JSON body is sent: UTF-8, non-ASCII kept, no NaN or Infinity.

    Called when an outcome is declared, so a value that cannot be sent fails there, with a
    TypeError or ValueError that names *what* and the part of it at fault.
    """
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        problem = _unsendable(value, what)
        if problem is None:  # in json's own words: a circular reference, an int too long, deep nesting
            reason = "it is nested too deeply" if isinstance(exc, RecursionError) else clipped(str(exc), 160)
            problem = f"{what} cannot be sent as JSON: {reason}"
        raise (TypeError if isinstance(exc, TypeError) else ValueError)(f"{problem}; {_JSON_TYPES}") from None


def _unsendable(value: Any, what: str) -> str | None:
    """The first part of *value* that JSON cannot carry or UTF-8 cannot encode, described; or None."""
    stack: list[tuple[str, Any]] = [(what, value)]
    seen: set[int] = set()  # shared (or circular) containers are walked once
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = _surrogate(item, path)
            if problem is not None:
                return problem
            continue
        if item is None or isinstance(item, (bool, int)):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{path} is {item!r}, which is not JSON (JSON has no NaN or Infinity)"
            continue
        if not isinstance(item, (list, tuple, dict)):
            return f"{path} is {shown(item)} of type {type(item).__name__}, which JSON cannot carry"
        if id(item) in seen:
            continue
        seen.add(id(item))
        children: Iterable[tuple[object, Any]] = item.items() if isinstance(item, dict) else enumerate(item)
        pending = []
        for key, child in children:
            if isinstance(item, dict):
                if not (key is None or isinstance(key, (str, int, float))):
                    return f"{path} has the key {shown(key)}: JSON keys are str (int, float, bool, None are converted)"
                problem = _unsendable(key, f"the key {shown(key)} of {path}") if isinstance(key, (str, float)) else None
                if problem is not None:
                    return problem
            pending.append((clipped(f"{path}[{shown(key, 30)}]", 120), child))
        stack.extend(reversed(pending))  # depth-first, in order: the first problem is reported
    return None


def entry_for(code: int | ErrorCode | V2ErrorCode, api: Api = "v1") -> ErrorCode | V2ErrorCode:
    """The catalog entry *code* names: in the WaaS 2.0 catalog for ``api="v2"`` (or a v2 entry)."""
    if isinstance(code, ErrorCode):
        return code
    if api == "v2" or getattr(code, "api", None) == "v2":
        from pytest_cobo_errors.catalog_v2 import v2_error_code  # not loaded for v1-only suites

        return v2_error_code(code)
    if api != "v1":
        raise ValueError(f"api must be 'v1' or 'v2', got {shown(api)}")
    return error_code(code)  # type: ignore[arg-type]


def build_envelope(
    code: int | ErrorCode | V2ErrorCode,
    *,
    message: str | None = None,
    description: str | None = None,
    error_id: str | None = None,
    fields: Mapping[str, Any] | None = None,
    omit: Collection[str] = (),
    api: Api = "v1",
) -> dict[str, Any]:
    """The body Cobo sends for *code*, with every field overridable.

    ``message`` defaults to the documented title; ``description`` to the message (as in every
    published example); ``fields`` replaces or adds raw values (``{"error_code": "12007"}``);
    ``omit`` drops fields, e.g. ``omit=("error_message", "error_id")`` for the docs' short form.

    With ``api="v2"`` (or a WaaS 2.0 catalog entry) it is WaaS 2.0's three-field envelope,
    ``error_code``, ``error_message`` and ``error_id``: no ``success``, no description.
    """
    entry = entry_for(code, api)
    v2 = entry.api == "v2"
    if v2 and description is not None:
        raise TypeError("description= has no field to go in: WaaS 2.0's envelope has no error_description")
    valid = V2_ENVELOPE_FIELDS if v2 else ENVELOPE_FIELDS
    for name, value in (("message", message), ("description", description), ("error_id", error_id)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {type(value).__name__} {shown(value)}")
        if value is not None:
            check_text(value, name)
    if fields is not None and (not isinstance(fields, Mapping) or not all(isinstance(k, str) for k in fields)):
        raise TypeError(
            f"fields must be a mapping of field names to values, e.g. {{'error_code': '1'}}, got {shown(fields)}"
        )
    if fields is not None:
        encode_json(dict(fields), "fields")
    if isinstance(omit, str):
        raise TypeError(
            f"omit takes a collection of field names such as ({shown(omit)},), got the string {shown(omit)}"
        )
    names = tuple(omit) if isinstance(omit, Iterable) else None
    if names is None or not all(isinstance(name, str) for name in names):
        raise TypeError(f"omit takes a collection of field names such as ('error_id',), got {shown(omit)}")
    unknown = set(names) - set(valid)
    if unknown:
        raise ValueError(f"omit= names unknown fields {shown(sorted(unknown))}; valid: {', '.join(valid)}")
    text = entry.message if message is None else message
    body: dict[str, Any] = {"error_code": entry.code, "error_message": text}
    body["error_id"] = new_error_id() if error_id is None else error_id
    if not v2:
        body = {"success": False, **body, "error_description": text if description is None else description}
    body.update(fields or {})
    for name in names:
        body.pop(name, None)
    return body


def success_envelope(result: Any = None) -> dict[str, Any]:
    """A success body: ``{"success": true, "result": ...}``."""
    return {"success": True, "result": {} if result is None else result}


@dataclass(frozen=True, slots=True)
class ErrorEnvelope:
    """A well-formed Cobo error body, parsed."""

    code: int
    message: str
    error_id: str
    description: str

    @property
    def entry(self) -> ErrorCode | None:
        """The catalog entry for ``code``, or None for an undocumented code."""
        return ERROR_CODES.get(self.code)


class EnvelopeError(ValueError):
    """A body that is not a well-formed Cobo error envelope; ``problems`` lists each defect."""

    def __init__(self, problems: list[str], body: object) -> None:
        self.problems = problems
        self.body = body
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"not a well-formed Cobo error envelope:\n{listing}\nbody: {_preview(body)}")


def _preview(body: object, limit: int = 200) -> str:
    text = repr(body)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _decode(body: bytes | str | Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, list[str]]:
    if isinstance(body, Mapping):
        return body, []
    if not isinstance(body, (bytes, str)):
        raise TypeError(f"a body must be bytes, str or a mapping, got {type(body).__name__} {body!r}")
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, [f"body is not UTF-8: byte 0x{body[exc.start]:02x} at offset {exc.start}"]
    if not body.strip():
        return None, ["body is empty (a gateway or proxy answered, not Cobo)"]
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        data = json.loads(body, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        start = body.lstrip()[:40]
        hint = " (an HTML page: a gateway answered, not Cobo)" if start.startswith("<") else ""
        return None, [f"body is not JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}; starts {start!r}"]
    except ValueError as exc:  # CPython's limit on integer digits is a plain ValueError
        return None, [f"body is not JSON: {str(exc)[:120]}"]
    if not isinstance(data, dict):
        return None, [f"body is a JSON {_kind(data)}, not an object"]
    return data, [f"duplicate key {key!r}" for key in dict.fromkeys(duplicates)]


def _check_fields(data: Mapping[str, Any], *, allow_extra: bool, documented: bool) -> list[str]:
    problems = [f"missing field {name!r}" for name in ENVELOPE_FIELDS if name not in data]
    if "success" in data:
        if data["success"] is True:
            problems.append("success is true: a success body, not an error")
        elif data["success"] is not False:
            problems.append(f"success must be the boolean false, got {_kind(data['success'])} {data['success']!r}")
    if "error_code" in data:
        code = data["error_code"]
        if isinstance(code, bool) or not isinstance(code, int):
            problems.append(f"error_code must be an integer, got {_kind(code)} {code!r}")
        elif documented and code not in ERROR_CODES:
            near = ", ".join(map(str, nearest_codes(code)))
            problems.append(f"error_code {code} is not documented (nearest: {near})")
    for name in ("error_message", "error_description", "error_id"):
        if name in data and not isinstance(data[name], str):
            problems.append(f"{name} must be a string, got {_kind(data[name])} {data[name]!r}")
    error_id = data.get("error_id")
    if isinstance(error_id, str) and not _ERROR_ID.fullmatch(error_id):
        problems.append(f"error_id must be 32 lowercase hex characters, got {error_id!r}")
    if not allow_extra:
        extra = [key for key in data if key not in ENVELOPE_FIELDS]
        problems.extend(f"unexpected field {key!r}" for key in extra)
    return problems


def parse_envelope(
    body: bytes | str | Mapping[str, Any], *, allow_extra: bool = False, documented: bool = True
) -> ErrorEnvelope:
    """Parse *body* as a Cobo error envelope or raise `EnvelopeError` listing every defect.

    ``allow_extra`` accepts fields beyond the five; ``documented=False`` accepts codes that are
    not in the catalog (an integer is still required).
    """
    data, problems = _decode(body)
    if data is not None:
        problems += _check_fields(data, allow_extra=allow_extra, documented=documented)
    if problems or data is None:
        raise EnvelopeError(problems, body)
    return ErrorEnvelope(data["error_code"], data["error_message"], data["error_id"], data["error_description"])


def assert_cobo_error(
    response: _ResponseLike | bytes | str | Mapping[str, Any],
    code: int | ErrorCode | None = None,
    *,
    status: int | None = None,
    message: str | None = None,
    allow_extra: bool = False,
) -> ErrorEnvelope:
    """Assert that *response* is a well-formed Cobo error, optionally with *code*, *status*, *message*.

    *response* may be an ``httpx.Response``, a ``requests.Response``, raw bytes, text or a
    parsed mapping. Returns the parsed envelope; raises ``AssertionError`` saying what differs.
    """
    expected = None if code is None else error_code(code).code
    if isinstance(response, (bytes, str, Mapping)):
        body, actual_status = response, None
    elif hasattr(response, "content") and hasattr(response, "status_code"):
        body, actual_status = response.content, response.status_code
    else:
        raise TypeError(
            "assert_cobo_error takes a response (httpx or requests), bytes, str or a parsed mapping, "
            f"got {type(response).__name__} {response!r}"
        )
    problems: list[str] = []
    if status is not None and actual_status is not None and actual_status != status:
        problems.append(f"HTTP status is {actual_status}, expected {status}")
    try:
        envelope = parse_envelope(body, allow_extra=allow_extra)
    except EnvelopeError as exc:
        raise AssertionError("\n".join([*problems, str(exc)])) from None
    if expected is not None and envelope.code != expected:
        problems.append(f"error_code is {envelope.code}, expected {expected} ({ERROR_CODES[expected].description})")
    if message is not None and envelope.message != message:
        problems.append(f"error_message is {envelope.message!r}, expected {message!r}")
    if problems:
        raise AssertionError("Cobo error differs:\n" + "\n".join(f"  - {p}" for p in problems))
    return envelope
