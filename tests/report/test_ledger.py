"""整改台账: two rounds of the demo school in one workbook, read back with openpyxl."""

from __future__ import annotations

import datetime as dt

import openpyxl
from click.testing import CliRunner

import scoring
from scoring.cli import main
from scoring.report.ledger import write_ledger

from ..conftest import ROOT

EXAMPLES = ROOT / "examples" / "demo-school"
PLAN = scoring.compile_plan(scoring.load_framework("demo-school"))


def _rounds() -> tuple[scoring.Result, scoring.Result]:
    return tuple(  # type: ignore[return-value]
        scoring.score(PLAN, scoring.read_submission(EXAMPLES / name))
        for name in ("strong.yaml", "strong-round2.yaml")
    )


def test_the_ledger_lists_overdue_open_new_and_closed_items(tmp_path):
    old, new = _rounds()
    ws = openpyxl.load_workbook(write_ledger(old, new, tmp_path / "台账.xlsx"))["整改台账"]
    assert ws["A1"].value == "滨江实验小学 整改台账（2026-06-15 → 2027-06-15）"
    head = [c.value for c in ws[2]]
    rows = [dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]
    assert [(r["序号"], r["状态"], r["指标编码"]) for r in rows] == [
        (1, "逾期", "A2.2"),
        (2, "逾期", "A4.3"),
        (3, "已销号", "A3.1"),
        (4, "已销号", "A3.3"),
    ]
    late, closed = rows[0], rows[3]
    assert (late["上轮完成时限"], late["本轮完成时限"]) == (
        dt.datetime(2026, 9, 13),
        dt.datetime(2027, 9, 13),
    )
    assert late["上轮问题"] == late["本轮情况"] == "德育工作得8.00分（满分10分），失2.00分"
    assert (closed["本轮情况"], closed["销号日期"], closed["责任部门"]) == (
        "已整改（本轮未再发现）",
        dt.datetime(2027, 6, 15),
        "安全科",
    )
    assert [r["问责情形与措施"] for r in rows] == [
        "整改不力：逾期未完成整改：约谈、督导通报",  # 教育督导问责办法, the default measures
        "整改不力：逾期未完成整改：约谈、督导通报",
        "—",  # closed: no situation
        "—",
    ]
    assert all(r["整改措施与进展（学校填写）"] is None and r["核查结论（督学填写）"] is None for r in rows)
    rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    assert rules == ['"逾期"', '"已销号"']


def test_scoring_diff_writes_the_ledger(tmp_path):
    out = tmp_path / "结果"
    r = CliRunner().invoke(
        main,
        [
            "score",
            "demo-school",
            *(str(EXAMPLES / n) for n in ("strong.yaml", "strong-round2.yaml")),
            "-o",
            str(out),
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    ledger = tmp_path / "台账.xlsx"
    r = CliRunner().invoke(
        main,
        ["diff", str(out / "strong.result.json"), str(out / "strong-round2.result.json"), "-o", str(ledger)],
    )
    assert r.exit_code == 0, r.output
    assert "仍未整改（2 项，其中逾期 2 项）：" in r.output and f"整改台账：{ledger}" in r.output
    assert openpyxl.load_workbook(ledger).sheetnames == ["整改台账"]
