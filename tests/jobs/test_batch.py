"""A folder with one corrupt file, one workbook of another framework, one zip bomb and ten good workbooks."""

from __future__ import annotations

from click.testing import CliRunner
from openpyxl import load_workbook

import scoring
from scoring.cli import main
from scoring.io.template import write_template
from scoring.jobs.batch import score_batch

from ..conftest import ROOT
from ..excel import PLAN, filled, zip_bomb


def _folder(tmp_path):
    folder = tmp_path / "收件箱"
    folder.mkdir()
    strong = scoring.read_submission(ROOT / "examples" / "demo-school" / "strong.yaml")
    for i in range(10):
        sub = strong.model_copy(deep=True)
        sub.unit.name = f"第{i + 1}小学"
        sub.values["teachers_qualified"] = 15 + i  # 3.00 … 4.80 per 100 pupils: some meet 4.2
        filled(tmp_path, sub, f"收件箱/school-{i:02d}.xlsx")
    (folder / "corrupt.xlsx").write_bytes(b"this is not a workbook")
    other = scoring.compile_plan(
        scoring.load_text(
            "id: other\nname: 别的框架\nversion: '2'\ninputs: {x: {label: X, type: number}}\n"
            "indicators: [{code: A, name: A, points: 1, rule: {threshold: {value: x, at_least: 1}}}]\n"
        )
    )
    write_template(other, folder / "other-framework.xlsx")
    zip_bomb(folder / "bomb.xlsx")
    (folder / "~$school-00.xlsx").write_bytes(b"office lock file")  # skipped, not a failure
    return folder


def test_batch_isolates_failures_and_writes_reports(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    result = score_batch(PLAN.framework, [folder], out, workers=2)
    assert len(result.rows) == 10
    assert sorted(f.file.rsplit("/", 1)[1] for f in result.failures) == [
        "bomb.xlsx",
        "corrupt.xlsx",
        "other-framework.xlsx",
    ]
    reasons = {f.file.rsplit("/", 1)[1]: " ".join(f.reasons) for f in result.failures}
    assert "疑似压缩炸弹" in reasons["bomb.xlsx"]
    assert "已损坏" in reasons["corrupt.xlsx"]
    assert "“other”" in reasons["other-framework.xlsx"]
    assert len(list(out.glob("*.report.xlsx"))) == 10 and len(list(out.glob("*.result.json"))) == 10
    summary = load_workbook(out / "汇总.xlsx")
    assert summary.sheetnames[0] == "汇总"
    assert [r.total for r in result.rows][:3] == [
        scoring.score(PLAN, scoring.read_submission(ROOT / "examples" / "demo-school" / "strong.yaml")).total
        - 15
    ] * 3


def test_cli_batch_exit_code_and_summary(tmp_path):
    folder = _folder(tmp_path)
    r = CliRunner().invoke(
        main, ["score", "demo-school", str(folder), "-o", str(tmp_path / "out"), "--workers", "1"]
    )
    assert r.exit_code == 1
    assert "共 13 份：评分 10 份，失败 3 份" in r.output
    assert "疑似压缩炸弹" in r.output
