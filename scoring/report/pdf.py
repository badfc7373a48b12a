"""PDF renderer of the report views: the unit report, the batch summary (汇总) and the county report, on A4 with
the CJK fonts embedded, made by the Typst compiler that the PyPI package ``typst`` bundles (no office suite, no
system library at run time; see docs/reports.md for why Typst and not WeasyPrint).

Layout only: every word and number format comes from the view (``unit_view``, ``summary_view``, ``cohort_view``).
The view is handed to one Typst template (``typst/report.typ``) as JSON data, never as markup, so text from a
submission is always printed as text. The template sets the page (A4, page numbers 第 n 页，共 m 页), prints the
title once, lets tables break across pages with their header row repeated (rows are never split), keeps the chart
of first-level scores on one page, and sets the unit report's wide 整改清单 on landscape pages.

Fonts: a Chinese serif (宋体-like) for the body and a sans (黑体-like) for titles and table heads, found among the
system's fonts (Debian ``fonts-noto-cjk``: Noto Serif/Sans CJK SC; or 思源, 文泉驿, Windows' 宋体/黑体) and any
folder in ``SCORING_FONT_PATH`` or ``font_paths``. Without one a :class:`PdfError` says, in Chinese, what to install
— a PDF is never written with missing glyphs (tofu boxes).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import math
import os
import struct
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.result import Result
from ..engine.rows import FailureRow, SkippedFile, UnitRow
from ..io.files import atomic_write
from ..problems import Problem, ScoringError, printable
from ..version import __version__
from .blocks import BarChart, Cell, Fact, Lines, Number, Table, cell_text
from .cohort_view import CohortView, cohort_view
from .summary_view import SummaryView, summary_view
from .unit_view import UnitView, unit_view

if TYPE_CHECKING:
    from ..engine.cohort import CohortResult

__all__ = [
    "BODY_FONTS",
    "HEADING_FONTS",
    "PdfError",
    "cohort_pdf",
    "summary_pdf",
    "unit_pdf",
    "write_cohort_pdf",
    "write_summary_pdf",
    "write_unit_pdf",
]

# Families tried in order (the first present wins). Serif (宋体-like) for the body, sans (黑体-like) for titles.
BODY_FONTS = (
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
    "SimSun",
    "Songti SC",
    "AR PL UMing CN",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
)
HEADING_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "SimHei",
    "Heiti SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    *BODY_FONTS,
)
LATIN_FONT = "Libertinus Serif"  # bundled with Typst: digits and Latin letters beside the CJK text
FONT_PATH_ENV = "SCORING_FONT_PATH"  # folders of extra fonts, separated like PATH

INSTALL_FONTS_ZH = (
    "Debian/Ubuntu：sudo apt-get install fonts-noto-cjk（或 fonts-wqy-microhei）；"
    "CentOS/麒麟/统信：安装 google-noto-serif-cjk-fonts 或 wqy-microhei-fonts；"
    "也可把 .ttf/.otf/.ttc 中文字体放进一个文件夹，用环境变量 SCORING_FONT_PATH 指向它"
)


class PdfError(ScoringError):
    """A PDF cannot be made here: the compiler (PyPI ``typst``) or a Chinese font is missing, or it failed."""


def _error(code: str, zh: str, en: str) -> PdfError:
    return PdfError([Problem(code, zh, en)])


# ------------------------------------------------------------------------------------------------ fonts


@dataclass(frozen=True, slots=True)
class FontChoice:
    body: str
    heading: str
    paths: tuple[str, ...]


def _typst() -> Any:
    try:
        import typst
    except ImportError:
        raise _error(
            "pdf-no-typst",
            "生成 PDF 需要 Typst 排版程序：请安装 pip install 'duping-scoring[reports]'（或 pip install typst）",
            "making a PDF needs the Typst compiler: pip install 'duping-scoring[reports]' (or pip install typst)",
        ) from None
    return typst


def _font_paths(extra: Sequence[str | Path]) -> tuple[str, ...]:
    env = [p for p in os.environ.get(FONT_PATH_ENV, "").split(os.pathsep) if p]
    return tuple(str(p) for p in (*extra, *env) if Path(p).is_dir())


@functools.lru_cache(maxsize=8)
def _fonts_object(paths: tuple[str, ...], system: bool) -> tuple[Any, frozenset[str]]:
    """Typst's font book (system fonts, the bundled Latin ones and ``paths``), scanned once per process."""
    fonts = _typst().Fonts(include_system_fonts=system, include_embedded_fonts=True, font_paths=list(paths))
    return fonts, frozenset(fonts.families())


def choose_fonts(
    font_paths: Sequence[str | Path] = (), *, system_fonts: bool = True
) -> tuple[FontChoice, Any]:
    """The body and heading families to use, and Typst's font book; :class:`PdfError` when no Chinese font is
    installed (with what to install). ``system_fonts`` False: only ``font_paths`` and ``SCORING_FONT_PATH``."""
    paths = _font_paths(font_paths)
    fonts, families = _fonts_object(paths, system_fonts)
    lower = {f.lower(): f for f in families}
    body = next((lower[f.lower()] for f in BODY_FONTS if f.lower() in lower), None)
    heading = next((lower[f.lower()] for f in HEADING_FONTS if f.lower() in lower), None)
    if body is None or heading is None:
        raise _error(
            "pdf-no-cjk-font",
            f"生成 PDF 需要中文字体，但这台电脑上没有找到（已查找：{'、'.join(BODY_FONTS[:6])} 等）。请安装：{INSTALL_FONTS_ZH}",
            "making a PDF needs a Chinese font and none was found; install Debian's fonts-noto-cjk (or"
            f" fonts-wqy-microhei), or point {FONT_PATH_ENV} at a folder holding one",
        )
    return FontChoice(body, heading, paths), fonts


# Chinese characters checked against the chosen fonts before a PDF is made: CJK radicals to the unified ideographs,
# compatibility ideographs, full-width forms, and the supplementary ideograph planes. (Other symbols fall back to
# any installed font, as Typst does.)
_CJK = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x20000, 0x3FFFF))


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _CJK)


def _family_files(fonts: Any, family: str) -> list[tuple[str, int]]:
    return sorted({(f.path, f.index) for f in fonts.fonts() if f.family == family and f.path})


@functools.lru_cache(maxsize=16)
def _coverage(path: str, index: int) -> tuple[tuple[int, int], ...]:
    """The code point ranges a font file's Unicode ``cmap`` maps to a glyph (formats 12 and 4; () if unreadable)."""
    try:
        with open(path, "rb") as fh:
            data = _cmap_table(fh, index)
    except (OSError, struct.error):
        return ()
    return tuple(_cmap_ranges(data)) if data else ()


def _cmap_table(fh: Any, index: int) -> bytes | None:
    offset = 0
    if fh.read(4) == b"ttcf":  # a collection: the offset of font ``index``
        fh.seek(12 + 4 * index)
        offset = struct.unpack(">I", fh.read(4))[0]
    fh.seek(offset + 4)
    (count,) = struct.unpack(">H", fh.read(2))
    fh.seek(offset + 12)
    directory = fh.read(16 * count)
    for i in range(count):
        tag, _, at, length = struct.unpack(">4sIII", directory[16 * i : 16 * i + 16])
        if tag == b"cmap":
            fh.seek(at)
            return bytes(fh.read(length))
    return None


def _cmap_ranges(data: bytes) -> list[tuple[int, int]]:
    (count,) = struct.unpack(">H", data[2:4])
    subtables = {}
    for i in range(count):
        platform, encoding, at = struct.unpack(">HHI", data[4 + 8 * i : 12 + 8 * i])
        subtables[(platform, encoding)] = at
    for key in ((3, 10), (0, 4), (0, 6), (3, 1), (0, 3)):
        at = subtables.get(key)
        if at is None:
            continue
        (fmt,) = struct.unpack(">H", data[at : at + 2])
        if fmt == 12:
            (groups,) = struct.unpack(">I", data[at + 12 : at + 16])
            ranges = []
            for g in range(groups):
                start, end, glyph = struct.unpack(">III", data[at + 16 + 12 * g : at + 28 + 12 * g])
                ranges.append((start + (glyph == 0), end))
            return ranges
        if fmt == 4:
            return _format4(data, at)
    return []


def _format4(data: bytes, at: int) -> list[tuple[int, int]]:
    (seg2,) = struct.unpack(">H", data[at + 6 : at + 8])
    n = seg2 // 2

    def array(base: int) -> tuple[int, ...]:
        return struct.unpack(f">{n}H", data[base : base + seg2])

    ends = array(at + 14)
    starts = array(at + 16 + seg2)
    offsets_at = at + 16 + 3 * seg2
    offsets = array(offsets_at)
    ranges = []
    for i in range(n):
        if starts[i] == 0xFFFF:
            continue
        if offsets[i] == 0:  # glyph = code + delta: one code of the range may land on glyph 0, let it be
            ranges.append((starts[i], ends[i]))
            continue
        for code in range(starts[i], ends[i] + 1):
            where = offsets_at + 2 * i + offsets[i] + 2 * (code - starts[i])
            if where + 2 <= len(data) and struct.unpack(">H", data[where : where + 2])[0]:
                ranges.append((code, code))
    return ranges


def _covered(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    i = bisect.bisect_right(ranges, (code, 0x10FFFF)) - 1
    return i >= 0 and ranges[i][0] <= code <= ranges[i][1]


def check_glyphs(texts: Iterable[str], choice: FontChoice, fonts: Any) -> None:
    """:class:`PdfError` naming every Chinese character that neither chosen font has (it would print as a box)."""
    files = {f for family in (choice.body, choice.heading) for f in _family_files(fonts, family)}
    tables = [r for r in (tuple(sorted(_coverage(p, i))) for p, i in files) if r]
    if not tables:
        return  # cannot read the fonts' tables: Typst decides
    missing: dict[str, str] = {}
    for text in texts:
        for ch in text:
            if ch not in missing and _is_cjk(ch) and not any(_covered(ord(ch), t) for t in tables):
                missing[ch] = text
    if missing:
        where = "；".join(f"“{ch}”（{text[:30]}）" for ch, text in list(missing.items())[:10])
        raise _error(
            "pdf-missing-glyphs",
            f"已安装的中文字体（{choice.body}、{choice.heading}）中没有这些字，印出来会是方框：{where}。"
            f"请安装收字更全的中文字体（如 Debian 的 fonts-noto-cjk），或用环境变量 {FONT_PATH_ENV} 指向含这些字的字体",
            f"the Chinese fonts installed ({choice.body}, {choice.heading}) lack {''.join(missing)}: install a"
            f" fuller one (Debian fonts-noto-cjk) or point {FONT_PATH_ENV} at one",
        )


def _strings(value: Any) -> Iterator[str]:
    """Every text in a template document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# ------------------------------------------------------------------------------------------------ data


def _text(text: str) -> str:
    """Text as the PDF shows it: control characters as visible escapes (line breaks are split before)."""
    return printable(text)


def _cell(cell: Cell) -> str | list[str]:
    """A cell as the template takes it: one text, or several lines (line breaks in the text kept)."""
    if isinstance(cell, Lines):
        return [_text(line) for item in cell.items for line in item.splitlines() or [""]]
    text = cell_text(cell)
    lines = text.splitlines()
    return [_text(line) for line in lines] if len(lines) > 1 else _text(text)


def _is_number(cell: Cell) -> bool:
    return isinstance(cell, (Number, int)) and not isinstance(cell, bool)


# Column widths: each column's natural width (its longest line, in half-em units: a CJK character counts 2) where
# the table fits the line; else the widest columns are capped at the width that makes it fit (narrow columns never
# wrap a short word). Figures match the template: table text 8.5 pt, cell inset 4 pt each side, margins 1.8 cm.
_TABLE_PT = 8.5
_UNIT_PT = _TABLE_PT / 2  # a half-width character
_INSET_PT = 8.0
_LINE_PT = {False: 595.28 - 2 * 51.02, True: 841.89 - 2 * 51.02}  # portrait, landscape


def _display(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _natural(table: Table, i: int, head: bool = True) -> int:
    longest = _display(table.columns[i].title) + 1 if head else 0  # the head is bold
    for row in table.rows:
        value = _cell(row.cells[i])
        for line in value if isinstance(value, list) else [value]:
            wide = _display(line) * (1.15 if row.strong else 1.0) + (
                2 * row.level if i == _indent(table) else 0
            )
            longest = max(longest, math.ceil(wide) + 1)
    return max(longest, 2)


def _indent(table: Table) -> int:
    return next((i for i, c in enumerate(table.columns) if c.key == "name"), -1)


def _atomic(table: Table, i: int) -> bool:
    """Whether column ``i`` holds only numbers and dates (never wrapped)."""
    return all(
        row.cells[i] is None or _is_number(row.cells[i]) or isinstance(row.cells[i], dt.date)
        for row in table.rows
    )


def _widths(table: Table, landscape: bool) -> list[float]:
    """Each column's width in points: natural where the table fits the line. Else every column keeps at least half
    its head (which may take two lines) or 6 characters, or its natural width when less; a column of numbers and
    dates keeps all of its values and a quarter of its head (four lines). The rest of the line goes first to the
    text columns, in proportion to the text that would wrap in each, then to the heads of the others."""
    natural = [_natural(table, i) for i in range(len(table.columns))]
    room = (_LINE_PT[landscape] - _INSET_PT * len(natural)) / _UNIT_PT - 1
    if sum(natural) <= room:
        return [round(w * _UNIT_PT + _INSET_PT, 2) for w in natural]
    atomic = [_atomic(table, i) for i in range(len(natural))]
    least = [
        float(
            max(_natural(table, i, head=False), _half(c.title, 4))
            if atomic[i]
            else min(natural[i], max(_half(c.title), 12))
        )
        for i, c in enumerate(table.columns)
    ]
    units = list(least)
    extra = room - sum(least)
    if extra <= 0:
        units = [m * room / sum(least) for m in least]
    for which in (False, True):  # text columns first, then the heads of numbers and dates
        extra = _share(table, natural, units, [i for i in range(len(units)) if atomic[i] == which], extra)
    return [round(u * _UNIT_PT + _INSET_PT, 2) for u in units]


def _share(table: Table, natural: list[int], units: list[float], columns: list[int], extra: float) -> float:
    """Give ``extra`` to ``columns`` in proportion to the text that would wrap in each (the characters of its
    cells beyond its width), none beyond its natural width; returns what is left."""
    for _ in range(len(columns)):
        need = {i: _overflow(table, i, units[i]) for i in columns if units[i] < natural[i]}
        total = sum(need.values())
        if extra <= 0.01 or total <= 0:
            break
        given = 0.0
        for i, n in need.items():
            more = min(extra * n / total, natural[i] - units[i])
            units[i] += more
            given += more
        extra -= given
    return extra


def _overflow(table: Table, i: int, width: float) -> float:
    """How much of column ``i``'s text lies beyond ``width`` (in half-em units), over all its rows."""
    total = 0.0
    for row in table.rows:
        value = _cell(row.cells[i])
        for line in value if isinstance(value, list) else [value]:
            total += max(_display(line) - width, 0)
    return total or (1.0 if _display(table.columns[i].title) > width else 0.0)


def _half(title: str, lines: int = 2) -> int:
    """The width a column's head needs on ``lines`` lines."""
    return math.ceil((_display(title) + 1) / lines) + 2


def _table(table: Table, landscape: bool = False) -> dict[str, Any]:
    n = len(table.columns)
    right = [
        any(row.cells[i] is not None for row in table.rows)
        and all(row.cells[i] is None or _is_number(row.cells[i]) for row in table.rows)
        for i in range(n)
    ]
    return {
        "kind": "table",
        "title": _text(table.title),
        "empty": _text(table.empty or "无"),
        "columns": [_text(c.title) for c in table.columns],
        "widths": _widths(table, landscape),
        "right": right,
        "indent": _indent(table),
        "sentences": [_text(row.sentence) for row in table.rows] if table.listed else None,
        "rows": [
            {"cells": [_cell(c) for c in row.cells], "level": row.level, "strong": row.strong}
            for row in table.rows
        ],
    }


def _chart(chart: BarChart, table: Table) -> dict[str, Any] | None:
    """The bars of ``chart`` drawn from ``table``: per category each series' value and a label."""
    cat = table.column(chart.category)
    cols = [table.column(key) for key in chart.series]
    values: list[list[float | None]] = [[] for _ in cols]
    labels = []
    for row in table.rows:
        shown = []
        for k, col in enumerate(cols):
            cell = row.cells[col]
            number = (
                cell.value if isinstance(cell, Number) else Decimal(cell) if isinstance(cell, int) else None
            )
            values[k].append(float(number) if number is not None and number.is_finite() else None)
            shown.append(cell_text(cell))
        labels.append(_text(" / ".join(shown)))
    if not any(v for series in values for v in series):
        return None
    return {
        "kind": "chart",
        "title": _text(chart.title),
        "axis": _text(chart.axis),
        "categories": [_text(cell_text(row.cells[cat])) for row in table.rows],
        "series": [
            {"name": _text(table.columns[col].title), "values": vals}
            for col, vals in zip(cols, values, strict=True)
        ],
        "labels": labels,
    }


def _facts(facts: Sequence[Fact]) -> list[dict[str, Any]]:
    return [
        {
            "label": _text(f.label),
            "value": _cell(f.value),
            "note": _text(f.note) if f.note else None,
            "strong": f.strong,
        }
        for f in facts
    ]


def _doc(
    title: str,
    facts: Sequence[Fact],
    blocks: list[dict[str, Any]],
    *,
    subtitle: str | None = None,
    note: str | None = None,
    landscape: bool = False,
) -> dict[str, Any]:
    return {
        "title": _text(title),
        "subtitle": _text(subtitle) if subtitle else None,
        "author": f"duping-scoring {__version__}",
        "landscape": landscape,
        "facts": _facts(facts),
        "blocks": blocks,
        "note": _text(note) if note else None,
    }


def unit_document(view: UnitView) -> dict[str, Any]:
    """The unit report as the template's data: summary facts, the first-level table and its chart, the sections,
    every indicator and the 整改清单."""
    blocks = [_table(view.overview)]
    chart = _chart(view.chart, view.overview) if view.chart else None
    if chart:
        blocks.append(chart)
    blocks += [_table(t) for t in (*view.sections, view.indicators)]
    blocks.append(_turned(view.rectification))
    return _doc(view.title, view.facts, blocks, note=view.footer)


def _turned(table: Table) -> dict[str, Any]:
    """A table too wide for a portrait page (the 整改清单's ten columns) on landscape pages of its own."""
    if not table.rows:
        return _table(table)
    return {**_table(table, landscape=True), "turn": True}


def summary_document(view: SummaryView) -> dict[str, Any]:
    shown = [t for t in view.tables if t.rows or (t is not view.groups and t is not view.tops)]
    blocks = [_table(t, True) for t in shown]
    return _doc(view.caption, (), blocks, landscape=True)


def cohort_document(view: CohortView) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if view.reasons:
        blocks.append(
            {"kind": "lines", "title": "未通过的原因", "items": [_text(x) for x in view.reasons], "empty": ""}
        )
    tables = [_table(t, True) for t in view.tables]
    blocks += tables[:2]
    if view.notes:
        blocks.append(
            {
                "kind": "lines",
                "title": "未计入统计的单位",
                "items": [_text(x) for x in view.notes],
                "empty": "",
            }
        )
    blocks += tables[2:]
    return _doc(view.title, view.facts, blocks, landscape=True)


# --------------------------------------------------------------------------------------------- compile

_TEMPLATE = "report.typ"


def render(
    document: dict[str, Any], font_paths: Sequence[str | Path] = (), *, system_fonts: bool = True
) -> bytes:
    """The PDF of a template document (:func:`unit_document` …) as bytes; the fonts as :func:`choose_fonts`."""
    typst = _typst()
    choice, fonts = choose_fonts(font_paths, system_fonts=system_fonts)
    check_glyphs(_strings(document), choice, fonts)
    document = {**document, "fonts": {"body": [LATIN_FONT, choice.body], "heading": [choice.heading]}}
    data = json.dumps(document, ensure_ascii=False)
    template = resources.files(__package__) / "typst" / _TEMPLATE
    with resources.as_file(template) as path:
        try:
            pdf = typst.compile(
                str(path),
                root=str(path.parent),
                font_paths=fonts,
                sys_inputs={"data": data},
                format="pdf",
            )
        except RuntimeError as err:  # TypstError: a fault in the template or the data, never the user's
            raise _error(
                "pdf-failed", f"生成 PDF 失败：{getattr(err, 'message', err)}", f"PDF failed: {err}"
            ) from None
    assert isinstance(pdf, bytes)
    return pdf


def unit_pdf(result: Result, *, font_paths: Sequence[str | Path] = ()) -> bytes:
    """The unit report of ``result`` as PDF bytes."""
    return render(unit_document(unit_view(result)), font_paths)


def summary_pdf(
    rows: Sequence[UnitRow],
    failures: Sequence[FailureRow],
    *,
    framework_name: str = "",
    precision: int | None = None,
    skipped: Sequence[SkippedFile] = (),
    font_paths: Sequence[str | Path] = (),
) -> bytes:
    """The batch summary as PDF bytes (the same view as 汇总.xlsx)."""
    view = summary_view(rows, failures, framework_name, precision=precision, skipped=skipped)
    return render(summary_document(view), font_paths)


def cohort_pdf(result: CohortResult, *, font_paths: Sequence[str | Path] = ()) -> bytes:
    """The county report of ``result`` as PDF bytes."""
    return render(cohort_document(cohort_view(result)), font_paths)


def write_unit_pdf(result: Result, path: str | Path, *, font_paths: Sequence[str | Path] = ()) -> Path:
    """Write the unit report of ``result`` to ``path`` as PDF, atomically; returns the path."""
    return atomic_write(path, unit_pdf(result, font_paths=font_paths))


def write_summary_pdf(
    rows: Sequence[UnitRow],
    failures: Sequence[FailureRow],
    path: str | Path,
    *,
    framework_name: str = "",
    precision: int | None = None,
    skipped: Sequence[SkippedFile] = (),
    font_paths: Sequence[str | Path] = (),
) -> Path:
    """Write the batch summary to ``path`` as PDF, atomically (mirrors ``summary_xlsx.write_batch_summary``)."""
    data = summary_pdf(
        rows,
        failures,
        framework_name=framework_name,
        precision=precision,
        skipped=skipped,
        font_paths=font_paths,
    )
    return atomic_write(path, data)


def write_cohort_pdf(
    result: CohortResult, path: str | Path, *, font_paths: Sequence[str | Path] = ()
) -> Path:
    """Write the county report of ``result`` to ``path`` as PDF, atomically; returns the path."""
    return atomic_write(path, cohort_pdf(result, font_paths=font_paths))
