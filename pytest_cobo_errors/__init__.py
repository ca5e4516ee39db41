"""pytest-cobo-errors: prove your code handles every documented Cobo custody API error.

The pytest plugin (``pytest_cobo_errors.plugin``) loads automatically and provides the
``cobo_fault`` fixture. Everything here is importable without pytest running; Hypothesis
strategies live in `pytest_cobo_errors.strategies`, imported only when you ask for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_cobo_errors.callbacks import CallbackCase, CoboCallbacks, callback_cases, cobo_callback_cases
    from pytest_cobo_errors.cases import CoboErrorCase, cobo_error_cases
    from pytest_cobo_errors.catalog import (
        ERROR_CODES,
        HTTP_STATUSES,
        ErrorCode,
        HttpStatus,
        UnknownCodeError,
        error_code,
        http_status,
    )
    from pytest_cobo_errors.envelopes import (
        EnvelopeError,
        ErrorEnvelope,
        assert_cobo_error,
        build_envelope,
        parse_envelope,
        success_envelope,
    )
    from pytest_cobo_errors.faults import CoboFaults, CountedRuleOptions, RuleOptions
    from pytest_cobo_errors.hosts import COBO_BASE_URLS, CapturedRequest
    from pytest_cobo_errors.outcomes import (
        ComputedAnswer,
        ErrorAnswer,
        GatewayPage,
        LostAnswer,
        NetworkFault,
        Outcome,
        RawAnswer,
        SuccessAnswer,
        connect_error,
        connect_timeout,
        connection_reset,
        error,
        gateway,
        lost,
        no_response,
        read_timeout,
        respond,
        success,
        truncated_response,
    )
    from pytest_cobo_errors.rules import (
        BlockedRequestError,
        Call,
        CoboFaultError,
        FaultRule,
        SequenceExhaustedError,
        StrayRequestError,
        UnmatchedRequestError,
    )
    from pytest_cobo_errors.selection import CodeFilter, PatternError, parse_filter
    from pytest_cobo_errors.server import CoboServer
    from pytest_cobo_errors.signing import SigningUnavailableError, TestKey, signed
    from pytest_cobo_errors.transports.contract import Headers

__all__ = [
    "COBO_BASE_URLS",
    "ERROR_CODES",
    "HTTP_STATUSES",
    "BlockedRequestError",
    "Call",
    "CallbackCase",
    "CapturedRequest",
    "CoboCallbacks",
    "CoboErrorCase",
    "CoboFaultError",
    "CoboFaults",
    "CoboServer",
    "CodeFilter",
    "ComputedAnswer",
    "CountedRuleOptions",
    "EnvelopeError",
    "ErrorAnswer",
    "ErrorCode",
    "ErrorEnvelope",
    "FaultRule",
    "GatewayPage",
    "Headers",
    "HttpStatus",
    "LostAnswer",
    "NetworkFault",
    "Outcome",
    "PatternError",
    "RawAnswer",
    "RuleOptions",
    "SequenceExhaustedError",
    "SigningUnavailableError",
    "StrayRequestError",
    "SuccessAnswer",
    "TestKey",
    "UnknownCodeError",
    "UnmatchedRequestError",
    "assert_cobo_error",
    "build_envelope",
    "callback_cases",
    "cobo_callback_cases",
    "cobo_error_cases",
    "connect_error",
    "connect_timeout",
    "connection_reset",
    "error",
    "error_code",
    "gateway",
    "http_status",
    "lost",
    "no_response",
    "parse_envelope",
    "parse_filter",
    "read_timeout",
    "respond",
    "signed",
    "success",
    "success_envelope",
    "truncated_response",
]

# Loaded on first use (PEP 562): importing the plugin must not pay for the whole API.
_HOMES = {
    "BlockedRequestError": "pytest_cobo_errors.rules",
    "COBO_BASE_URLS": "pytest_cobo_errors.hosts",
    "Call": "pytest_cobo_errors.rules",
    "CallbackCase": "pytest_cobo_errors.callbacks",
    "CapturedRequest": "pytest_cobo_errors.hosts",
    "CoboCallbacks": "pytest_cobo_errors.callbacks",
    "CoboErrorCase": "pytest_cobo_errors.cases",
    "CoboFaultError": "pytest_cobo_errors.rules",
    "CoboFaults": "pytest_cobo_errors.faults",
    "CoboServer": "pytest_cobo_errors.server",
    "CodeFilter": "pytest_cobo_errors.selection",
    "ComputedAnswer": "pytest_cobo_errors.outcomes",
    "CountedRuleOptions": "pytest_cobo_errors.faults",
    "ERROR_CODES": "pytest_cobo_errors.catalog",
    "EnvelopeError": "pytest_cobo_errors.envelopes",
    "ErrorAnswer": "pytest_cobo_errors.outcomes",
    "ErrorCode": "pytest_cobo_errors.catalog",
    "ErrorEnvelope": "pytest_cobo_errors.envelopes",
    "FaultRule": "pytest_cobo_errors.rules",
    "GatewayPage": "pytest_cobo_errors.outcomes",
    "HTTP_STATUSES": "pytest_cobo_errors.catalog",
    "Headers": "pytest_cobo_errors.transports.contract",
    "HttpStatus": "pytest_cobo_errors.catalog",
    "LostAnswer": "pytest_cobo_errors.outcomes",
    "NetworkFault": "pytest_cobo_errors.outcomes",
    "Outcome": "pytest_cobo_errors.outcomes",
    "PatternError": "pytest_cobo_errors.selection",
    "RawAnswer": "pytest_cobo_errors.outcomes",
    "RuleOptions": "pytest_cobo_errors.faults",
    "SequenceExhaustedError": "pytest_cobo_errors.rules",
    "SigningUnavailableError": "pytest_cobo_errors.signing",
    "StrayRequestError": "pytest_cobo_errors.rules",
    "SuccessAnswer": "pytest_cobo_errors.outcomes",
    "TestKey": "pytest_cobo_errors.signing",
    "UnknownCodeError": "pytest_cobo_errors.catalog",
    "UnmatchedRequestError": "pytest_cobo_errors.rules",
    "assert_cobo_error": "pytest_cobo_errors.envelopes",
    "build_envelope": "pytest_cobo_errors.envelopes",
    "callback_cases": "pytest_cobo_errors.callbacks",
    "cobo_callback_cases": "pytest_cobo_errors.callbacks",
    "cobo_error_cases": "pytest_cobo_errors.cases",
    "connect_error": "pytest_cobo_errors.outcomes",
    "connect_timeout": "pytest_cobo_errors.outcomes",
    "connection_reset": "pytest_cobo_errors.outcomes",
    "error": "pytest_cobo_errors.outcomes",
    "error_code": "pytest_cobo_errors.catalog",
    "gateway": "pytest_cobo_errors.outcomes",
    "http_status": "pytest_cobo_errors.catalog",
    "lost": "pytest_cobo_errors.outcomes",
    "no_response": "pytest_cobo_errors.outcomes",
    "parse_envelope": "pytest_cobo_errors.envelopes",
    "parse_filter": "pytest_cobo_errors.selection",
    "read_timeout": "pytest_cobo_errors.outcomes",
    "respond": "pytest_cobo_errors.outcomes",
    "signed": "pytest_cobo_errors.signing",
    "success": "pytest_cobo_errors.outcomes",
    "success_envelope": "pytest_cobo_errors.envelopes",
    "truncated_response": "pytest_cobo_errors.outcomes",
}


# Names renamed before the first release (see CHANGELOG): an old name says what replaced it.
_RENAMED = {
    "cobo_faults": "CoboFaults (a fault set is its own context manager: with CoboFaults() as faults: ...)",
    "dropped_connection": "truncated_response",
    "CoboError": "ErrorAnswer",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        renamed = _RENAMED.get(name)
        if renamed is not None:
            # an ImportError, not an AttributeError: `from ... import` would replace the latter with
            # its own message, which does not say what to import instead
            raise ImportError(f"{name} was renamed before the first release: use {renamed}", name=name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # not cached here: a module dropped from sys.modules (pytester does that) must not leave a stale class
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
