"""What a batch keeps per unit: a small row, so memory stays flat however many workbooks are scored."""

from __future__ import annotations

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

    @classmethod
    def of(cls, file: str, r: Result) -> UnitRow:
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
        )


@dataclass(slots=True)
class FailureRow:
    """A file that could not be scored, with every reason (``file — Sheet!C12 (列名): message``)."""

    file: str
    reasons: list[str]
