"""Transports put a fault handler between an HTTP library and the network.

Each one is imported only when a test activates it, so loading the plugin costs nothing for
libraries a suite never uses.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from typing import TYPE_CHECKING, Final, Protocol, TypeAlias

if TYPE_CHECKING:
    from pytest_cobo_errors.hosts import CapturedRequest
    from pytest_cobo_errors.outcomes import NetworkFault, Reply

__all__ = [
    "DEFER",
    "PASS_THROUGH",
    "TRANSPORTS",
    "Decision",
    "Handler",
    "Transport",
    "available",
    "load",
    "parse_transports",
]


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


PASS_THROUGH: Final = _Sentinel("PASS_THROUGH")
"""A decision to let a request reach its (loopback or explicitly allowed) host."""

DEFER: Final = _Sentinel("DEFER")
"""A decision to leave a request for a non-Cobo host to another mock of the same library
(a user's own respx router), which then answers or fails it; it never reaches the network."""

Decision: TypeAlias = "Reply | NetworkFault | _Sentinel"


class Handler(Protocol):
    def __call__(self, request: CapturedRequest, *, others_may_answer: bool = False) -> Decision: ...


class Transport(Protocol):
    name: str

    def start(self, handler: Handler) -> None: ...

    def stop(self) -> None: ...


# name -> (module that implements it, the library it needs, what to install)
TRANSPORTS: Final = {
    "httpx": ("pytest_cobo_errors.transports.respx_httpx", "respx", "pip install pytest-cobo-errors"),
    "requests": (
        "pytest_cobo_errors.transports.responses_requests",
        "responses",
        "pip install 'pytest-cobo-errors[requests]'",
    ),
}


@functools.cache
def _installed(library: str) -> bool:
    # find_spec walks sys.path; asked once per library, not once per test
    return importlib.util.find_spec(library) is not None


def available() -> tuple[str, ...]:
    """The transports whose mocking library is installed, in a stable order."""
    return tuple(name for name, (_, lib, _) in TRANSPORTS.items() if _installed(lib))


def parse_transports(value: object) -> tuple[str, ...]:
    """``"auto"``, ``"httpx"``, ``"httpx,requests"`` or a sequence of names -> validated names.

    Raises ValueError naming the valid transports, or saying what to install for a missing one.
    """
    if value is None or value in ("auto", ["auto"], ("auto",)):
        return available()
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"transports must be 'auto' or names from {', '.join(TRANSPORTS)}, got {value!r}")
    chosen = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    for name in chosen:
        if name not in TRANSPORTS:
            raise ValueError(f"unknown transport {name!r}; valid: auto, {', '.join(TRANSPORTS)}")
        _, lib, install = TRANSPORTS[name]
        if not _installed(lib):
            raise ValueError(f"the {name} transport needs the {lib!r} library: {install}")
    if not chosen:
        raise ValueError(f"no transport chosen; valid: auto, {', '.join(TRANSPORTS)}")
    return chosen


def load(name: str) -> Transport:
    """A fresh, unstarted transport *name* (its library is imported now, not before)."""
    module = importlib.import_module(TRANSPORTS[name][0])
    transport: Transport = module.make()
    return transport
