"""The transport registry: which HTTP libraries the rules reach in-process, and what each can produce.

A transport joins with one `register` call naming its module; the module is imported only when
a fault set that chose the transport starts, so loading the plugin imports no HTTP library. A
transport that names the library it ``patches`` waits, besides, for that library to be imported
(`pytest_cobo_errors.transports.deferred`): a fault set that chose it imports nothing the tests
do not.
Help texts, option validation and the conformance suite all read `TRANSPORTS`. The types that
cross the boundary are in `pytest_cobo_errors.transports.contract`.

Libraries with no transport here (urllib, urllib3 and so the ``cobo-waas2`` SDK, aiohttp, raw
sockets) are still kept off Cobo's hosts by the network guard (`pytest_cobo_errors.guard`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    # not at run time: every pytest run reads this registry, few ever start a transport
    from pytest_cobo_errors.transports.contract import Capabilities, Transport

__all__ = [
    "TRANSPORTS",
    "TransportSpec",
    "UnsupportedFaultError",
    "available",
    "check_supported",
    "in_process",
    "load",
    "parse_transports",
    "preload",
    "register",
    "require",
]


class UnsupportedFaultError(ValueError):
    """A rule asks for something a chosen transport cannot produce (raised when it is declared)."""


class TransportSpec(NamedTuple):
    """A transport as the registry knows it, before its module is imported.

    ``module``'s ``make()`` returns a fresh, unstarted `Transport`; ``library`` is the import name
    that must be installed, ``install`` what to run when it is not; ``capabilities`` says what it
    can produce (None: every network fault, no delay). A transport that is not ``in_process`` is a
    server on loopback: requests reach it from anywhere, so they belong to whichever fault set
    chose it, not to the code that sent them; ``fixture`` names the fixture that offers it.
    ``patches`` names the top-level module the transport patches, if starting it can wait until
    that module is imported (no request can go through a library nobody imported). ``seam`` says
    where in the library it answers, for the message about a request that went around it.
    """

    name: str
    module: str
    library: str
    install: str
    capabilities: Capabilities | None = None
    in_process: bool = True
    fixture: str = "cobo_fault"
    patches: str = ""
    seam: str = ""


TRANSPORTS: dict[str, TransportSpec] = {}


def register(spec: TransportSpec) -> TransportSpec:
    """Add a transport to the registry (a name may be registered once)."""
    if spec.name in TRANSPORTS or spec.name == "auto":
        raise ValueError(f"a transport named {spec.name!r} is already registered")
    TRANSPORTS[spec.name] = spec
    return spec


register(
    TransportSpec(
        "httpx",
        "pytest_cobo_errors.transports.respx_httpx",
        "respx",
        "pip install pytest-cobo-errors",
        seam="httpx.HTTPTransport and AsyncHTTPTransport (an httpx client's default transports)",
    )
)
register(
    TransportSpec(
        "requests",
        "pytest_cobo_errors.transports.requests_adapter",
        "requests",
        "pip install 'pytest-cobo-errors[requests]'",
        patches="requests",
        seam="requests.Session.get_adapter",
    )
)


def _loopback_capabilities() -> Capabilities:
    from pytest_cobo_errors.transports.contract import Capabilities

    # what a server can do to a connection it has accepted; it cannot refuse or stall the connect
    return Capabilities(
        network_faults=frozenset({"connection_reset", "no_response", "truncated_response"}),
        delay=True,
        final_informational=False,
    )


register(
    TransportSpec(
        "server",
        "pytest_cobo_errors.transports.loopback",
        "pytest_httpserver",
        "pip install 'pytest-cobo-errors[server]'",
        None,  # check_supported asks _loopback_capabilities: the registry imports no contract module
        in_process=False,
        fixture="cobo_server",
    )
)


@functools.cache
def _installed(library: str) -> bool:
    # find_spec walks sys.path; asked once per library, not once per test
    return importlib.util.find_spec(library) is not None


def available() -> tuple[str, ...]:
    """The in-process transports whose library is installed, in registration order."""
    return tuple(name for name, spec in TRANSPORTS.items() if spec.in_process and _installed(spec.library))


def in_process(name: str) -> bool:
    return TRANSPORTS[name].in_process


def require(name: str) -> None:
    """Raise ValueError saying what to install if transport *name*'s library is missing."""
    spec = TRANSPORTS[name]
    if not _installed(spec.library):
        raise ValueError(f"the {name} transport needs the {spec.library!r} library: {spec.install}")


def _valid() -> str:
    return ", ".join(["auto", *(name for name, spec in TRANSPORTS.items() if spec.in_process)])


def parse_transports(value: object) -> tuple[str, ...]:
    """``"auto"``, ``"httpx"``, ``"httpx,requests"`` or a sequence of names -> validated names.

    Raises ValueError naming the valid transports, or saying what to install for a missing one.
    """
    if value is None:
        return available()
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"transports must be 'auto' or names from {', '.join(TRANSPORTS)}, got {value!r}")
    chosen = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    if chosen == ("auto",):  # spaces and stray commas are forgiven here as they are around names
        return available()
    if "auto" in chosen:
        raise ValueError(
            f"'auto' means every installed library and stands alone; to choose libraries, name them: "
            f"{', '.join(available() or TRANSPORTS)}"  # the installed ones, so that the advice works
        )
    for name in chosen:
        if name not in TRANSPORTS:
            shown = name if len(name) <= 24 else f"{name[:20]}…"
            raise ValueError(f"unknown transport {shown!r}; valid: {_valid()}")
        if not TRANSPORTS[name].in_process:
            raise ValueError(
                f"the {name} transport is a server on loopback, not an in-process one: request the "
                f"{TRANSPORTS[name].fixture} fixture and point the client at its url; valid here: {_valid()}"
            )
        require(name)
    if not chosen:
        raise ValueError(f"no transport chosen; valid: {_valid()}")
    return chosen


def check_supported(
    transports: Iterable[str], *, network_fault: str | None = None, delay: bool = False, status: int | None = None
) -> None:
    """Raise `UnsupportedFaultError` naming the first chosen transport that cannot produce this."""
    from pytest_cobo_errors.transports.contract import Capabilities

    for name in transports:
        spec = TRANSPORTS[name]
        caps = spec.capabilities or (_loopback_capabilities() if not spec.in_process else Capabilities())
        if network_fault is not None and network_fault not in caps.network_faults:
            can = ", ".join(sorted(caps.network_faults)) or "none"
            advice = (
                "choose other transports for this test, e.g. @pytest.mark.cobo_transports(...)"
                if spec.in_process
                else "a server cannot refuse or stall a connection it has accepted; for a timeout, "
                "declare delay= longer than the client's own timeout"
            )
            raise UnsupportedFaultError(
                f"the {name} transport cannot produce a {network_fault!r} network fault (it can: {can}); {advice}"
            )
        if delay and not caps.delay:
            raise UnsupportedFaultError(
                f"the {name} transport answers in-process, so it cannot hold an answer back (delay=, trickle=) "
                "for a client's own timeout to fire: declare network('read_timeout') for the timeout in-process, "
                "or use the cobo_server fixture, whose real socket delays for real"
            )
        if status is not None and status < 200 and not caps.final_informational:
            raise UnsupportedFaultError(
                f"the {name} transport cannot answer with {status}: on a real socket a 1xx is an interim answer, "
                "and the client would wait past it for the real one"
            )


def load(name: str) -> Transport:
    """A fresh, unstarted transport *name*: its module and library are imported now, or, for one
    that ``patches`` a library not imported yet, when that library is."""
    spec = TRANSPORTS[name]
    if spec.patches and spec.patches not in sys.modules:
        from pytest_cobo_errors.transports.deferred import Deferred

        return Deferred(name, spec.patches, functools.partial(_make, spec.module))
    return _make(spec.module)


def preload(names: Iterable[str]) -> None:
    """Import the modules of transports *names* that `load` would import now, ahead of the first
    fault set (a transport still waiting for its library imports nothing). One that fails to
    import is left to fail where it is used, as it would have."""
    for name in names:
        spec = TRANSPORTS[name]
        if not spec.patches or spec.patches in sys.modules:
            with contextlib.suppress(ImportError):
                importlib.import_module(spec.module)


def _make(name: str) -> Transport:
    # sys.modules first: import_module's machinery costs more than the transport it makes, every test
    module = sys.modules.get(name)
    if module is None or getattr(module.__spec__, "_initializing", False):  # not imported, or not yet whole
        module = importlib.import_module(name)
    transport: Transport = module.make()
    return transport
