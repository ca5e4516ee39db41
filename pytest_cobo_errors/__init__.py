"""pytest-cobo-errors: prove your code handles every documented Cobo custody API error.

The pytest plugin (``pytest_cobo_errors.plugin``) loads automatically and provides the
``cobo_fault`` fixture. Everything here is importable without pytest running; Hypothesis
strategies live in `pytest_cobo_errors.strategies`, imported only when you ask for them.
"""

from __future__ import annotations

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
from pytest_cobo_errors.faults import CoboFaults, cobo_faults
from pytest_cobo_errors.hosts import COBO_BASE_URLS, CapturedRequest
from pytest_cobo_errors.outcomes import (
    connect_error,
    connect_timeout,
    dropped_connection,
    error,
    gateway,
    read_timeout,
    respond,
    success,
)
from pytest_cobo_errors.rules import (
    Call,
    CoboFaultError,
    FaultRule,
    SequenceExhaustedError,
    UnmatchedRequestError,
)
from pytest_cobo_errors.selection import CodeFilter, PatternError, parse_filter
from pytest_cobo_errors.signing import SigningUnavailableError, TestKey, signed

__all__ = [
    "COBO_BASE_URLS",
    "ERROR_CODES",
    "HTTP_STATUSES",
    "Call",
    "CapturedRequest",
    "CoboErrorCase",
    "CoboFaultError",
    "CoboFaults",
    "CodeFilter",
    "EnvelopeError",
    "ErrorCode",
    "ErrorEnvelope",
    "FaultRule",
    "HttpStatus",
    "PatternError",
    "SequenceExhaustedError",
    "SigningUnavailableError",
    "TestKey",
    "UnknownCodeError",
    "UnmatchedRequestError",
    "assert_cobo_error",
    "build_envelope",
    "cobo_error_cases",
    "cobo_faults",
    "connect_error",
    "connect_timeout",
    "dropped_connection",
    "error",
    "error_code",
    "gateway",
    "http_status",
    "parse_envelope",
    "parse_filter",
    "read_timeout",
    "respond",
    "signed",
    "success",
    "success_envelope",
]
