"""Values as people type them, typed once by input type: 全角 digits, "95%", numbers stored as text, 是/否/√/×,
dates written the Chinese way. Each reader calls :func:`coerce`; a value it cannot type gets a message saying
what was expected (a :class:`Reason`: Chinese text that carries its English wording).

Numbers are bounded where they are read (:func:`number_out_of_bounds`): at most ``MAX_SIGNIFICANT`` significant
digits, ``MAX_WHOLE_DIGITS`` before the decimal point and ``MAX_DECIMALS`` after it. No real 填报值 comes near
the bounds; a number beyond them is a typing slip or a hostile file, and refusing it keeps a 5000-digit number
out of the arithmetic and the reports (and out of ``int()``, which refuses more than 4300 digits).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

_TRUE = {"是", "√", "✓", "✔", "有", "true", "yes", "y", "1", "对", "已", "达到", "符合"}

_FALSE = {"否", "×", "✗", "✘", "x", "无", "没有", "false", "no", "n", "0", "未", "不符合"}

_NUMERIC = frozenset(("number", "integer", "percent"))

_ONE = Decimal(1)

_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

MAX_SIGNIFICANT = 20
MAX_WHOLE_DIGITS = 15
MAX_DECIMALS = 20
MAX_NUMBER_TEXT = 400
_WHOLE_LIMIT: int = 10**MAX_WHOLE_DIGITS
"""Text longer than this is not read as a number at all (the bounds above refuse it anyway)."""


class Reason(str):
    """Why a value was refused: the Chinese text (what ``str`` gives, so it reads as before) and ``en``."""

    en: str

    def __new__(cls, zh: str, en: str) -> Reason:
        self = super().__new__(cls, zh)
        self.en = en
        return self


def english(why: str) -> str:
    """The English wording of a reason from :func:`coerce` (a plain string is its own)."""
    return why.en if isinstance(why, Reason) else why


def shown_number(text: str, limit: int = 24) -> str:
    """A number as written, shortened for a message: ``“999999999999999999999…”（共 5000 个字符）``."""
    if len(text) <= limit:
        return f"“{text}”"
    return f"“{text[:limit]}…”（共 {len(text)} 个字符）"


def _shown_en(text: str, limit: int = 24) -> str:
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}…' ({len(text)} characters)"


BOUNDS_ZH = (
    f"最多 {MAX_SIGNIFICANT} 位有效数字，整数部分最多 {MAX_WHOLE_DIGITS} 位，小数部分最多 {MAX_DECIMALS} 位"
)
BOUNDS_EN = (
    f"at most {MAX_SIGNIFICANT} significant digits, {MAX_WHOLE_DIGITS} before the decimal point and "
    f"{MAX_DECIMALS} after it"
)


def number_bounds(text: str | None) -> Reason:
    """The refusal of a number beyond the bounds, quoting it as written (shortened); None: too large to read
    at all (a cell whose number a float cannot hold)."""
    if text is None:
        return Reason(
            f"数值超出可接受的范围（{BOUNDS_ZH}），这里的数值大到无法读取",
            f"number out of range ({BOUNDS_EN}): this one is too large to read",
        )
    return Reason(
        f"数值超出可接受的范围（{BOUNDS_ZH}），这里是 {shown_number(text)}",
        f"number out of range ({BOUNDS_EN}): {_shown_en(text)}",
    )


def number_out_of_bounds(value: Decimal | int) -> bool:
    """Whether a finite number has more significant digits, whole digits or decimals than the bounds allow.

    Works on the digits as stored (no arithmetic, so no rounding to the context and no cost beyond their count);
    trailing zeros are not significant. An int is checked by its size first (``str()`` of a huge one raises)."""
    if isinstance(value, int):
        return abs(value) >= _WHOLE_LIMIT
    if not value.is_finite():
        return False
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if not any(digits):
        return False  # zero, however it is written
    n = len(digits)
    zeros = 0
    while zeros < n - 1 and digits[n - 1 - zeros] == 0:
        zeros += 1
    significant, last = n - zeros, exponent + zeros  # the power of ten of the last significant digit
    whole = last + significant  # digits before the decimal point (≤ 0 for a value below 1)
    return significant > MAX_SIGNIFICANT or whole > MAX_WHOLE_DIGITS or -last > MAX_DECIMALS


def read_number_text(text: str) -> tuple[Decimal | None, Reason | None]:
    """A number written as text (JSON or YAML syntax, or what :func:`coerce` cleaned), within the bounds: the
    value, or the reason it is refused. The text is not converted when it is longer than ``MAX_NUMBER_TEXT``."""
    if len(text) > MAX_NUMBER_TEXT:
        return None, number_bounds(text)
    try:
        value = Decimal(text)
    except InvalidOperation:  # not a number, or an exponent beyond what Decimal holds
        return None, number_bounds(text) if _NUM_RE.match(text) else None
    if number_out_of_bounds(value):
        return None, number_bounds(text)
    return value, None


def normalize_text(text: str) -> str:
    """NFKC (全角 → 半角), strip spaces including the ideographic space, drop thousands separators."""
    return unicodedata.normalize("NFKC", text).strip().replace("\u3000", "")


def coerce(
    kind: str,
    raw: Any,
    *,
    choices: tuple[str, ...] | None = None,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> tuple[Any, str | None]:
    """Turn what a person or system gave into the input's type; (value, None) or (None, reason): a
    :class:`Reason`, Chinese text with its English wording. A number written as text is held to the bounds."""
    t = type(raw)
    if (
        t is float or t is Decimal or t is int
    ):  # the common case from workbooks and JSON, without text handling
        if kind in _NUMERIC:
            return _bounded(*_typed_number(kind, raw), minimum, maximum)
    elif t is bool:
        if kind == "boolean":
            return raw, None
    elif t is str and choices is not None and raw in choices and kind in ("choice", "level"):
        return raw, None
    if raw is None or (isinstance(raw, str) and not normalize_text(raw)):
        return None, None
    if kind in _NUMERIC:
        return _bounded(*_number(kind, raw), minimum, maximum)
    if kind == "boolean":
        return _boolean(raw)
    if kind in ("choice", "level"):
        return _choice(raw, choices)
    if kind == "date":
        return parse_date(raw)
    return str(raw).strip(), None


def _quoted(raw: Any, limit: int = 40) -> str:
    """What was given, quoted for a message and shortened when long (a whole page pasted into a cell)."""
    text = str(raw)
    return f"“{text}”" if len(text) <= limit else f"“{text[:limit]}…”（共 {len(text)} 个字符）"


def _quoted_en(raw: Any, limit: int = 40) -> str:
    text = str(raw)
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}…' ({len(text)} characters)"


def _not_finite(raw: Any) -> Reason:
    return Reason(
        f"应填有限的数值，这里是 {_quoted(raw)}", f"expected a finite number, got {_quoted_en(raw)}"
    )


def _not_whole(raw: Any) -> Reason:
    return Reason(f"应填整数，这里是 {raw}", f"expected a whole number, got {raw}")


def _typed_number(kind: str, raw: float | Decimal | int) -> tuple[Any, Reason | None]:
    value = Decimal(repr(raw)) if type(raw) is float else raw if type(raw) is Decimal else Decimal(raw)
    if not value.is_finite():
        return None, _not_finite(raw)
    if kind == "integer":
        if value != value.to_integral_value():
            return None, _not_whole(raw)
        value = _whole(value)
    return value, None


def _bounded(
    value: Any, why: Reason | None, minimum: Decimal | None, maximum: Decimal | None
) -> tuple[Any, Reason | None]:
    if why is None and minimum is not None and value < minimum:
        return None, Reason(
            f"不能小于 {minimum}，这里是 {value}", f"must not be below {minimum}, got {value}"
        )
    if why is None and maximum is not None and value > maximum:
        return None, Reason(
            f"不能大于 {maximum}，这里是 {value}", f"must not be above {maximum}, got {value}"
        )
    return value, why


def _boolean(raw: Any) -> tuple[bool | None, Reason | None]:
    if isinstance(raw, bool):
        return raw, None
    if (isinstance(raw, int | float) or (isinstance(raw, Decimal) and not raw.is_snan())) and raw in (0, 1):
        return bool(raw), None
    text = normalize_text(str(raw)).lower()
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return None, Reason(
        f"应填 是/否（√/×、有/无），这里是 {_quoted(raw)}",
        f"expected yes or no (是/否), got {_quoted_en(raw)}",
    )


def _choice(raw: Any, choices: tuple[str, ...] | None) -> tuple[str | None, Reason | None]:
    text = normalize_text(str(raw))
    if not choices:
        return text, None
    canonical = {normalize_text(c): c for c in choices}  # Ⅲ and III, 全角 and 半角 are the same choice
    if text not in canonical:
        return None, Reason(
            f"{_quoted(raw)} 不是可选值（{'、'.join(choices)}）",
            f"{_quoted_en(raw)} is not one of the choices ({', '.join(choices)})",
        )
    return canonical[text], None


_UNITS = ("人", "元", "㎡", "m2", "m²", "间", "册", "分钟", "个", "件", "起", "平方米")


def _number(kind: str, raw: Any) -> tuple[Any, Reason | None]:
    if isinstance(raw, bool):
        return None, Reason("应填数值，这里是是/否", "expected a number, got yes/no")
    if isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, int | Decimal):
        value = Decimal(raw)
    else:
        parsed, why = _number_text(kind, raw)
        if parsed is None:
            return None, why
        value = parsed
    if not value.is_finite():
        return None, _not_finite(raw)
    if kind == "integer" and value != value.to_integral_value():
        return None, _not_whole(raw)
    if kind == "integer":
        value = _whole(value)
    return value, None


def _number_text(kind: str, raw: Any) -> tuple[Decimal | None, Reason | None]:
    """A number people typed: 全角 digits, thousands separators, a unit or a % after it; within the bounds, as
    every number read from a file is (so "1E+999999999" cannot reach the arithmetic or a report)."""
    text = normalize_text(str(raw)).replace(",", "").replace(" ", "")
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    for unit in _UNITS:
        if text.endswith(unit):
            text = text[: -len(unit)]
    if not _NUM_RE.match(text):
        return None, Reason(f"应填数值，这里是 {_quoted(raw)}", f"expected a number, got {_quoted_en(raw)}")
    value, why = read_number_text(text)
    if value is None:
        return None, why or number_bounds(text)
    if percent and kind != "percent":
        value = value / 100  # within the bounds: no overflow, no rounding
    return value, None


def _whole(value: Decimal) -> Decimal:
    """An integral value written without decimals (5.0 → 5). Values beyond the context's 28 digits keep their
    exponent: quantizing them would raise InvalidOperation (found by tests/test_properties.py)."""
    exponent = value.as_tuple().exponent
    if exponent == 0 or value.adjusted() >= 28:
        return value
    return value.quantize(_ONE)


def parse_date(raw: Any) -> tuple[Any, Reason | None]:
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    text = normalize_text(str(raw))
    m = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$", text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None
        except ValueError:
            pass
    return None, Reason(
        f"应填日期（如 2024-09-01 或 2024年9月1日），这里是 {_quoted(raw)}",
        f"expected a date (such as 2024-09-01 or 2024年9月1日), got {_quoted_en(raw)}",
    )
