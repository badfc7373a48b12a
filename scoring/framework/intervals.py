"""Half-open/closed intervals over Decimal, for checking that bands have no gaps, overlaps or dead steps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

INF = Decimal("Infinity")


@dataclass(frozen=True)
class Interval:
    lo: Decimal = -INF
    lo_closed: bool = False
    hi: Decimal = INF
    hi_closed: bool = False

    @classmethod
    def of(
        cls,
        at_least: Decimal | None = None,
        above: Decimal | None = None,
        at_most: Decimal | None = None,
        below: Decimal | None = None,
    ) -> Interval:
        lo, lo_c = (
            (at_least, True)
            if at_least is not None
            else (above, False)
            if above is not None
            else (-INF, False)
        )
        hi, hi_c = (
            (at_most, True) if at_most is not None else (below, False) if below is not None else (INF, False)
        )
        return cls(lo, lo_c, hi, hi_c)

    @property
    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def contains(self, x: Decimal) -> bool:
        above_lo = x > self.lo or (self.lo_closed and x == self.lo)
        below_hi = x < self.hi or (self.hi_closed and x == self.hi)
        return above_lo and below_hi

    def intersect(self, other: Interval) -> Interval:
        if self.lo > other.lo or (self.lo == other.lo and not self.lo_closed):
            lo, lo_c = self.lo, self.lo_closed
        else:
            lo, lo_c = other.lo, other.lo_closed
        if self.hi < other.hi or (self.hi == other.hi and not self.hi_closed):
            hi, hi_c = self.hi, self.hi_closed
        else:
            hi, hi_c = other.hi, other.hi_closed
        return Interval(lo, lo_c, hi, hi_c)

    def text(self) -> str:
        left = "[" if self.lo_closed else "("
        right = "]" if self.hi_closed else ")"
        lo = "-∞" if self.lo == -INF else _fmt(self.lo)
        hi = "+∞" if self.hi == INF else _fmt(self.hi)
        return f"{left}{lo}, {hi}{right}"


def _fmt(x: Decimal) -> str:
    return format(x.normalize(), "f") if x == x.to_integral_value() else format(x, "f")


def union_gaps(parts: list[Interval], domain: Interval) -> list[Interval]:
    """The pieces of ``domain`` that no interval in ``parts`` covers."""
    pieces = sorted(
        (p.intersect(domain) for p in parts if not p.intersect(domain).empty),
        key=lambda p: (p.lo, not p.lo_closed),
    )
    gaps: list[Interval] = []
    cur, cur_closed = domain.lo, not domain.lo_closed  # "covered up to cur" (inclusive if cur_closed)
    started = False
    for p in pieces:
        # Gap between cur and p.lo?
        if not started:
            gap = Interval(domain.lo, domain.lo_closed, p.lo, not p.lo_closed)
            started = True
        else:
            gap = Interval(cur, not cur_closed, p.lo, not p.lo_closed)
        if not gap.empty:
            gaps.append(gap)
        if p.hi > cur or (p.hi == cur and p.hi_closed and not cur_closed) or not started:
            cur, cur_closed = p.hi, p.hi_closed
    if not started:
        return [domain] if not domain.empty else []
    tail = Interval(cur, not cur_closed, domain.hi, domain.hi_closed)
    if not tail.empty:
        gaps.append(tail)
    return gaps


def covered_by(part: Interval, others: list[Interval]) -> bool:
    """Is ``part`` entirely inside the union of ``others``?"""
    return not part.empty and not union_gaps(others, part)
