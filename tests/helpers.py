"""Small real frameworks for tests: a header plus the parts under test."""

from __future__ import annotations

from decimal import Decimal

import scoring

HEADER = """
id: t
name: 测试框架
version: "1"
applies_to: [小学, 初中]
"""


def plan_of(body: str, header: str = HEADER) -> scoring.Plan:
    return scoring.compile_plan(scoring.load_text(header + body, "t.yaml"))


def run(
    plan: scoring.Plan, values: dict | None = None, *, type: str = "小学", manual: dict | None = None, **extra
) -> scoring.Result:
    sub = scoring.Submission(
        unit={"name": "测试学校", "type": type, "date": "2026-06-01"},
        values=values or {},
        manual=manual or {},
        **extra,
    )
    return scoring.score(plan, sub)


def D(x: str | int) -> Decimal:
    return Decimal(str(x))
