"""The catalog is Cobo's published error-code page, typed: nothing missing, nothing mistyped."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pytest_cobo_errors import ERROR_CODES, HTTP_STATUSES, UnknownCodeError, error_code, http_status
from pytest_cobo_errors.catalog import nearest_codes

_PUBLISHED = Path(os.environ.get("COBO_ERROR_CATALOG", Path(__file__).parents[2] / "shared" / "cobo-error-codes.txt"))


def _published() -> tuple[dict[int, str], dict[int, str]]:
    if not _PUBLISHED.exists():
        if "COBO_ERROR_CATALOG" in os.environ:
            pytest.fail(f"COBO_ERROR_CATALOG names {_PUBLISHED}, which does not exist")
        pytest.skip(f"the published catalog is not beside this checkout ({_PUBLISHED})")
    statuses: dict[int, str] = {}
    codes: dict[int, str] = {}
    section = None
    for line in _PUBLISHED.read_text(encoding="utf-8").splitlines():
        if line.startswith("Status Code"):
            section = statuses
        elif line.startswith("Error Code"):
            section = codes
        elif section is not None and (match := re.fullmatch(r"(\d{3,5})(\S.*)", line)):
            section[int(match[1])] = match[2]
    return statuses, codes


def test_every_published_status_is_in_the_catalog_verbatim() -> None:
    statuses, _ = _published()
    assert len(statuses) == 10
    assert {s: e.description for s, e in HTTP_STATUSES.items()} == statuses


def test_every_published_code_is_in_the_catalog_verbatim() -> None:
    _, codes = _published()
    assert len(codes) == 41
    assert {c: e.description for c, e in ERROR_CODES.items()} == codes


def test_families_split_the_codes_18_and_23() -> None:
    families = [e.family for e in ERROR_CODES.values()]
    assert families.count("1") == 18
    assert families.count("12") == 23
    assert all(str(e.code).startswith(e.family) for e in ERROR_CODES.values())


@pytest.mark.parametrize(
    ("code", "status"),
    [(1001, 401), (12000, 401), (12001, 401), (12005, 401), (1007, 403), (1030, 403), (1031, 403), (12003, 403),
     (12006, 403), (1010, 429), (1000, 500), (12022, 502), (12007, 400), (1070, 400)],
)  # fmt: skip
def test_default_http_status_follows_the_documented_convention(code: int, status: int) -> None:
    assert error_code(code).default_status == status


def test_ids_are_readable_and_unique() -> None:
    ids = [e.id for e in [*ERROR_CODES.values(), *HTTP_STATUSES.values()]]
    assert len(set(ids)) == 51
    assert error_code(12007).id == "12007-insufficient-balance"
    assert error_code(1000).id == "1000-unknown-internal-error"
    assert error_code(1002).id == "1002-unsupported-method-parameter"
    assert http_status(503).id == "http-503-service-unavailable"
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)


def test_message_is_the_title_before_the_dash() -> None:
    assert error_code(12000).message == "Signature headers missing"
    assert error_code(12005).message == "Signature permission denied"
    assert error_code(12007).message == "Insufficient balance"


def test_catalog_is_immutable() -> None:
    with pytest.raises(TypeError):
        ERROR_CODES[99] = ERROR_CODES[1000]  # type: ignore[index]
    with pytest.raises(AttributeError):
        error_code(12007).code = 1  # type: ignore[misc]


def test_unknown_code_names_the_nearest_documented_ones() -> None:
    with pytest.raises(UnknownCodeError, match=r"12017 is not a documented .* nearest documented: 12014, 12015, 12016"):
        error_code(12017)
    with pytest.raises(LookupError):
        error_code(999)


def test_unknown_status_lists_the_documented_ones() -> None:
    with pytest.raises(UnknownCodeError, match=r"418 .* documented: 400, 401, 403, 404, 405, 406, 429, 500, 502, 503"):
        http_status(418)


@pytest.mark.parametrize("bad", ["12007", 12007.0, True, None])
def test_lookup_rejects_non_integers_with_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        error_code(bad)  # type: ignore[arg-type]


def test_nearest_codes_prefers_same_length_codes() -> None:
    assert nearest_codes(1065) == [1050, 1060, 1070]
    assert nearest_codes(12300) == [12201, 12202, 12203]
