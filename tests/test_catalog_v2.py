"""The v2 catalog is Cobo's published WaaS 2.0 error-code page, typed: every row, every section,
both meanings of 40001-40003, the HTTP status table, and the page's history of removed codes."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from pytest_cobo_errors import ERROR_CODES, HTTP_STATUSES, UnknownCodeError
from pytest_cobo_errors.catalog_v2 import (
    V2_ERROR_CODES,
    V2_HTTP_STATUSES,
    V2_REMOVED_CODES,
    V2_REMOVED_SECTION,
    V2_SECTIONS,
    V2ErrorCode,
    iter_v2_entries,
    v2_error_code,
)

_ENV = "COBO_WAAS2_ERROR_CATALOG"
_DEFAULT = Path(__file__).parents[2] / "shared" / "cobo-waas2-error-codes.txt"
_STATUS_SECTION = "HTTP status codes"


# -- reading the published page -------------------------------------------------------------------
@dataclass
class _Page:
    sections: list[str] = field(default_factory=list)
    rows: list[tuple[str, tuple[int, ...], str]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)
    header: str = ""


def _published_path() -> Path:
    path = Path(os.environ.get(_ENV, _DEFAULT))
    if not path.exists():
        if _ENV in os.environ:
            pytest.fail(f"{_ENV} names {path}, which does not exist")
        pytest.skip(f"the published WaaS 2.0 catalog is not beside this checkout ({path})")
    return path


def _parse(text: str) -> _Page:
    """Every line is a header comment, a section heading, a note, a row or blank: nothing is skipped."""
    page = _Page()
    comments: list[str] = []
    section = None
    for number, line in enumerate(text.splitlines(), 1):
        if heading := re.fullmatch(r"## (.+)", line):
            section = heading[1]
            if section != _STATUS_SECTION:
                page.sections.append(section)
        elif line.startswith("#"):
            comments.append(line.lstrip("#").strip())
        elif section is not None and line.startswith("Note: "):
            page.notes[section] = line
        elif section is not None and (row := re.fullmatch(r"(\d+(?:, \d+)*)\t(\S.*)", line)):
            codes = tuple(int(c) for c in row[1].split(", "))
            if section == _STATUS_SECTION:
                page.statuses[codes[0]] = row[2]
            else:
                page.rows.append((section, codes, row[2]))
        elif line.strip():
            pytest.fail(f"line {number} of the published catalog is not a heading, note or row: {line!r}")
    page.header = " ".join(comments)
    return page


@cache
def _read(path: Path) -> _Page:
    return _parse(path.read_text(encoding="utf-8"))


def _page() -> _Page:
    return _read(_published_path())


def _history() -> dict[int, tuple[str | None, str]]:
    """The header's history: removed code -> (its description then, if given; the date it went)."""
    header = _page().header
    removed: dict[int, tuple[str | None, str]] = {}
    first = re.search(r"first published \S+ with (.+?); those \w+ were removed on (\d{4}-\d{2}-\d{2})", header)
    assert first, header
    for code, was in re.findall(r"(\d+) \(([^)]+)\)", first[1]):
        removed[int(code)] = (was, first[2])
    listed = re.compile(r"(\d+(?:-\d+)?(?:(?:, | and )\d+(?:-\d+)?)*) were removed on (\d{4}-\d{2}-\d{2})")
    for codes, date in listed.findall(header):
        for item in re.split(r", | and ", codes):
            low, _, high = item.partition("-")
            for code in range(int(low), int(high or low) + 1):
                removed[code] = (None, date)
    return removed


# -- the reader itself ----------------------------------------------------------------------------
def test_a_missing_catalog_named_by_the_env_var_fails_rather_than_skips(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(_ENV, str(tmp_path / "nowhere.txt"))
    with pytest.raises(pytest.fail.Exception, match=r"COBO_WAAS2_ERROR_CATALOG names .*nowhere\.txt, which does not"):
        _published_path()


def test_a_missing_default_catalog_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(_ENV, raising=False)
    monkeypatch.setattr(sys.modules[__name__], "_DEFAULT", tmp_path / "nowhere.txt")
    with pytest.raises(pytest.skip.Exception, match="not beside this checkout"):
        _published_path()


def test_the_reader_refuses_a_line_it_does_not_understand() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"line 3 .* '30012 The transfer amount'"):
        _parse("## Transfer errors\n30000\tUnauthorized.\n30012 The transfer amount\n")


# -- the page, row by row -------------------------------------------------------------------------
def test_sections_are_the_pages_headings_in_page_order() -> None:
    assert list(V2_SECTIONS) == _page().sections
    assert len(V2_SECTIONS) == 12
    assert V2_SECTIONS[0] == "General errors"
    assert V2_SECTIONS[-1] == "Travel Rule errors"


def test_every_published_row_is_in_the_catalog_verbatim() -> None:
    page = _page()
    for section, codes, description in page.rows:
        for code in codes:
            assert (section, description) in V2_ERROR_CODES[code].meanings, (code, section)


def test_the_catalog_holds_exactly_the_published_codes_in_page_order() -> None:
    expected: dict[int, list[tuple[str, str]]] = {}
    for section, codes, description in _page().rows:
        for code in codes:
            expected.setdefault(code, []).append((section, description))
    assert len(expected) == len(V2_ERROR_CODES) == 126
    assert list(V2_ERROR_CODES) == list(expected)
    assert {c: list(e.meanings) for c, e in V2_ERROR_CODES.items()} == expected


def test_description_and_section_are_the_first_meaning() -> None:
    for entry in V2_ERROR_CODES.values():
        assert (entry.section, entry.description) == entry.meanings[0]
        assert entry.api == "v2"
    assert v2_error_code(30012).section == "Transfer errors"
    assert v2_error_code(30012).description == "The transfer amount exceeds the wallet's available balance."


def test_codes_on_one_row_share_their_meaning() -> None:
    shared = {c: e.shares for c, e in V2_ERROR_CODES.items() if e.shares}
    assert shared == {
        1003: (2003,), 2003: (1003,),
        1006: (2006,), 2006: (1006,),
        2025: (4001,), 4001: (2025,),
        30001: (12009,), 12009: (30001,),
        30012: (12007,), 12007: (30012,),
    }  # fmt: skip
    published = {code: tuple(c for c in codes if c != code) for _, codes, _ in _page().rows for code in codes}
    assert shared == {c: s for c, s in published.items() if s}
    for code, (other,) in shared.items():
        assert v2_error_code(code).meanings == v2_error_code(other).meanings
        assert v2_error_code(code).default_status == v2_error_code(other).default_status


def test_40001_to_40003_mean_one_thing_for_evm_and_another_for_transaction_categories() -> None:
    page = _page()
    assert {c for c, e in V2_ERROR_CODES.items() if len(e.meanings) > 1} == {40001, 40002, 40003}
    assert v2_error_code(40001).meanings == (
        (
            "Smart contract and EVM errors",
            "The external data source (such as a block explorer) rate limit has been reached.",
        ),
        ("Transaction category errors", "The specified organization was not found."),
    )
    assert v2_error_code(40002).meanings[1] == (
        "Transaction category errors",
        "The number of transaction categories has reached the maximum limit.",
    )
    assert v2_error_code(40003).meanings[1][1] == "A category with this name already exists in the organization."
    # the page warns about it in both sections
    assert set(page.notes) == {"Smart contract and EVM errors", "Transaction category errors"}
    assert all("40001–40003" in note for note in page.notes.values())


def test_30031_and_60010_share_a_description_but_not_a_row() -> None:
    assert v2_error_code(30031).description == v2_error_code(60010).description
    assert v2_error_code(30031).shares == v2_error_code(60010).shares == ()
    assert (v2_error_code(30031).section, v2_error_code(60010).section) == (
        "Transfer errors",
        "Token and balance errors",
    )


def test_the_http_status_table_is_in_the_catalog_verbatim() -> None:
    published = _page().statuses
    assert list(published) == [200, 400, 401, 403, 404, 405, 406, 429, 500, 502, 503]
    assert {s: h.description for s, h in V2_HTTP_STATUSES.items()} == published


# -- the page's history -------------------------------------------------------------------------
def test_removed_codes_are_the_ones_the_pages_history_names() -> None:
    history = _history()
    assert list(history) == [2002, 2010, 2022, 2023, 2040, 30019, 30020, 30021, 30034]
    assert list(V2_REMOVED_CODES) == list(history)
    for code, (was, date) in history.items():
        entry = V2_REMOVED_CODES[code]
        assert (entry.removed, entry.removed_on, entry.section) == (True, date, V2_REMOVED_SECTION)
        assert entry.history is not None
        assert date in entry.history
        if was is not None:
            assert entry.description == was
    assert not set(V2_REMOVED_CODES) & set(V2_ERROR_CODES)


def test_removed_codes_keep_the_meaning_the_history_gives() -> None:
    assert v2_error_code(2002, removed=True).description == "unsupported HTTP method"
    assert v2_error_code(2023, removed=True).description == "missing or invalid API signature"
    assert v2_error_code(2023, removed=True).removed_on == "2026-02-02"
    assert "first version (2025-04-10)" in (v2_error_code(2040, removed=True).history or "")


@pytest.mark.parametrize("code", [30019, 30020, 30021, 30034])
def test_a_removed_code_whose_meaning_was_not_recorded_says_so(code: int) -> None:
    assert _history()[code] == (None, "2026-08-14")
    entry = v2_error_code(code, removed=True)
    assert entry.description == "Removed from the docs on 2026-08-14; its meaning was not recorded."
    assert entry.removed_on == "2026-08-14"


def test_current_codes_are_not_removed() -> None:
    assert not any(e.removed or e.removed_on for e in V2_ERROR_CODES.values())


def test_30001_records_the_meaning_it_had_in_the_first_version() -> None:
    first = re.search(r'In the first version (\d+) meant "([^"]+)"', _page().header)
    assert first
    assert first[1] == "30001"
    assert f'"{first[2]}"' in (v2_error_code(30001).history or "")
    assert v2_error_code(30001).description == "The request_id has already been used."
    assert {c for c, e in V2_ERROR_CODES.items() if e.history} == {30001}


# -- default HTTP statuses --------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "status"), [(2024, 401), (2025, 403), (4001, 403), (2006, 400)])
def test_default_status_is_the_one_the_docs_tie_to_the_code(code: int, status: int) -> None:
    assert v2_error_code(code).default_status == status


def test_default_statuses_follow_the_meaning_and_the_rest_are_400() -> None:
    groups: dict[int, list[int]] = {}
    for entry in [*V2_ERROR_CODES.values(), *V2_REMOVED_CODES.values()]:
        groups.setdefault(entry.default_status, []).append(entry.code)
    not_400 = {status: sorted(codes) for status, codes in groups.items() if status != 400}
    assert not_400 == {
        401: [2022, 2023, 2024],
        403: [2025, 2050, 2051, 2052, 2053, 2054, 2104, 4001, 10000, 30000, 30035, 40204],
        404: [2021, 2028, 5004, 40101, 40105, 40109, 40110, 40124, 40125, 60001, 60004],
        405: [2002],
        429: [2010, 2026, 40001],
        500: [1000, 2000],
    }
    assert len(groups[400]) == 126 + 9 - sum(map(len, not_400.values()))


def test_default_statuses_are_documented_v2_error_statuses() -> None:
    statuses = {e.default_status for e in [*V2_ERROR_CODES.values(), *V2_REMOVED_CODES.values()]}
    assert statuses <= set(V2_HTTP_STATUSES) - {200}


# -- ids and messages -------------------------------------------------------------------------------
def test_ids_are_readable_stable_and_unique() -> None:
    ids = [e.id for e in iter_v2_entries(removed=True)]
    assert len(ids) == len(set(ids)) == 126 + 9 + 11
    assert all(re.fullmatch(r"v2-[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)
    assert v2_error_code(30012).id == "v2-30012-transfer-amount-exceeds-wallets-available-balance"
    assert v2_error_code(12007).id == "v2-12007-transfer-amount-exceeds-wallets-available-balance"
    assert v2_error_code(2024).id == "v2-2024-api-key-authentication-failed"
    assert v2_error_code(1000).id == "v2-1000-internal-server-error"
    assert v2_error_code(2028).id == "v2-2028-requested-resource-not-found"
    assert v2_error_code(30024).id == "v2-30024-neither-to-wallet-id-nor-to-address-provided"
    assert v2_error_code(40001).id == "v2-40001-external-data-source-rate-limit-reached"
    assert v2_error_code(2105).id == "v2-2105-utxo-based-tokens-all-available-utxos"
    assert v2_error_code(2023, removed=True).id == "v2-2023-missing-or-invalid-api-signature"
    assert v2_error_code(30034, removed=True).id == "v2-30034-removed-docs-2026-08-14"
    assert V2_HTTP_STATUSES[500].id == "v2-http-500-internal-server-error"
    assert V2_HTTP_STATUSES[200].id == "v2-http-200-ok"


def test_ids_never_collide_with_v1_ids() -> None:
    v1 = {e.id for e in [*ERROR_CODES.values(), *HTTP_STATUSES.values()]}
    assert v1.isdisjoint(e.id for e in iter_v2_entries(removed=True))
    assert ERROR_CODES[12007].id == "12007-insufficient-balance"  # the same number, another API


def test_message_is_the_descriptions_first_sentence() -> None:
    assert v2_error_code(1000).message == "Internal Server Error"
    assert v2_error_code(30000).message == "Unauthorized"
    assert v2_error_code(30012).message == "The transfer amount exceeds the wallet's available balance"
    assert v2_error_code(70011).message == "The legal entity information is incomplete"
    assert str(v2_error_code(2026)) == "2026 Too many requests."


def test_entries_are_immutable() -> None:
    with pytest.raises(TypeError):
        V2_ERROR_CODES[99] = V2_ERROR_CODES[1000]  # type: ignore[index]
    with pytest.raises(TypeError):
        V2_REMOVED_CODES[99] = V2_ERROR_CODES[1000]  # type: ignore[index]
    with pytest.raises(AttributeError):
        v2_error_code(30012).code = 1  # type: ignore[misc]


def test_an_entry_built_by_hand_has_its_description_as_first_meaning() -> None:
    entry = V2ErrorCode(code=1, description="Made up.", default_status=400, section="Tests")
    assert entry.meanings == (("Tests", "Made up."),)
    assert (entry.removed, entry.shares, entry.api) == (False, (), "v2")
    with pytest.raises(ValueError, match="first meaning must be"):
        V2ErrorCode(code=1, description="Made up.", default_status=400, section="Tests", meanings=(("Other", "x"),))


# -- looking codes up -------------------------------------------------------------------------------
def test_lookup_returns_the_documented_entry() -> None:
    assert v2_error_code(30012) is V2_ERROR_CODES[30012]
    assert v2_error_code(V2_ERROR_CODES[30012]) is V2_ERROR_CODES[30012]


def test_an_unknown_code_names_the_nearest_documented_ones() -> None:
    with pytest.raises(
        UnknownCodeError,
        match=r"^30040 is not a documented Cobo WaaS 2\.0 error code; nearest documented: 30037, 30038, 30039 \(126 codes, 1000-70013\)$",
    ):
        v2_error_code(30040)
    with pytest.raises(LookupError):
        v2_error_code(2027)


def test_a_removed_code_names_its_date_and_how_to_ask_for_it() -> None:
    with pytest.raises(
        UnknownCodeError,
        match=r"^2023 was removed from Cobo's WaaS 2\.0 error-code page on 2026-02-02; ask for it with v2_error_code\(2023, removed=True\); nearest documented: 2021, 2024, 2025$",
    ):
        v2_error_code(2023)
    with pytest.raises(UnknownCodeError, match=r"30034 was removed .* on 2026-08-14"):
        v2_error_code(30034)
    assert v2_error_code(2023, removed=True) is V2_REMOVED_CODES[2023]


def test_an_unknown_code_asked_with_removed_names_removed_codes_too() -> None:
    with pytest.raises(
        UnknownCodeError,
        match=r"^2011 is not a documented or removed .* nearest documented or removed: 2003, 2006, 2010 \(135 codes",
    ):
        v2_error_code(2011, removed=True)


def test_a_documented_code_is_found_with_removed_too() -> None:
    assert v2_error_code(30012, removed=True) is V2_ERROR_CODES[30012]


@pytest.mark.parametrize("bad", ["30012", 30012.0, True, None, b"30012"])
def test_lookup_rejects_non_integers_with_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match=r"a WaaS 2\.0 error code must be an int"):
        v2_error_code(bad)  # type: ignore[arg-type]


def test_a_huge_or_negative_code_is_refused_with_a_short_message() -> None:
    with pytest.raises(ValueError, match=r"^an int of about 5001 digits is not a documented") as huge:
        v2_error_code(10**5000)
    assert len(str(huge.value)) < 200
    with pytest.raises(UnknownCodeError, match=r"^-30012 is not a documented"):
        v2_error_code(-30012)


def test_iter_v2_entries_gives_codes_then_statuses() -> None:
    entries = list(iter_v2_entries())
    assert entries == [*V2_ERROR_CODES.values(), *V2_HTTP_STATUSES.values()]
    with_removed = list(iter_v2_entries(removed=True))
    assert with_removed == [*V2_ERROR_CODES.values(), *V2_REMOVED_CODES.values(), *V2_HTTP_STATUSES.values()]
