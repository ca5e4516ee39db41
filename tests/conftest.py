from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import pytest

pytest_plugins = ["pytester"]

# loaded before any pytester run: a key cached in one run must meet the same classes in the next
# (the signing extra is optional; its tests skip without it)
with contextlib.suppress(ImportError):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: F401


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester whose inner runs keep their files' order: the outer run may be shuffled by
    pytest-randomly, but inner runs assert on order (ids, output lines) as a user reads it."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
    return pytester


class SocketWatch:
    """Every DNS lookup of, and connection to, a watched host that got past the network guard.

    An audit hook added after the guard's own, so it sees only what the guard let through; it
    records the event and then stops it too, so a guard that failed still sends nothing.
    """

    EVENTS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.connect"})

    def __init__(self) -> None:
        self.hosts: set[str] = set()
        self.seen: list[tuple[str, str]] = []
        self.watching = False

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        if not self.watching or event not in self.EVENTS:
            return
        target = args[1] if event == "socket.connect" else args[0]
        host = target[0] if isinstance(target, tuple) and target else target
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if isinstance(host, str) and host.lower().rstrip(".") in self.hosts:
            self.seen.append((event, host))
            raise OSError(f"socket watch: {event} of {host} got past the guard")


_WATCH: SocketWatch | None = None


@pytest.fixture
def socket_watch() -> Iterator[SocketWatch]:
    """Watches the sockets for lookups of and connections to the Cobo hosts during one test."""
    global _WATCH
    from pytest_cobo_errors import guard
    from pytest_cobo_errors.hosts import COBO_HOSTS
    from pytest_cobo_errors.switchboard import SWITCHBOARD

    if _WATCH is None:
        guard.arm(SWITCHBOARD)  # the guard's hook first: hooks run in the order they were added
        _WATCH = SocketWatch()
        sys.addaudithook(_WATCH.hook)
    _WATCH.hosts = set(COBO_HOSTS) | {"control.invalid"}
    _WATCH.seen.clear()
    _WATCH.watching = True
    try:
        yield _WATCH
    finally:
        _WATCH.watching = False
