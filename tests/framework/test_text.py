"""How numbers are written in every explanation and 整改 text (framework/text.fmt, half_up)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.framework.text import fmt, half_up


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("4.20"), "4.20"),
        (Decimal("0.00"), "0.00"),
        (Decimal("1E+2"), "100"),
        (Decimal("99999999999999999999"), "99999999999999999999"),  # 20 digits: in full
        (Decimal("100000000000000000000"), "1E+20"),
        (Decimal("1.5E+25"), "1.5E+25"),
        (Decimal("123456789") ** 50, "3.76486E+404"),  # an implausible value multiplied out: not 405 digits
        (Decimal("-2.5E+30"), "-2.5E+30"),
        (True, "是"),
        (None, "缺报"),
    ],
)
def test_fmt(value, written):
    assert fmt(value) == written


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**19), max_value=10**19))
def test_numbers_below_the_limit_are_written_in_full_and_read_back_exactly(x):
    assert Decimal(fmt(x)) == x and "E" not in fmt(x)


def test_half_up_rounds_halves_away_from_zero():
    assert [half_up(Decimal(x), 1) for x in ("0.05", "0.15", "0.25", "-0.05")] == [
        Decimal("0.1"),
        Decimal("0.2"),
        Decimal("0.3"),
        Decimal("-0.1"),
    ]
