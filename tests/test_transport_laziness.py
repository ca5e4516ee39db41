"""The plugin imports ``requests`` only once the code under test does.

``--cobo-transports=auto`` (the default) intercepts requests wherever it is installed, and many
suites that have it installed never send with it: importing it for them (with urllib3 and
charset_normalizer) would cost about as much as a hundred small tests. So the requests transport
waits for the library's import, and patches it as soon as that import has run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> str:
    """What *code* prints, run in a fresh interpreter (this one has imported requests long ago)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def test_a_fault_set_that_intercepts_requests_imports_it_only_when_the_code_does() -> None:
    code = """
        import sys
        from pytest_cobo_errors.faults import CoboFaults

        finders = list(sys.meta_path)
        with CoboFaults(transports=("httpx", "requests")) as faults:
            faults.inject(12007, optional=True)
            during = "requests" in sys.modules
        after = "requests" in sys.modules
        import requests  # after the set ended: nothing of the plugin's is left behind

        print(during, after, sys.meta_path == finders, requests.Session.get_adapter.__qualname__)
    """
    assert _run(code) == "False False True Session.get_adapter"


def test_requests_first_imported_inside_a_fault_set_is_intercepted_from_its_first_request() -> None:
    code = """
        import sys
        from pytest_cobo_errors.faults import CoboFaults

        finders = list(sys.meta_path)
        with CoboFaults(transports=("httpx", "requests")) as faults:
            faults.inject(12007, path="/v1/custody/coin_info/")
            import requests

            answer = requests.get("https://api.dev.cobo.com/v1/custody/coin_info/", timeout=5)
        print(answer.status_code, answer.json()["error_code"], requests.Session.get_adapter.__qualname__)
        print(sys.meta_path == finders, requests.__loader__ is requests.__spec__.loader, type(requests.__loader__).__name__)
    """
    assert _run(code).splitlines() == ["400 12007 Session.get_adapter", "True True SourceFileLoader"]


def test_requests_first_imported_by_a_thread_of_the_fault_set_is_intercepted_there_too() -> None:
    code = """
        import threading
        from pytest_cobo_errors.faults import CoboFaults

        got = {}

        def worker():
            import requests

            got["code"] = requests.get("https://api.dev.cobo.com/v1/custody/coin_info/", timeout=5).json()["error_code"]

        with CoboFaults(transports=("requests",)) as faults:
            faults.inject(12007, path="/v1/custody/coin_info/")
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
        print(got)
    """
    assert _run(code) == "{'code': 12007}"


def test_under_auto_the_plugin_leaves_requests_to_the_tests_that_use_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a_httpx_only="""
            import sys

            def test_httpx_only(cobo_fault):
                cobo_fault.inject(12007, optional=True)
                assert "requests" not in sys.modules
        """,
        test_b_requests="""
            def test_requests(cobo_fault):
                import requests

                cobo_fault.inject(12007, path="/v1/custody/coin_info/")
                answer = requests.get("https://api.dev.cobo.com/v1/custody/coin_info/", timeout=5)
                assert answer.json()["error_code"] == 12007
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--cobo-transports=auto")
    result.assert_outcomes(passed=2)
