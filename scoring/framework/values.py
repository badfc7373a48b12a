"""Values as people type them, typed once by input type: 全角 digits, "95%", numbers stored as text, 是/否/√/×,
dates written the Chinese way. Each reader calls :func:`coerce`; a value it cannot type gets a message saying
what was expected.
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
    """Turn what a person or system gave into the input's type; (value, None) or (None, Chinese reason)."""
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


def _typed_number(kind: str, raw: float | Decimal | int) -> tuple[Any, str | None]:
    value = Decimal(repr(raw)) if type(raw) is float else raw if type(raw) is Decimal else Decimal(raw)
    if not value.is_finite():
        return None, f"应填有限的数值，这里是 “{raw}”"
    if kind == "integer":
        if value != value.to_integral_value():
            return None, f"应填整数，这里是 {raw}"
        value = _whole(value)
    return value, None


def _bounded(
    value: Any, why: str | None, minimum: Decimal | None, maximum: Decimal | None
) -> tuple[Any, str | None]:
    if why is None and minimum is not None and value < minimum:
        return None, f"不能小于 {minimum}，这里是 {value}"
    if why is None and maximum is not None and value > maximum:
        return None, f"不能大于 {maximum}，这里是 {value}"
    return value, why


def _boolean(raw: Any) -> tuple[bool | None, str | None]:
    if isinstance(raw, bool):
        return raw, None
    if isinstance(raw, int | Decimal | float) and raw in (0, 1):
        return bool(raw), None
    text = normalize_text(str(raw)).lower()
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return None, f"应填 是/否（√/×、有/无），这里是 “{raw}”"


def _choice(raw: Any, choices: tuple[str, ...] | None) -> tuple[str | None, str | None]:
    text = normalize_text(str(raw))
    if not choices:
        return text, None
    canonical = {normalize_text(c): c for c in choices}  # Ⅲ and III, 全角 and 半角 are the same choice
    if text not in canonical:
        return None, f"“{raw}” 不是可选值（{'、'.join(choices)}）"
    return canonical[text], None


def _number(kind: str, raw: Any) -> tuple[Any, str | None]:
    if isinstance(raw, bool):
        return None, "应填数值，这里是是/否"
    if isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, int | Decimal):
        value = Decimal(raw)
    else:
        text = normalize_text(str(raw)).replace(",", "").replace(" ", "")
        percent = text.endswith("%")
        if percent:
            text = text[:-1]
        for unit in ("人", "元", "㎡", "m2", "m²", "间", "册", "分钟", "个", "件", "起", "平方米"):
            if text.endswith(unit):
                text = text[: -len(unit)]
        if not _NUM_RE.match(text):
            return None, f"应填数值，这里是 “{raw}”"
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None, f"应填数值，这里是 “{raw}”"
        if percent and kind != "percent":
            value = value / 100
    if not value.is_finite():
        return None, f"应填有限的数值，这里是 “{raw}”"
    if kind == "integer" and value != value.to_integral_value():
        return None, f"应填整数，这里是 {raw}"
    if kind == "integer":
        value = _whole(value)
    return value, None


def _whole(value: Decimal) -> Decimal:
    """An integral value written without decimals (5.0 → 5). Values beyond the context's 28 digits keep their
    exponent: quantizing them would raise InvalidOperation (found by tests/test_properties.py)."""
    exponent = value.as_tuple().exponent
    if exponent == 0 or value.adjusted() >= 28:
        return value
    return value.quantize(_ONE)


def parse_date(raw: Any) -> tuple[Any, str | None]:
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
    return None, f"应填日期（如 2024-09-01 或 2024年9月1日），这里是 “{raw}”"
