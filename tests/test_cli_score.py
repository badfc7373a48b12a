from __future__ import annotations

import json

from click.testing import CliRunner

from scoring.cli import main

from .conftest import ROOT

EX = ROOT / "examples" / "demo-school"


def test_score_writes_json_and_markdown(tmp_path):
    r = CliRunner().invoke(
        main, ["score", "demo-school", str(EX / "strong.yaml"), str(EX / "weak.json"), "-o", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    assert "滨江实验小学：97.85 分，优秀" in r.output
    assert "北山中学：23.00 分，不合格" in r.output
    data = json.loads((tmp_path / "strong.result.json").read_text("utf-8"))
    assert data["total"] == "97.85" and data["grade"] == "优秀"
    md = (tmp_path / "weak.report.md").read_text("utf-8")
    assert "## 整改清单" in md and "自评虚高" in md


def test_one_bad_submission_does_not_stop_the_others(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("unit: {name: 坏数据学校}\nvalues: {students: 很多}\n", "utf-8")
    r = CliRunner().invoke(main, ["score", "demo-school", str(bad), str(EX / "strong.yaml")])
    assert r.exit_code == 1
    assert "应填数值" in r.output and "滨江实验小学" in r.output


def test_explain_prints_the_trace():
    r = CliRunner().invoke(main, ["explain", "demo-school", str(EX / "strong.yaml"), "A1.1"])
    assert r.exit_code == 0
    assert "21 ÷ 500 × 100 = 4.20 ≥ 4.2 → 达标" in r.output


def test_framework_tests_pass_and_failures_show_diffs(tmp_path):
    r = CliRunner().invoke(main, ["test", str(ROOT / "frameworks" / "demo-school.yaml")])
    assert r.exit_code == 0 and "6 passed, 0 failed" in r.output
    r = CliRunner().invoke(main, ["test", str(ROOT / "frameworks")])
    assert r.exit_code == 0 and " passed, 0 failed" in r.output
    text = (
        (ROOT / "frameworks" / "demo-school.yaml")
        .read_text("utf-8")
        .replace("total: 97.85", "total: 97.86", 1)
        .replace("checks: [K2]", "checks: []", 1)
        .replace("checks: [K1]", "checks: [K2]", 1)
    )
    f = tmp_path / "demo.yaml"
    f.write_text(text.replace("$schema=../schema", "$schema=../../schema"), "utf-8")
    r = CliRunner().invoke(main, ["test", str(f)])
    assert r.exit_code == 1
    assert "总分：期望 97.86，实际 97.85" in r.output
    assert "未通过的数据核查：期望 无，实际 ['K2']" in r.output
    assert "未通过的数据核查：期望 ['K2']，实际 ['K1']（填报被退回）" in r.output


def test_diff_command(tmp_path):
    runner = CliRunner()
    runner.invoke(
        main,
        [
            "score",
            "demo-school",
            str(EX / "strong.yaml"),
            str(EX / "strong-round2.yaml"),
            "-o",
            str(tmp_path),
        ],
    )
    r = runner.invoke(
        main, ["diff", str(tmp_path / "strong.result.json"), str(tmp_path / "strong-round2.result.json")]
    )
    assert r.exit_code == 0
    assert "已销号（2 项）" in r.output and "A3 学校管理：22.00 → 25.00（+3.00）" in r.output


def test_score_explain_prints_each_units_trace_from_the_batch_without_scoring_again(monkeypatch):
    import scoring.engine.score as engine

    calls: list[str] = []
    real = engine.score

    def counting(plan, submission, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(submission.unit.name)
        return real(plan, submission, *args, **kwargs)

    monkeypatch.setattr("scoring.jobs.batch.score", counting)
    files = [str(EX / "strong.yaml"), str(EX / "weak.json")]
    r = CliRunner().invoke(main, ["score", "demo-school", *files, "--workers", "1", "--explain", "A1"])
    assert r.exit_code == 0, r.output
    assert sorted(calls) == ["北山中学", "滨江实验小学"]  # once each: the batch wrote the traces
    lines = r.output.splitlines()
    strong = lines.index(next(line for line in lines if "滨江实验小学：97.85 分，优秀" in line))
    assert lines[strong + 1].startswith("  A1 办学条件：")
    assert lines[strong + 2] == "    A1.1 每百名学生拥有高于规定学历教师数：" + (
        "每百名学生拥有高于规定学历教师数 = 21 ÷ 500 × 100 = 4.20 ≥ 4.2 → 达标（15 分）"
    )
    assert lines[strong + 3] == "        · L1 = 4.20"


def test_explain_of_an_unknown_code_is_a_usage_error_before_any_scoring():
    r = CliRunner().invoke(main, ["score", "demo-school", str(EX / "strong.yaml"), "--explain", "Z9"])
    assert r.exit_code == 2
    assert "没有编码为 “Z9” 的指标" in r.output
    r = CliRunner().invoke(main, ["explain", "demo-school", str(EX / "strong.yaml"), "Z9"])
    assert r.exit_code == 2 and "没有编码为 “Z9” 的指标" in r.output
