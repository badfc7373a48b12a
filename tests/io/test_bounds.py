"""Numbers are bounded where they are read (issue 13): at most 20 significant digits, 15 before the decimal point
and 20 after it, said in the message; a number beyond them is a located refusal, never an exception, and never
reaches the arithmetic or a report (a 5000-digit number, "1E+999999999")."""

from __future__ import annotations

from decimal import Decimal

import pytest

import scoring
from scoring.framework.values import (
    MAX_DECIMALS,
    MAX_SIGNIFICANT,
    MAX_WHOLE_DIGITS,
    Reason,
    coerce,
    english,
    number_out_of_bounds,
)

from ..excel import PLAN

BOUNDS_ZH = "最多 20 位有效数字，整数部分最多 15 位，小数部分最多 20 位"


@pytest.mark.parametrize(
    ("text", "beyond"),
    [
        ("1", False),
        ("0", False),
        ("0E-5000", False),  # zero, however written
        ("-123456789012345", False),  # 15 digits before the point
        ("1234567890123456", True),
        ("1e14", False),
        ("1e15", True),
        ("0.00000000000000000001", False),  # 20 decimals
        ("0.000000000000000000001", True),
        ("12345678901234567890", True),  # 20 digits, but 20 before the point
        ("12345.678901234567890", False),  # 20 significant, the last a trailing zero
        ("12345.6789012345678901", True),  # 21 significant
        ("5.000000000000000000000000", False),  # trailing zeros are not significant
        ("1E+999999999", True),
    ],
)
def test_the_bounds(text: str, beyond: bool) -> None:
    assert (MAX_SIGNIFICANT, MAX_WHOLE_DIGITS, MAX_DECIMALS) == (20, 15, 20)
    assert number_out_of_bounds(Decimal(text)) is beyond


def test_an_int_is_checked_without_converting_it() -> None:
    assert number_out_of_bounds(10**5000) and not number_out_of_bounds(10**14)


@pytest.mark.parametrize(
    "text",
    [
        "9" * 5000,  # before: a 5000-digit Decimal went on into the arithmetic and the reports
        "1E+999999999",  # before: accepted; writing the reports then printed a billion digits (out of memory)
        "1e9999999%",  # before: decimal.Overflow from the division by 100
        "1e999999999999999999999",  # before: decimal.InvalidOperation from Decimal()
        "1e-9999999%",
        "１２３４５６７８９０１２３４５６",  # 全角, 16 digits
    ],
)
def test_a_number_written_as_text_beyond_the_bounds_is_refused_with_them(text: str) -> None:
    for kind in ("number", "integer", "percent"):
        value, why = coerce(kind, text)
        assert value is None and why is not None, (kind, text)
        assert why.startswith("数值超出可接受的范围（") and BOUNDS_ZH in why
        assert english(why).startswith("number out of range (at most 20 significant digits")
        assert len(why) < 200  # the number is quoted shortened, with its length


def test_numbers_people_type_are_still_read() -> None:
    assert coerce("number", "1,234.5元") == (Decimal("1234.5"), None)
    assert coerce("number", "95%") == (Decimal("0.95"), None)
    assert coerce("percent", "95%") == (Decimal("95"), None)
    assert coerce("integer", "８００人") == (Decimal("800"), None)
    assert coerce("number", "123456789012345") == (Decimal("123456789012345"), None)


def test_a_reason_reads_as_its_chinese_text_and_carries_its_english() -> None:
    _, why = coerce("number", "很多")
    assert isinstance(why, Reason) and why == "应填数值，这里是 “很多”"
    assert english(why) == "expected a number, got '很多'"
    assert english("纯文本") == "纯文本"
    _, long = coerce("number", "很" * 500)
    assert long is not None and "…”（共 500 个字符）" in long


def test_a_signalling_nan_is_no_yes_or_no() -> None:
    """Before: decimal.InvalidOperation from comparing sNaN with 0 and 1."""
    value, why = coerce("boolean", Decimal("sNaN"))
    assert value is None and why is not None and why.startswith("应填 是/否")


def test_a_number_given_as_text_in_json_is_refused_by_the_engine_with_its_path() -> None:
    """The engine types text values with coerce: "1E+999999999" is refused before any report prints it."""
    text = (
        b'{"unit": {"name": "x", "type": "\xe5\x88\x9d\xe4\xb8\xad"}, "values": {"students": "1E+999999999"}}'
    )
    sub = scoring.read_submission(text)
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.score(PLAN, sub)
    (problem,) = [p for p in err.value.problems if p.path == ("values", "students")]
    assert problem.code == "bad-value" and BOUNDS_ZH in problem.message_zh
