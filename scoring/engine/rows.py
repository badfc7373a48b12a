"""What a batch keeps per unit: a small row, so memory stays flat however many workbooks are scored."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .result import Result


@dataclass(slots=True)
class UnitRow:
    file: str
    name: str
    code: str | None
    type: str | None
    total: Decimal | None
    grade: str | None
    passed: bool | None
    provisional: bool
    completeness: Decimal
    vetoes: list[str] = field(default_factory=list)  # reasons of the vetoes triggered
    shortfalls: list[tuple[str, str]] = field(
        default_factory=list
    )  # (code, name) of leaves 未达标 / 部分达标
    rectification_items: int = 0
    data_warnings: list[str] = field(default_factory=list)  # 数据核查 warnings: "K2 message"
    report: str | None = None  # the name its reports were written under (<report>.result.json …), if written
    # the same unit in other files of the batch (same 单位代码, or without one the same name and type) …
    same_unit: list[str] = field(default_factory=list)
    # … and, when another of those files is the one ranked and counted, that file (this row is then not ranked)
    duplicate_of: str | None = None
    region: str | None = None  # 所在地区, as the submission gives it
    # the first-level indicators: (code, name, points, full points), for the summary's averages
    tops: list[tuple[str, str, Decimal | None, Decimal | None]] = field(default_factory=list)

    @property
    def ranked(self) -> bool:
        """Whether the row takes part in ranks and counts (a duplicate of a unit ranked elsewhere does not)."""
        return self.duplicate_of is None

    @classmethod
    def of(cls, file: str, r: Result, report: str | None = None) -> UnitRow:
        return cls(
            file=file,
            name=r.unit.name,
            code=r.unit.code,
            type=r.unit.type,
            total=r.total,
            grade=r.grade,
            passed=r.passed,
            provisional=r.provisional,
            completeness=r.completeness.ratio,
            vetoes=[v.reason for v in r.vetoes if v.triggered],
            shortfalls=[
                (i.code, i.name)
                for i in r.indicators
                if i.kind != "group" and i.status in ("unmet", "partial")
            ],
            rectification_items=len(r.rectification),
            data_warnings=[f"{w.code} {w.message}" for w in r.data_warnings],
            report=report,
            region=r.unit.region,
            tops=[(i.code, i.name, i.points, i.possible) for i in r.indicators if i.depth == 1],
        )


def norm_text(text: str | None) -> str:
    """Text as people mean it: 全角 as 半角, runs of spaces as one, case ignored."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


def unit_key(row: UnitRow) -> tuple[str, ...]:
    """What makes two rows the same unit: the same 单位代码 (and type: a split school's parts share a code), or,
    without a code, the same name and type — compared as people type them (全角, spaces, case)."""
    code = norm_text(row.code).replace(" ", "")
    return ("code", code, norm_text(row.type)) if code else ("name", norm_text(row.name), norm_text(row.type))


def duplicate_groups(rows: Sequence[UnitRow]) -> list[list[int]]:
    """Positions of rows that are the same unit submitted in more than one file, a group per unit (in row order)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(unit_key(row), []).append(i)
    return [g for g in groups.values() if len({rows[i].file for i in g}) > 1]


@dataclass(slots=True)
class FailureRow:
    """A file that could not be scored, with every reason (``file — Sheet!C12 (列名): message``)."""

    file: str
    reasons: list[str]
    reasons_en: list[str] = field(default_factory=list)  # the same in English, where the batch had them


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file in a submissions folder that was not read, and why (not a submission's type, an Office lock file)."""

    file: str
    reason: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """One unit found in several files of a batch: the files (in batch order) and the one ranked and counted."""

    name: str
    code: str | None
    type: str | None
    files: tuple[str, ...]
    ranked: str
