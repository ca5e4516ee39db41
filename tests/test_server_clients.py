"""``cobo_server`` on a real socket: what every HTTP client, the official SDK and another process see.

The in-process transports reach httpx and requests only; ``cobo_server`` is a fake Cobo on
127.0.0.1, so any client reaches it. Each behaviour is written once and run against every
client of `CLIENTS` (urllib3, requests, httpx sync and async, aiohttp): an injected error, each
socket fault, a delay past the client's timeout, a trickled body, and the request as the server
captured it. Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
import pytest
import requests
import urllib3

from pytest_cobo_errors import CoboServer, TestKey, assert_cobo_error, error, signed, success
from pytest_cobo_errors.catalog import ERROR_CODES
from pytest_cobo_errors.outcomes import Reply

COIN_INFO = "/v1/custody/coin_info/"
WITHDRAW = "/v1/custody/new_withdraw_request/"
VERIFY_FAILED = "Fatal: verify content error, maybe encounter mid man attack"
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients that read proxy variables (the SDK's module-level ``requests.get``, a subprocess's
    urllib) go straight to 127.0.0.1 whatever the machine's environment says."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# -- the clients ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A response as every client's test sees it (``headers`` look names up case-insensitively)."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Client:
    """One HTTP library, driven the same way by every test here, without proxies or retries.

    ``timeout`` is the library's timeout *per read* (each wait for bytes), the one most code sets;
    the other keyword arguments (``params``, ``data`` for a form, ``json``, ``headers``) are
    passed only when given.
    """

    name: ClassVar[str]

    def errors(self) -> dict[str, type[BaseException]]:
        """The exception the library raises for each socket fault, and for a read timeout."""
        raise NotImplementedError

    def attempts(self, kind: str) -> int:
        """How many times the library sends one GET that meets socket fault *kind* before raising."""
        return 1

    def send(self, method: str, url: str, *, timeout: float = 5.0, **kwargs: Any) -> Answer:
        raise NotImplementedError

    def get(self, url: str, **kwargs: Any) -> Answer:
        return self.send("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Answer:
        return self.send("POST", url, **kwargs)


class Urllib3(Client):
    name = "urllib3"

    def errors(self) -> dict[str, type[BaseException]]:
        return {
            "connection_reset": urllib3.exceptions.ProtocolError,
            "no_response": urllib3.exceptions.ProtocolError,
            "truncated_response": urllib3.exceptions.ProtocolError,
            "timeout": urllib3.exceptions.ReadTimeoutError,
        }

    def send(self, method: str, url: str, *, timeout: float = 5.0, **kwargs: Any) -> Answer:
        params, form = kwargs.pop("params", None), kwargs.pop("data", None)
        if params:
            url += "?" + urlencode(params)
        if form is not None:  # a form body, as the v1 API takes it
            kwargs.update(fields=form, encode_multipart=False)
        pool = urllib3.PoolManager()
        try:
            response = pool.request(method, url, retries=False, timeout=timeout, **kwargs)
        finally:
            pool.clear()
        return Answer(response.status, response.headers, response.data)


class Requests(Client):
    name = "requests"

    def errors(self) -> dict[str, type[BaseException]]:
        return {
            "connection_reset": requests.exceptions.ConnectionError,
            "no_response": requests.exceptions.ConnectionError,
            "truncated_response": requests.exceptions.ChunkedEncodingError,
            "timeout": requests.exceptions.ReadTimeout,
        }

    def send(self, method: str, url: str, *, timeout: float = 5.0, **kwargs: Any) -> Answer:
        with requests.Session() as session:
            session.trust_env = False
            response = session.request(method, url, timeout=timeout, **kwargs)
        return Answer(response.status_code, response.headers, response.content)


class HttpxSync(Client):
    name = "httpx-sync"

    def errors(self) -> dict[str, type[BaseException]]:
        return {
            "connection_reset": httpx.ReadError,
            "no_response": httpx.RemoteProtocolError,
            "truncated_response": httpx.RemoteProtocolError,
            "timeout": httpx.ReadTimeout,
        }

    def send(self, method: str, url: str, *, timeout: float = 5.0, **kwargs: Any) -> Answer:
        with httpx.Client(trust_env=False, timeout=timeout) as client:
            response = client.request(method, url, **kwargs)
        return Answer(response.status_code, response.headers, response.content)


class HttpxAsync(HttpxSync):
    name = "httpx-async"

    def send(self, method: str, url: str, *, timeout: float = 5.0, **kwargs: Any) -> Answer:
        async def go() -> Answer:
            async with httpx.AsyncClient(trust_env=False, timeout=timeout) as client:
                response = await client.request(method, url, **kwargs)
            return Answer(response.status_code, response.headers, response.content)

        return asyncio.run(go())


class Aiohttp(Client):
    name = "aiohttp"

    def errors(self) -> dict[str, type[BaseException]]:
        aiohttp = pytest.importorskip("aiohttp")
        return {
            "connection_reset": aiohttp.ClientOSError,
            "no_response": aiohttp.ServerDisconnectedError,
            "truncated_response": aiohttp.ClientPayloadError,
            "timeout": aiohttp.SocketTimeoutError,
        }

    def attempts(self, kind: str) -> int:
        # aiohttp resends an idempotent request once on ClientOSError or ServerDisconnectedError,
        # even on a fresh connection (ClientSession's retry_connection, on by default)
        return 2 if kind in ("connection_reset", "no_response") else 1

    def send(self, method: str, url: str, *, timeout: float = 5.0, **kwargs: Any) -> Answer:
        aiohttp = pytest.importorskip("aiohttp")
        limits = aiohttp.ClientTimeout(total=None, sock_connect=5.0, sock_read=timeout)
        return fetch_with_aiohttp(method, url, limits, **kwargs)


def fetch_with_aiohttp(method: str, url: str, limits: Any, **kwargs: Any) -> Answer:
    aiohttp = pytest.importorskip("aiohttp")

    async def go() -> Answer:
        async with aiohttp.ClientSession(timeout=limits) as session, session.request(method, url, **kwargs) as response:
            return Answer(response.status, response.headers, await response.read())

    return asyncio.run(go())


CLIENTS: list[Client] = [Urllib3(), Requests(), HttpxSync(), HttpxAsync(), Aiohttp()]


@pytest.fixture(
    params=[
        pytest.param(
            client,
            id=client.name,
            marks=pytest.mark.skipif(
                client.name == "aiohttp" and importlib.util.find_spec("aiohttp") is None, reason="aiohttp not installed"
            ),
        )
        for client in CLIENTS
    ]
)
def client(request: pytest.FixtureRequest) -> Client:
    """The HTTP library under test, pointed at ``cobo_server.url``."""
    chosen: Client = request.param
    return chosen


# -- an injected error ----------------------------------------------------------------------------------


def test_an_injected_error_arrives_as_cobos_envelope_at_its_status(cobo_server: CoboServer, client: Client) -> None:
    rule = cobo_server.inject(1010, path=COIN_INFO)
    answer = client.get(cobo_server.url + COIN_INFO + "?coin=BTC")
    envelope = assert_cobo_error(answer.content, 1010, message="The request is too frequent")
    assert answer.status == ERROR_CODES[1010].default_status == 429
    assert answer.headers["content-type"] == "application/json"
    reply = rule.calls[0].reply
    assert isinstance(reply, Reply)
    assert answer.content == reply.body  # byte for byte what the rule rendered
    assert envelope.error_id == answer.json()["error_id"]
    assert answer.json()["success"] is False


# -- socket faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["connection_reset", "no_response", "truncated_response"])
def test_each_socket_fault_raises_the_clients_own_exception(cobo_server: CoboServer, client: Client, kind: str) -> None:
    rule = cobo_server.network(kind, path=COIN_INFO)
    expected = client.errors()[kind]
    with pytest.raises(expected) as raised:
        client.get(cobo_server.url + COIN_INFO)
    assert type(raised.value) is expected  # exactly this class, not a subclass standing in for it
    assert rule.call_count == client.attempts(kind)  # each request arrived; the fault hit its connection


def test_urllib3_default_retry_sends_a_reset_request_four_times_then_raises_max_retry_error(
    cobo_server: CoboServer,
) -> None:
    # what the cobo-waas2 SDK does: urllib3's default Retry(total=3), so 1 request + 3 retries
    rule = cobo_server.network("connection_reset", path="/v2/wallets")
    with pytest.raises(urllib3.exceptions.MaxRetryError) as raised:
        urllib3.PoolManager().request("GET", cobo_server.url + "/v2/wallets", timeout=5)
    assert isinstance(raised.value.reason, urllib3.exceptions.ProtocolError)
    assert "Connection reset by peer" in str(raised.value.reason)
    assert rule.call_count == len(cobo_server.calls) == 4
    assert urllib3.util.Retry.DEFAULT.total == 3


def test_urllib3_without_retries_raises_the_bare_protocol_error_after_one_request(cobo_server: CoboServer) -> None:
    rule = cobo_server.network("connection_reset")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        urllib3.PoolManager().request("GET", cobo_server.url + "/v2/wallets", timeout=5, retries=False)
    assert rule.call_count == 1


# -- slow answers ---------------------------------------------------------------------------------------

DELAY, TIMEOUT = 3.0, 0.4
TRICKLE, PER_READ = 0.05, 0.3


def test_a_delay_past_the_clients_timeout_raises_its_own_timeout_after_the_timeout_not_the_delay(
    cobo_server: CoboServer, client: Client
) -> None:
    rule = cobo_server.succeed({"coin": "BTC"}, path=COIN_INFO, delay=DELAY)
    expected = client.errors()["timeout"]
    started = time.perf_counter()
    with pytest.raises(expected) as raised:
        client.get(cobo_server.url + COIN_INFO, timeout=TIMEOUT)
    elapsed = time.perf_counter() - started
    assert type(raised.value) is expected
    assert TIMEOUT * 0.9 <= elapsed < DELAY / 2  # measured: 0.40-0.44 s for every client, not 3 s
    assert rule.call_count == 1  # answered (late) by the rule: the client gave up first


def test_a_trickled_body_arrives_whole_in_about_ten_trickles_under_a_longer_per_read_timeout(
    cobo_server: CoboServer, client: Client
) -> None:
    # each read waits at most PER_READ (0.3 s) and each piece comes after TRICKLE (0.05 s), so the
    # client succeeds although the whole body takes 0.5 s, longer than its timeout: the timeout is per read
    result = {"address": "x" * 300}
    cobo_server.succeed(result, path=COIN_INFO, trickle=TRICKLE)
    started = time.perf_counter()
    answer = client.get(cobo_server.url + COIN_INFO, timeout=PER_READ)
    elapsed = time.perf_counter() - started
    assert answer.status == 200
    assert answer.json() == {"success": True, "result": result}
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert 9 * TRICKLE <= elapsed < 10 * TRICKLE + 1.0  # measured: 0.50-0.55 s
    assert elapsed > PER_READ


def test_a_trickled_body_fails_a_client_whose_total_deadline_is_shorter(cobo_server: CoboServer) -> None:
    aiohttp = pytest.importorskip("aiohttp")
    cobo_server.succeed({"address": "x" * 300}, path=COIN_INFO, trickle=TRICKLE)
    started = time.perf_counter()
    with pytest.raises(TimeoutError) as raised:
        fetch_with_aiohttp("GET", cobo_server.url + COIN_INFO, aiohttp.ClientTimeout(total=PER_READ))
    elapsed = time.perf_counter() - started
    # a total deadline gives the builtin TimeoutError, not one of aiohttp's ServerTimeoutError family
    assert type(raised.value) is TimeoutError
    assert not isinstance(raised.value, aiohttp.ServerTimeoutError)
    assert PER_READ * 0.9 <= elapsed < 10 * TRICKLE  # measured: 0.30 s, before the body's 0.5 s


# -- the request as the server captured it --------------------------------------------------------------


def test_the_server_captures_method_path_params_form_and_headers(cobo_server: CoboServer, client: Client) -> None:
    rule = cobo_server.inject(12009, method="POST", path=WITHDRAW)
    answer = client.post(
        cobo_server.url + WITHDRAW,
        params={"trace": "t1"},
        data={"request_id": "r-1", "coin": "ETH"},
        headers={"Biz-Api-Key": "k" * 66, "X-Trace": "t1"},
    )
    assert answer.status == 400
    request = rule.calls[0].request
    assert (request.method, request.path, request.params) == ("POST", WITHDRAW, {"trace": "t1"})
    assert request.content == b"request_id=r-1&coin=ETH"
    assert request.form == {"request_id": "r-1", "coin": "ETH"}
    assert request.header("content-type") == "application/x-www-form-urlencoded"
    headers = request.headers
    assert headers["biz-api-key"] == headers["Biz-Api-Key"] == headers["BIZ-API-KEY"] == "k" * 66
    assert "x-trace" in headers
    assert "X-TRACE" in headers
    assert headers.get("x-missing") is None
    assert request.transport == "server"
    assert request.url.startswith(cobo_server.url + WITHDRAW)


def test_the_server_captures_a_json_body_as_json_and_no_form(cobo_server: CoboServer, client: Client) -> None:
    rule = cobo_server.succeed({"id": "w-1"}, method="POST", path="/v2/wallets")
    answer = client.post(cobo_server.url + "/v2/wallets", json={"name": "w"})
    assert answer.json() == {"id": "w-1"}  # WaaS 2.0 answers the bare object, no success/result wrapper
    request = rule.calls[0].request
    assert request.json() == {"name": "w"}
    assert json.loads(request.content) == {"name": "w"}
    assert request.form == {}
    assert (request.header("Content-Type") or "").startswith("application/json")


# -- the official cobo-custody SDK ----------------------------------------------------------------------


@pytest.fixture
def custody() -> SimpleNamespace:
    """The cobo-custody 0.46 SDK's types, and ``client(server, cobo_pub)`` making its `Client`; a skip without it."""
    pytest.importorskip("cobo_custody")
    from cobo_custody.client.api_response import ApiResponse
    from cobo_custody.client.client import Client as SdkClient
    from cobo_custody.config.env import Env
    from cobo_custody.error.api_error import ApiError
    from cobo_custody.signer.local_signer import LocalSigner, generate_new_key

    def client(server: CoboServer, cobo_pub: str) -> Any:
        private_key, _ = generate_new_key()  # a throwaway API key
        return SdkClient(signer=LocalSigner(private_key), env=Env(host=server.url, coboPub=cobo_pub))

    return SimpleNamespace(ApiResponse=ApiResponse, ApiError=ApiError, client=client)


@pytest.fixture
def sdk(custody: SimpleNamespace, cobo_server: CoboServer, cobo_signing_key: TestKey) -> Any:
    """The SDK as a user configures it, with cobo_server's url as Cobo's host and the test key as Cobo's."""
    cobo_server.sign_responses(cobo_signing_key)
    return custody.client(cobo_server, cobo_signing_key.public_key_hex)


def test_the_sdk_verifies_a_signed_success_and_returns_its_result(
    sdk: Any, custody: SimpleNamespace, cobo_server: CoboServer, cobo_signing_key: TestKey
) -> None:
    rule = cobo_server.succeed({"coin": "BTC", "decimal": 8}, method="GET", path=COIN_INFO)
    answer = sdk.get_coin_info("BTC")
    assert answer == custody.ApiResponse(True, {"coin": "BTC", "decimal": 8}, None)
    reply = rule.calls[0].reply
    assert isinstance(reply, Reply)
    stamp, signature = reply.header("BIZ_TIMESTAMP"), reply.header("BIZ_RESP_SIGNATURE")
    assert stamp is not None
    assert signature is not None
    assert cobo_signing_key.verify(reply.body + b"|" + stamp.encode(), signature)  # what the SDK checked
    sent = rule.calls[0].request  # the SDK's own signed request, over the socket
    assert sent.params == {"coin": "BTC"}
    assert {"Biz-Api-Key", "Biz-Api-Nonce", "Biz-Api-Signature"} <= set(sent.headers)


def test_an_injected_12009_comes_back_as_a_failed_api_response(
    sdk: Any, custody: SimpleNamespace, cobo_server: CoboServer
) -> None:
    rule = cobo_server.inject(12009, method="POST", path=WITHDRAW)
    answer = sdk.withdraw("ETH", "0x" + "ab" * 20, 10**18, request_id="w-1")
    reply = rule.calls[0].reply
    assert isinstance(reply, Reply)
    error_id = json.loads(reply.body)["error_id"]
    assert answer == custody.ApiResponse(
        False, None, custody.ApiError(12009, "Duplicate withdraw request id", error_id)
    )
    assert rule.calls[0].request.form["request_id"] == "w-1"


@pytest.mark.parametrize("forgery", ["tampered", "wrong"])
def test_a_forged_signature_makes_the_sdk_raise(sdk: Any, cobo_server: CoboServer, forgery: Any) -> None:
    cobo_server.inject(signed(success({"coin": "BTC"}), forgery), path=COIN_INFO)
    with pytest.raises(Exception, match=VERIFY_FAILED) as raised:
        sdk.get_coin_info("BTC")
    assert type(raised.value) is Exception


def test_an_sdk_trusting_another_key_rejects_the_servers_signature(
    custody: SimpleNamespace, cobo_server: CoboServer, cobo_signing_key: TestKey
) -> None:
    cobo_server.sign_responses(cobo_signing_key)
    cobo_server.succeed({"coin": "BTC"}, path=COIN_INFO)
    stranger = custody.client(cobo_server, TestKey().public_key_hex)
    with pytest.raises(Exception, match=VERIFY_FAILED):
        stranger.get_coin_info("BTC")


def test_hyphen_only_signatures_are_never_checked_by_the_sdk_which_reads_underscores(
    custody: SimpleNamespace, cobo_server: CoboServer, cobo_signing_key: TestKey
) -> None:
    cobo_server.sign_responses(cobo_signing_key, spelling="hyphen")
    rule = cobo_server.sequence(
        [success({"coin": "BTC"}), signed(success({"coin": "ETH"}), "wrong", spelling="hyphen")], path=COIN_INFO
    )
    stranger = custody.client(cobo_server, TestKey().public_key_hex)  # would reject any signature it read
    assert stranger.get_coin_info("BTC") == custody.ApiResponse(True, {"coin": "BTC"}, None)
    assert stranger.get_coin_info("ETH") == custody.ApiResponse(True, {"coin": "ETH"}, None)
    for call in rule.calls:
        assert isinstance(call.reply, Reply)
        assert call.reply.header("Biz-Resp-Signature") is not None
        assert call.reply.header("BIZ_RESP_SIGNATURE") is None


# -- another process ------------------------------------------------------------------------------------

_URLLIB_SCRIPT = """
import json, os, urllib.error, urllib.request

base = os.environ["COBO_BASE_URL"]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for coin in ("BTC", "DOGE"):
    try:
        with opener.open(base + "/v1/custody/coin_info/?coin=" + coin, timeout=10) as response:
            status, body = response.status, json.load(response)
    except urllib.error.HTTPError as failure:
        status, body = failure.code, json.load(failure)
    print(json.dumps([coin, status, body.get("result"), body.get("error_code")]))
"""


def test_a_subprocess_reads_the_url_from_its_environment_and_reaches_the_server(cobo_server: CoboServer) -> None:
    cobo_server.sequence([success({"coin": "BTC"}), error(12002)], path=COIN_INFO)
    done = subprocess.run(
        [sys.executable, "-c", _URLLIB_SCRIPT],
        env={**os.environ, "COBO_BASE_URL": cobo_server.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        ["BTC", 200, {"coin": "BTC"}, None],
        ["DOGE", 400, None, 12002],
    ]
    assert [call.request.params for call in cobo_server.calls] == [{"coin": "BTC"}, {"coin": "DOGE"}]
    assert all((call.request.header("user-agent") or "").startswith("Python-urllib/") for call in cobo_server.calls)


# -- many threads at once -------------------------------------------------------------------------------

THREADS, EACH = 8, 25


def _hammer(url: str, path: str) -> tuple[list[tuple[str, Answer]], list[BaseException]]:
    """THREADS threads send EACH GETs each, all at once; every answer with the id it was sent with."""
    answers: list[tuple[str, Answer]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    gate = threading.Barrier(THREADS)

    def work(worker: int) -> None:
        try:
            with requests.Session() as session:
                session.trust_env = False
                gate.wait(timeout=10)
                for i in range(EACH):
                    sent = f"{worker}-{i}"
                    response = session.get(url + path, params={"id": sent}, timeout=10)
                    with lock:
                        answers.append((sent, Answer(response.status_code, response.headers, response.content)))
        except BaseException as failure:  # reported by the test, not lost in the thread
            with lock:
                failures.append(failure)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers, failures


def test_concurrent_requests_are_each_answered_and_recorded_once(cobo_server: CoboServer) -> None:
    rule = cobo_server.succeed({"ok": True}, path=COIN_INFO, expect_calls=THREADS * EACH)
    answers, failures = _hammer(cobo_server.url, COIN_INFO)
    assert failures == []
    assert len(answers) == THREADS * EACH
    assert {answer.status for _, answer in answers} == {200}
    sent = Counter(sent for sent, _ in answers)
    seen = Counter(call.request.params["id"] for call in rule.calls)
    assert seen == sent  # every request recorded once: none lost, none twice
    assert max(seen.values()) == 1
    assert len(cobo_server.calls) == rule.call_count == THREADS * EACH


def test_concurrent_requests_take_each_step_of_a_sequence_exactly_once(cobo_server: CoboServer) -> None:
    total = THREADS * EACH
    rule = cobo_server.sequence([success({"n": n}) for n in range(total)], path=COIN_INFO)
    answers, failures = _hammer(cobo_server.url, COIN_INFO)
    assert failures == []
    given = sorted(answer.json()["result"]["n"] for _, answer in answers)
    assert given == list(range(total))  # each step given exactly once, whatever the interleaving
    assert rule.exhausted
    # the recorded order is the order the steps were given in, and each call's id is the one that got it
    replies = [call.reply for call in rule.calls]
    assert [json.loads(reply.body)["result"]["n"] for reply in replies if isinstance(reply, Reply)] == list(
        range(total)
    )
    by_id = {sent: answer.json()["result"]["n"] for sent, answer in answers}
    assert {call.request.params["id"]: n for n, call in enumerate(rule.calls)} == by_id
