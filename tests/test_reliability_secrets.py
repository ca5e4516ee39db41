"""Secrets: failure messages and call reprs never print Biz-Api-Key / Biz-Api-Signature values in full.

A test suite's output ends up in CI logs, so the API key and request signature a client sends
must never appear there whole, however a test fails: an unanswered request, a rule used the
wrong number of times, a failed assertion about the recorded calls.
"""

from __future__ import annotations

import re

import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest

from pytest_cobo_errors import Call, CapturedRequest, error
from pytest_cobo_errors.transports import available

API_KEY = "02" + "ab" * 32  # a compressed secp256k1 public key, as Cobo's API keys are: 66 hex characters
SIGNATURE = "3045" + "cd" * 68  # a DER-encoded ECDSA signature in hex: about 140 characters
URL = "https://api.dev.cobo.com/v1/custody/coin_info/?coin=BTC"


def _request(headers: dict[str, str]) -> CapturedRequest:
    return CapturedRequest("GET", URL, headers, b"", transport="httpx")


@pytest.mark.parametrize("name", ["Biz-Api-Key", "biz-api-key", "BIZ-API-KEY"])
def test_a_captured_request_repr_masks_the_api_key(name: str) -> None:
    shown = repr(_request({name: API_KEY, "Biz-Api-Nonce": "1700000000000"}))
    assert API_KEY not in shown
    assert "…(66 chars)" in shown
    assert "1700000000000" in shown  # the nonce is no secret, and helps to tell requests apart


@pytest.mark.parametrize("name", ["Biz-Api-Signature", "biz-api-signature", "BIZ-API-SIGNATURE"])
def test_a_captured_request_repr_masks_the_signature(name: str) -> None:
    shown = repr(_request({name: SIGNATURE}))
    assert SIGNATURE not in shown
    assert "…(140 chars)" in shown


@pytest.mark.parametrize("secret", ["k", "k3y", "sig-1234", "123456789", "x" * 20], ids=len)
@pytest.mark.parametrize("name", ["Biz-Api-Key", "Biz-Api-Signature"])
def test_short_secrets_are_masked_too(name: str, secret: str) -> None:
    """Test suites often use short fake keys; a short real-looking one must not print whole either."""
    shown = repr(_request({name: secret}))
    assert f"'{secret}'" not in shown
    assert f"({len(secret)} chars)" in shown


def test_a_call_repr_masks_its_request() -> None:
    outcome = error(12007)
    call = Call(_request({"Biz-Api-Key": API_KEY, "Biz-Api-Signature": SIGNATURE}), outcome, outcome.render())
    for shown in (repr(call), str(call), repr([call]), f"{call!r}"):
        assert API_KEY not in shown
        assert SIGNATURE not in shown


def test_describe_names_the_request_without_headers() -> None:
    assert _request({"Biz-Api-Key": API_KEY}).describe() == f"GET {URL}"


PASSWORD = "pw-" + "5ecret" * 4


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://cobo:{PASSWORD}@api.dev.cobo.com/v1/x?a=1", "https://cobo:***@api.dev.cobo.com/v1/x?a=1"),
        (f"https://cobo:{PASSWORD}@api.dev.cobo.com:8443/v1/x", "https://cobo:***@api.dev.cobo.com:8443/v1/x"),
        (f"http://cobo:{PASSWORD}@[::1]:8000/v1/x", "http://cobo:***@[::1]:8000/v1/x"),
        (f"https://cobo:p@ss{PASSWORD}@api.dev.cobo.com/", "https://cobo:***@api.dev.cobo.com/"),  # an @ of its own
        (f"https://:{PASSWORD}@api.dev.cobo.com/", "https://:***@api.dev.cobo.com/"),
    ],
)
def test_a_password_in_the_url_is_masked_in_describe_and_repr(url: str, shown: str) -> None:
    """requests keeps a URL's userinfo in the URL it sends, and messages print the URL."""
    request = CapturedRequest("GET", url, {}, b"", transport="requests")
    assert request.describe() == f"GET {shown}"
    assert PASSWORD not in repr(request)
    assert request.url == url  # the request as sent stays inspectable by the test itself


@pytest.mark.parametrize("url", ["https://cobo@api.dev.cobo.com/v1/x", "https://api.dev.cobo.com/v1/x?user=a:b@c"])
def test_a_url_without_a_password_is_shown_as_sent(url: str) -> None:
    assert CapturedRequest("GET", url).describe() == f"GET {url}"


# -- whole failing runs: nothing the terminal prints holds a secret -----------------------
FAILING_SUITE = """
import itertools

import httpx
import pytest

API_KEY = "02" + "ab" * 32
SIGNATURE = "3045" + "cd" * 68
NONCES = itertools.count(1)


class Signer(httpx.Auth):
    # signs each request as a real Cobo client does: so two requests differ in their signature
    def auth_flow(self, request):
        request.headers["Biz-Api-Key"] = API_KEY
        request.headers["Biz-Api-Signature"] = SIGNATURE[:-2] + "%02d" % next(NONCES)
        yield request


def send(path="/v1/custody/coin_info/"):
    with httpx.Client(trust_env=False, auth=Signer()) as client:
        return client.get("https://api.dev.cobo.com" + path)


def test_unanswered(cobo_fault):
    send()


def test_unanswered_among_rules(cobo_fault):
    cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")
    send()


def test_caught_unanswered_is_reported_at_teardown(cobo_fault):
    with pytest.raises(AssertionError):
        send()


def test_called_too_often(cobo_fault):
    cobo_fault.inject(12007, expect_calls=1)
    send()
    send()


def test_assert_called_times(cobo_fault):
    rule = cobo_fault.inject(1010)
    send()
    send()
    rule.assert_called_times(3)


def test_sequence_spent(cobo_fault):
    cobo_fault.sequence([1010])
    send()
    send()


def test_verify_inside_the_test(cobo_fault):
    cobo_fault.inject(12007)
    cobo_fault.inject(1010, path="/v1/custody/address_info/")
    send()
    cobo_fault.verify()


def test_assert_on_the_calls(cobo_fault):
    cobo_fault.inject(12007)
    send()
    assert cobo_fault.calls == []


def test_compare_two_calls(cobo_fault):
    cobo_fault.inject(12007)
    send()
    send()
    assert cobo_fault.calls[0] == cobo_fault.calls[1]


def test_compare_two_requests(cobo_fault):
    cobo_fault.inject(12007)
    send()
    send()
    assert cobo_fault.calls[0].request == cobo_fault.calls[1].request
"""


def _transports() -> list[object]:
    params: list[object] = ["httpx"]
    ready = "requests" in available()
    params.append(pytest.param("requests", marks=pytest.mark.skipif(not ready, reason="no requests transport")))
    return params


REQUESTS_SIGNER = """
import requests


class Signer(requests.auth.AuthBase):
    def __call__(self, request):
        request.headers["Biz-Api-Key"] = API_KEY
        request.headers["Biz-Api-Signature"] = SIGNATURE[:-2] + "%02d" % next(NONCES)
        return request


def send(path="/v1/custody/coin_info/"):
    with requests.Session() as client:
        client.trust_env = False
        return client.get("https://api.dev.cobo.com" + path, auth=Signer())
"""


def _failing_suite(transport: str) -> str:
    if transport == "httpx":
        return FAILING_SUITE
    head, rest = FAILING_SUITE.split("class Signer", 1)
    tests = rest[rest.index("def test_unanswered") :]
    return head.replace("import httpx\n", "") + REQUESTS_SIGNER + "\n\n" + tests


@pytest.mark.parametrize("transport", _transports())
@pytest.mark.parametrize("style", [["--tb=auto"], ["--tb=long", "-vv"], ["--tb=short", "-rA"]], ids=" ".join)
def test_no_failure_output_prints_a_secret_in_full(pytester: pytest.Pytester, transport: str, style: list[str]) -> None:
    pytester.makepyfile(_failing_suite(transport))
    result = pytester.runpytest("-p", "no:randomly", f"--cobo-transports={transport}", *style)
    result.assert_outcomes(failed=8, passed=2, errors=2)  # two fail only at teardown
    output = result.stdout.str() + result.stderr.str()
    assert "…(66 chars)" in output, "the failures should name the requests they are about"
    assert _sections_showing(output, API_KEY) == []
    assert _sections_showing(output, SIGNATURE[:-2]) == []


def _sections_showing(output: str, secret: str) -> list[str]:
    """The titles of the report's sections ("____ test_x ____") whose text holds *secret*."""
    leaking: list[str] = []
    title = "(header)"
    for line in output.splitlines():
        if re.fullmatch(r"_{3,} .+ _{3,}|={3,} .+ ={3,}", line):
            title = line.strip("_= ")
        if secret in line and title not in leaking:
            leaking.append(title)
    return leaking


# -- whole failing runs: a password in a URL is masked wherever the request is printed ------
PASSWORD_SUITE = """
import threading

import pytest

URL = "https://cobo-user:{password}@api.dev.cobo.com/v1/custody/coin_info/"
{send}

def test_unanswered(cobo_fault):
    send()


def test_caught_unanswered_is_reported_at_teardown(cobo_fault):
    with pytest.raises(AssertionError):
        send()


def test_called_too_often(cobo_fault):
    cobo_fault.inject(12007, expect_calls=1)
    send()
    send()


LATE = threading.Event()
THREADS = []


def test_leaves_a_thread_behind(cobo_fault):
    def late():
        LATE.wait(5)
        with pytest.raises(Exception, match="outside every test's fault window"):
            send()

    THREADS.append(threading.Thread(target=late))
    THREADS[0].start()


def test_the_thread_sends_after_that_test_ended():
    LATE.set()
    THREADS[0].join(5)
"""
SENDERS = {
    "httpx": """
import httpx


def send():
    with httpx.Client(trust_env=False) as client:
        return client.get(URL)
""",
    "requests": """
import requests


def send():
    with requests.Session() as session:
        session.trust_env = False
        return session.get(URL)
""",
}


@pytest.mark.parametrize("transport", _transports())
@pytest.mark.parametrize("style", [["--tb=auto", "-vv"], ["--tb=short", "-rA"]], ids=" ".join)
def test_no_failure_output_prints_a_url_password(pytester: pytest.Pytester, transport: str, style: list[str]) -> None:
    """Not under --tb=long: pytest itself prints the arguments of every library frame, the URL among them."""
    pytester.makepyfile(PASSWORD_SUITE.format(password=PASSWORD, send=SENDERS[transport]))
    result = pytester.runpytest("-p", "no:randomly", f"--cobo-transports={transport}", *style)
    result.assert_outcomes(failed=1, passed=4, errors=2)  # two fail only at teardown
    output = result.stdout.str() + result.stderr.str()
    assert "cobo-errors: requests refused outside every test's fault window" in output  # the strays summary
    assert _sections_showing(output, PASSWORD) == []
    if transport == "requests":  # httpx moves userinfo to the (masked) Authorization header itself
        assert "GET https://cobo-user:***@api.dev.cobo.com/v1/custody/coin_info/" in output
