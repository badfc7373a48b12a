"""Readable arithmetic for explanations: ``21 ÷ 500 × 100 = 4.20``.

Templates are built once per expression at compile time; rendering is a join over pre-split parts, so every
score can carry its explanation without slowing the engine down.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_MARK = "\x00"
_OPS = [(" / ", " ÷ "), (" * ", " × "), (" <= ", " ≤ "), (" >= ", " ≥ "), (" != ", " ≠ "), (" == ", " = ")]


_WRITTEN_IN_FULL = 20  # digits before the decimal point a number is written with; beyond, in scientific form


def fmt(value: Any) -> str:
    """A value as an evaluator writes it: decimals without exponent, 是/否, dates in ISO form. A computed number
    past 10^20 (an implausible value multiplied out) is written 1.5E+25, not as 26 digits or 400."""
    if type(value) is Decimal:  # nearly every call: checked first
        if value.adjusted() < _WRITTEN_IN_FULL:  # (also NaN and Infinity: 0)
            # str() is format(value, "f") for every number it writes without an exponent (most: 4.20, 300), in a
            # third of the time; one it writes with one (1E+2, 1E-7; 1e+2 in a context with capitals=0) is formatted
            text = str(value)
            return format(value, "f") if "E" in text or "e" in text else text
        return _scientific(value) if value.is_finite() else format(value, "f")
    if value is None:
        return "缺报"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _scientific(value: Decimal) -> str:
    """Up to 6 significant digits, trailing zeros dropped: 1.5E+25."""
    mantissa, exponent = f"{value:.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"


class _Mark(ast.NodeTransformer):
    """Names become marked placeholders (a function's own name stays)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.args = [self.visit(a) for a in node.args]
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in ("True", "False"):
            return node
        return ast.Name(id=f"{_MARK}{node.id}{_MARK}", ctx=ast.Load())


class Template:
    """An expression with its names replaced by values at render time."""

    __slots__ = ("names", "parts", "plain")

    def __init__(self, source: str):
        tree = ast.parse(source.strip(), mode="eval")
        plain = ast.unparse(tree)  # before marking: the transform changes the tree in place
        text = ast.unparse(_Mark().visit(tree))
        for a, b in _OPS:
            text = text.replace(a, b)
            plain = plain.replace(a, b)
        self.parts = text.split(_MARK)
        self.names = self.parts[1::2]
        self.plain = plain

    def render(self, values: Mapping[str, Any]) -> str:
        parts = self.parts
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            out.append(fmt(values.get(parts[i])))
            out.append(parts[i + 1])
        return "".join(out)

    @property
    def is_name(self) -> bool:
        return len(self.parts) == 3 and self.parts[0] == "" and self.parts[2] == ""


_QUANTUM = {p: Decimal(1).scaleb(-p) for p in range(-6, 29)}


def half_up(x: Decimal, places: int) -> Decimal:
    """四舍五入 to ``places`` decimals (Python's round() rounds half to even)."""
    q = _QUANTUM.get(places)
    return x.quantize(q if q is not None else Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
