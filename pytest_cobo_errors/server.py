"""`CoboServer`: the fault rules served over a real socket on 127.0.0.1, for any client in any process.

The object behind the ``cobo_server`` fixture: the declaring API of `CoboFaults`, answering at
the process's loopback server (`pytest_cobo_errors.transports.loopback`) instead of in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytest_cobo_errors.faults import CoboFaults, ServedHook
from pytest_cobo_errors.transports import require

if TYPE_CHECKING:
    from pytest_cobo_errors.transports.loopback import LoopbackServer

__all__ = ["CoboServer"]


class CoboServer(CoboFaults):
    """Faults served by a fake Cobo on 127.0.0.1: the same rules as ``cobo_fault``, on a real socket.

    Point any client at `url` as Cobo's base URL, in this process or another: the ``cobo-custody``
    SDK's ``Env(host=url, coboPub=...)``, ``cobo-waas2``'s ``Configuration(host=url + "/v2")``,
    an environment variable for a subprocess. A request no rule answers gets Cobo's error 1000 at
    HTTP 500, with the reason in its ``error_message``, and fails the test at teardown.

    On a real socket, rules may also take ``delay=`` (seconds before the answer: a client's own
    read timeout fires for real) and ``trickle=`` (seconds between the ten pieces of the body);
    ``network()`` produces ``"connection_reset"``, ``"no_response"`` and ``"truncated_response"``. Connect timeouts and
    refused connections are not a server's to give, and are refused when declared.
    """

    def __init__(
        self,
        *,
        server: LoopbackServer | None = None,
        on_served: ServedHook | None = None,
        label: str = "a cobo_server block",
    ) -> None:
        require("server")
        if server is None:
            from pytest_cobo_errors.transports.loopback import running

            server = running()
        self.server = server
        super().__init__(base_urls=[server.url], on_served=on_served, label=label)

    fixture_name = "cobo_server"

    def _choose_transports(self, transports: str | Sequence[str] | None) -> tuple[str, ...]:
        return ("server",)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the base URL to hand a client (``url + "/v2"`` for WaaS 2.0)."""
        return self.server.url

    @property
    def port(self) -> int:
        """The port the server listens on (one per test process: each pytest-xdist worker has its own)."""
        return int(self.server.port)

    def __repr__(self) -> str:
        return f"<CoboServer at {self.url}: {len(self.book.rules)} rule(s), {len(self.calls)} call(s)>"
