"""What a report view is made of: facts, tables of typed cells, sentences, a chart — content, not layout.

A view (``unit_view``, ``summary_view``) decides every word a 督学 reads and every number's precision once;
renderers (Markdown, Excel, later PDF, Word or HTML) only place it. So the blocks hold typed values, never
pre-formatted numbers: a :class:`Number` keeps its Decimal with the decimals, percent and unit it is shown with,
and a spreadsheet writes a real number while a text renderer writes :func:`number_text` — from the same value and
the same declared precision.

Columns carry a ``key`` (a stable, language-free name such as ``"status"``) beside their Chinese ``title``:
renderers attach layout (widths, fills, indentation) to keys, so rewording a title never breaks a layout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ..framework.text import fmt, half_up

BLANK = "—"  # what every renderer shows for a cell without a value (None)
LIST_SEP = "；"  # how a text renderer joins the items of a :class:`Lines` cell on one line


@dataclass(frozen=True, slots=True)
class Number:
    """A number as a report shows it: its value, the decimals declared for it, a percent, a unit.

    ``places`` None: the number is shown as given (an input as typed, full points as the framework writes them);
    otherwise it is shown half-up at exactly that many decimals, whatever the Decimal's exponent. ``percent``: a
    ratio (0.5) shown as a percentage (50.0%), ``places`` counting the percentage's decimals.
    """

    value: Decimal
    places: int | None = None
    unit: str | None = None
    percent: bool = False


@dataclass(frozen=True, slots=True)
class Lines:
    """Several short texts in one cell (documents cited, reasons): one per line where a cell can hold lines."""

    items: tuple[str, ...]


# A cell's content: text, a count, a number with its format, lines, a date; None where there is no value.
Cell = str | int | Number | Lines | dt.date | None


@dataclass(frozen=True, slots=True)
class Fact:
    """One item of a report's summary: a label, its value and an optional remark beside it."""

    label: str
    value: Cell
    note: str | None = None
    strong: bool = False  # a headline (总分, 等级, 认定结论): emphasised


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # stable and language-free: what renderers attach layout to
    title: str


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Cell, ...]
    level: int = 0  # nesting under the table's first level (an indicator's depth − 1): shown as an indent
    strong: bool = False  # a group or a total: emphasised
    # the row said in one sentence, for renderers that list such rows instead of tabulating them
    sentence: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table; ``empty`` says what to write instead when it has no rows."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    empty: str = ""
    caption: str = ""  # its title when it stands on a page or sheet of its own (with the unit's name)

    def column(self, key: str) -> int:
        """The position of the column ``key`` (renderers find the columns they style by key)."""
        for i, c in enumerate(self.columns):
            if c.key == key:
                return i
        raise KeyError(key)

    @property
    def listed(self) -> bool:
        """Whether every row has a sentence: a text renderer may list the rows instead of tabulating them."""
        return bool(self.rows) and all(row.sentence for row in self.rows)


@dataclass(frozen=True, slots=True)
class BarChart:
    """A bar chart drawn from a table: categories from one column, one series per other column."""

    title: str
    axis: str  # the value axis' title (its unit: 分, 项)
    category: str  # column key
    series: tuple[str, ...]  # column keys


# ----------------------------------------------------------------------------------------------- cells


def points(value: Decimal | None, places: int | None) -> Number | None:
    """Points at the framework's precision (``places``; None: as written); None where there are none."""
    return None if value is None else Number(value, places)


def percent(ratio: Decimal) -> Number:
    """A ratio shown as a percentage with one decimal (得分率, 占比, 完整度): 0.9375 → 93.8%."""
    return Number(half_up(ratio, 4), 1, percent=True)


def share(part: Decimal | int | None, whole: Decimal | int | None) -> Number | None:
    """``part`` of ``whole`` as a percentage (:func:`percent`); None where the whole is 0 or unknown."""
    if part is None or not whole:
        return None
    return percent(Decimal(part) / Decimal(whole))


# ------------------------------------------------------------------------------------------------ text


def number_text(n: Number) -> str:
    """A number as text, at its declared decimals: ``Number(Decimal("5"), 1)`` → ``5.0``; with its unit."""
    value = n.value
    if not value.is_finite():
        return fmt(value)
    if n.percent:
        text = format(half_up(value * 100, n.places or 0), "f") + "%"
    elif n.places is None:
        text = fmt(value)
    else:
        text = format(half_up(value, n.places), "f")
    return with_unit_text(text, n.unit)


def with_unit_text(text: str, unit: str | None) -> str:
    """A number's text with its unit, as the standards are written: ``4.2 人``, ``95%``."""
    if not unit or text.endswith(unit):
        return text
    return f"{text}{'' if unit == '%' else ' '}{unit}"


def cell_text(cell: Cell, sep: str = LIST_SEP) -> str:
    """A cell as plain text on one line (a text renderer's cell, or a number inside a sentence)."""
    if cell is None:
        return BLANK
    if isinstance(cell, Number):
        return number_text(cell)
    if isinstance(cell, Lines):
        return sep.join(cell.items)
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)
