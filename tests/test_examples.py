"""Every example submission and every example workbook scores; a workbook gives what its source gives.

A failure here after a framework change means: run `python examples/make_workbooks.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import scoring
from scoring.io.workbook import read_workbook

from .conftest import ROOT

EXAMPLES = ROOT / "examples"
SOURCES = sorted(
    p
    for p in [*EXAMPLES.glob("*/*.yaml"), *EXAMPLES.glob("*/*.json")]
    if p.parent.name not in ("tailoring", "ysjh-2017")
)


def _plan(sub: scoring.Submission, folder: Path) -> scoring.Plan:
    return scoring.compile_plan(scoring.load_framework(sub.framework or folder.name))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_and_its_workbook_score_the_same(source):
    sub = scoring.read_submission(source)
    plan = _plan(sub, source.parent)
    expected = scoring.score(plan, sub)
    workbook = source.with_suffix(".xlsx")
    assert workbook.exists(), "run: python examples/make_workbooks.py"
    got = scoring.score(plan, read_workbook(workbook, plan))
    assert (got.total, got.grade, got.passed) == (expected.total, expected.grade, expected.passed)
    assert [(i.code, i.status, i.points) for i in got.indicators] == [
        (i.code, i.status, i.points) for i in expected.indicators
    ]


def test_walkthrough_tailoring_file_validates():
    fw, problems = scoring.validate_path(EXAMPLES / "tailoring" / "my-district.yaml")
    assert fw is not None and problems == []  # the 寄宿 indicator, its check and its inputs are all removed
    assert "night_patrol" not in fw.inputs and [c.code for c in fw.checks] == ["K1"]
    assert sum(i.points for i in fw.indicators) == 100
