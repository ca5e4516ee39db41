"""The conformance suite: every behaviour of the transport contract, written once, run against every client.

Each test takes the ``client`` fixture and runs once per entry of `CLIENTS`: httpx sync, httpx
async and requests intercepted in-process, and requests, httpx and urllib3 over a real socket to
the loopback server. ``faults`` is the fault set that answers the client (``cobo_fault``, or
``cobo_server`` for the server's clients), ``base`` the base URL the client sends to. A new
transport joins by adding its clients here; its tests are then the tests every transport passes.

Behaviours that belong to in-process interception alone (threads and tasks attributed to the
test that started them, users' own mocks of the same library) run on `IN_PROCESS` clients only:
a server cannot tell which test's thread sent a request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
import requests
import responses
import respx
import urllib3

from pytest_cobo_errors import CoboFaultError, CoboFaults
from pytest_cobo_errors.transports import TRANSPORTS, available, in_process

DEV = "https://api.dev.cobo.com"
COIN_INFO = "/v1/custody/coin_info/"
WITHDRAW = "/v1/custody/new_withdraw_request/"
ELSEWHERE = "https://partner.example.org/v1/price"


@dataclass(frozen=True)
class Answer:
    """A response as every client's test sees it."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return requests.models.complexjson.loads(self.content)


@dataclass(frozen=True)
class Refusal:
    """A request no rule answered, as the client met it: the plugin's message, and why."""

    message: str
    reason: str
    """``unmatched`` or ``exhausted`` (a sequence that gave all its outcomes)."""


_REASONS = {"UnmatchedRequestError": "unmatched", "SequenceExhaustedError": "exhausted"}


class Client:
    """One HTTP library, driven the same way by every conformance test."""

    name: ClassVar[str]
    transport: ClassVar[str]
    fixture: ClassVar[str] = "cobo_fault"
    errors: ClassVar[dict[str, type[BaseException]]]
    """The exception the library raises for each network fault (``truncated_response``: reading the body)."""

    def refusal(self, method: str, url: str) -> Refusal:
        """Send a request no rule answers; how the client met the refusal. In-process, it is the
        plugin's own exception, raised unwrapped (a retry loop must not swallow it as a network error)."""
        with pytest.raises(CoboFaultError) as refused:
            self.send(method, url)
        error = refused.value
        assert error.__cause__ is None  # no respx or responses exception shown before ours
        assert error.__context__ is None
        return Refusal(str(error), _REASONS[type(error).__name__])

    def fault_set(self, **kwargs: Any) -> CoboFaults:
        """A fault set (not started) that answers this client."""
        return CoboFaults(transports=self.transport, **kwargs)

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        raise NotImplementedError

    def get(self, url: str, **kwargs: Any) -> Answer:
        return self.send("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Answer:
        return self.send("POST", url, **kwargs)

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        """GET *url* reading the body in chunks: the status, the bytes that arrived, and what broke."""
        raise NotImplementedError

    def user_mock(self, url: str, body: bytes) -> contextlib.AbstractContextManager[object]:
        """The library's usual mock, answering GET *url* with *body*, as a user would start it."""
        raise NotImplementedError


class HttpxSync(Client):
    name, transport = "httpx-sync", "httpx"
    errors: ClassVar[dict[str, type[BaseException]]] = {
        "connect_timeout": httpx.ConnectTimeout,
        "read_timeout": httpx.ReadTimeout,
        "connect_error": httpx.ConnectError,
        "connection_reset": httpx.ReadError,
        "no_response": httpx.RemoteProtocolError,
        "truncated_response": httpx.RemoteProtocolError,
    }

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        with httpx.Client(trust_env=False) as client:
            response = client.request(method, url, **kwargs)
        return Answer(response.status_code, response.headers, response.content)

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        received = bytearray()
        with httpx.Client(trust_env=False) as client, client.stream("GET", url) as response:
            try:
                for chunk in response.iter_bytes():
                    received += chunk
            except httpx.HTTPError as error:
                return response.status_code, bytes(received), error
        return response.status_code, bytes(received), None

    @contextlib.contextmanager
    def user_mock(self, url: str, body: bytes) -> Iterator[object]:
        with respx.mock(assert_all_called=False) as router:
            router.get(url).mock(return_value=httpx.Response(200, content=body))
            yield router


class HttpxAsync(HttpxSync):
    name = "httpx-async"

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        async def go() -> Answer:
            async with httpx.AsyncClient(trust_env=False) as client:
                response = await client.request(method, url, **kwargs)
            return Answer(response.status_code, response.headers, response.content)

        return asyncio.run(go())

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        async def go() -> tuple[int, bytes, BaseException | None]:
            received = bytearray()
            async with httpx.AsyncClient(trust_env=False) as client, client.stream("GET", url) as response:
                try:
                    async for chunk in response.aiter_bytes():
                        received += chunk
                except httpx.HTTPError as error:
                    return response.status_code, bytes(received), error
            return response.status_code, bytes(received), None

        return asyncio.run(go())


class Requests(Client):
    name, transport = "requests", "requests"
    errors: ClassVar[dict[str, type[BaseException]]] = {
        "connect_timeout": requests.exceptions.ConnectTimeout,
        "read_timeout": requests.exceptions.ReadTimeout,
        "connect_error": requests.exceptions.ConnectionError,
        "connection_reset": requests.exceptions.ConnectionError,
        "no_response": requests.exceptions.ConnectionError,
        "truncated_response": requests.exceptions.ChunkedEncodingError,
    }

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        with requests.Session() as session:
            session.trust_env = False
            response = session.request(method, url, **kwargs)
        return Answer(response.status_code, response.headers, response.content)

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        received = bytearray()
        with requests.get(url, stream=True) as response:
            try:
                for chunk in response.iter_content(8):
                    received += chunk
            except requests.RequestException as error:
                return response.status_code, bytes(received), error
        return response.status_code, bytes(received), None

    @contextlib.contextmanager
    def user_mock(self, url: str, body: bytes) -> Iterator[object]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(responses.GET, url, body=body)
            yield mock


class Urllib3(Client):
    """urllib3 directly, as the ``cobo-waas2`` SDK sends: no in-process transport reaches it."""

    name, transport = "urllib3", "server"
    errors: ClassVar[dict[str, type[BaseException]]] = {
        "connection_reset": urllib3.exceptions.ProtocolError,
        "no_response": urllib3.exceptions.ProtocolError,
        "truncated_response": urllib3.exceptions.ProtocolError,
    }

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        fields = kwargs.pop("data", None) or kwargs.pop("params", None)
        if fields is not None:
            kwargs["fields"] = fields
            if method not in ("GET", "HEAD", "DELETE", "OPTIONS"):  # these carry fields in the query
                kwargs["encode_multipart"] = False
        with urllib3.PoolManager(retries=False) as pool:
            response = pool.request(method, url, **kwargs)
        return Answer(response.status, response.headers, response.data)

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        received = bytearray()
        with urllib3.PoolManager(retries=False) as pool:
            response = pool.request("GET", url, preload_content=False)
            try:
                for chunk in response.stream(8):
                    received += chunk
            except urllib3.exceptions.HTTPError as error:
                return response.status, bytes(received), error
        return response.status, bytes(received), None


class _OverTheSocket:
    """A library's client sending to the loopback server: its faults are the real socket's."""

    transport = "server"
    fixture = "cobo_server"
    errors: ClassVar[dict[str, type[BaseException]]]

    def refusal(self, method: str, url: str) -> Refusal:
        """Over a socket, a refusal is an answer: error 1000 at 500, the reason in a header."""
        answer: Answer = self.send(method, url)  # type: ignore[attr-defined]
        assert answer.status == 500
        assert answer.json()["error_code"] == 1000
        return Refusal(answer.json()["error_message"], answer.headers["X-Cobo-Fault-Unanswered"])

    def fault_set(self, **kwargs: Any) -> CoboFaults:
        from pytest_cobo_errors import CoboServer

        return CoboServer(**kwargs)


class ServedHttpx(_OverTheSocket, HttpxSync):
    name = "httpx-served"
    errors: ClassVar[dict[str, type[BaseException]]] = {
        k: v for k, v in HttpxSync.errors.items() if k in ("connection_reset", "no_response", "truncated_response")
    }


class ServedRequests(_OverTheSocket, Requests):
    name = "requests-served"
    errors: ClassVar[dict[str, type[BaseException]]] = {
        k: v for k, v in Requests.errors.items() if k in ("connection_reset", "no_response", "truncated_response")
    }


class ServedUrllib3(_OverTheSocket, Urllib3):
    name = "urllib3-served"


IN_PROCESS: list[Client] = [HttpxSync(), HttpxAsync(), Requests()]
SERVED: list[Client] = [ServedHttpx(), ServedRequests(), ServedUrllib3()]
CLIENTS: list[Client] = IN_PROCESS + SERVED
assert {c.transport for c in CLIENTS} == set(TRANSPORTS), "every registered transport needs a client here"


def _installed(client: Client) -> bool:
    return client.transport in available() or (not in_process(client.transport) and _server_installed())


def _server_installed() -> bool:
    try:
        import pytest_httpserver  # noqa: F401
    except ImportError:
        return False
    return True


def client_fixture(clients: list[Client]) -> Any:
    """A ``client`` fixture running each test once per entry of *clients*."""

    @pytest.fixture(
        name="client",
        params=[
            pytest.param(
                client,
                id=client.name,
                marks=[
                    *([pytest.mark.cobo_transports(client.transport)] if in_process(client.transport) else []),
                    pytest.mark.skipif(not _installed(client), reason=f"{client.transport} not installed"),
                ],
            )
            for client in clients
        ],
    )
    def client(request: pytest.FixtureRequest) -> Client:
        """The HTTP library under test; the fault set intercepts or serves only its transport."""
        chosen: Client = request.param
        return chosen

    return client


client = client_fixture(CLIENTS)


@pytest.fixture
def faults(request: pytest.FixtureRequest, client: Client) -> CoboFaults:
    """The fault set that answers *client*: this test's ``cobo_fault``, or ``cobo_server``."""
    chosen: CoboFaults = request.getfixturevalue(client.fixture)
    return chosen


@pytest.fixture
def base(request: pytest.FixtureRequest, client: Client) -> str:
    """The base URL *client* sends to: a Cobo host in-process, the loopback server's address else."""
    if in_process(client.transport):
        return DEV
    url: str = request.getfixturevalue("cobo_server_url")
    return url
