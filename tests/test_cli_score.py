from __future__ import annotations

import json
import subprocess
import sys

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
        "每百名学生拥有高于规定学历教师数 = 21 ÷ 500 × 100 = 4.20 ≥ 4.2 → 达标（15.00 分）"
    )
    assert lines[strong + 3] == "        · 每百名学生拥有高于规定学历教师数 = 4.20"


def test_explain_of_an_unknown_code_is_a_usage_error_before_any_scoring():
    r = CliRunner().invoke(main, ["score", "demo-school", str(EX / "strong.yaml"), "--explain", "Z9"])
    assert r.exit_code == 2
    assert "没有编码为 “Z9” 的指标" in r.output
    r = CliRunner().invoke(main, ["explain", "demo-school", str(EX / "strong.yaml"), "Z9"])
    assert r.exit_code == 2 and "没有编码为 “Z9” 的指标" in r.output


def test_score_in_english_lists_skipped_files_and_units_found_twice(tmp_path):
    folder = tmp_path / "in"
    for name in ("a.json", "b.json"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes((EX / "weak.json").read_bytes())
    (folder / "notice.pdf").write_bytes(b"%PDF")
    r = CliRunner().invoke(
        main, ["score", "demo-school", str(folder), "-o", str(tmp_path / "out"), "--lang", "en"]
    )
    assert r.exit_code == 0, r.output
    assert f"○ skipped {folder / 'notice.pdf'}: not a submission file type (.pdf)" in r.output
    assert "⚠ duplicate unit: 北山中学 (3201020007) in 2 files" in r.output
    assert "2 file(s): 2 scored, 0 failed, 1 skipped, 1 duplicate(s) not ranked; summary" in r.output


def test_score_into_a_file_is_a_usage_error_before_any_scoring(tmp_path):
    target = tmp_path / "结果.txt"
    target.write_text("x", "utf-8")
    r = CliRunner().invoke(main, ["score", "demo-school", str(EX / "strong.yaml"), "-o", str(target)])
    assert r.exit_code == 2 and f"输出位置 {target} 是一个文件，不是文件夹" in r.output
    assert "✓" not in r.output


def test_a_unit_name_cannot_write_a_line_of_its_own(tmp_path):
    data = json.loads((EX / "weak.json").read_text("utf-8"))
    data["unit"]["name"] = "乙校\r\n✓ 甲校：100.00 分，优秀\x1b[1A"
    sub = tmp_path / "s.json"
    sub.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    r = CliRunner().invoke(main, ["score", "demo-school", str(sub)])
    assert r.exit_code == 0
    assert [line for line in r.output.splitlines() if line.startswith("✓")] == [
        f"✓ {sub}：乙校\\r\\n✓ 甲校：100.00 分，优秀\\x1b[1A：23.00 分，不合格"
    ]


def test_template_must_be_named_xlsx(tmp_path):
    r = CliRunner().invoke(main, ["template", "demo-school", "-o", str(tmp_path / "t.pdf")])
    assert r.exit_code == 2 and "文件名应以 .xlsx 结尾" in r.output and not (tmp_path / "t.pdf").exists()


def test_diff_of_two_schools_is_refused_unless_forced(tmp_path):
    runner = CliRunner()
    runner.invoke(
        main, ["score", "demo-school", str(EX / "strong.yaml"), str(EX / "weak.json"), "-o", str(tmp_path)]
    )
    pair = [str(tmp_path / "strong.result.json"), str(tmp_path / "weak.result.json")]
    r = runner.invoke(main, ["diff", *pair])
    assert r.exit_code == 2 and "两份结果不是同一单位" in r.output and "北山中学" in r.output
    r = runner.invoke(main, ["diff", *pair, "--force"])
    assert r.exit_code == 0 and "警告：两份结果不是同一单位" in r.output and "已销号" in r.output


def test_a_cluster_without_dask_installed_is_a_usage_error_before_any_scoring(tmp_path):
    code = (
        "import sys; sys.modules['distributed'] = None  # as where the cluster extra is not installed\n"
        "from scoring.cli import main; sys.argv[0] = 'scoring'; main()"
    )
    args = [
        "score",
        "demo-school",
        str(EX / "strong.yaml"),
        "-o",
        str(tmp_path),
        "--scheduler",
        "tcp://h:8786",
    ]
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == (
        "未安装 Dask distributed，不能使用 --scheduler：请先安装集群扩展（pip install 'duping-scoring[cluster]'），"
        "或去掉 --scheduler 在本机评分\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_reports_pdf_and_docx_write_each_schools_pdf_and_documents_and_the_summary_pdf(tmp_path):
    """Issue 15: `scoring score demo-school examples/demo-school/ -o out/ --reports pdf,docx`."""
    import docx
    from pypdf import PdfReader

    issuer = tmp_path / "issuer.yaml"
    issuer.write_text("发文机关: 示范区人民政府教育督导室\n发文字号: 示教督\n", encoding="utf-8")
    demo = ROOT / "examples" / "demo-school"
    out = tmp_path / "out"
    args = ["score", "demo-school", str(demo / "weak.json"), str(demo / "strong.yaml"), "-o", str(out)]
    r = CliRunner().invoke(main, [*args, "--reports", "pdf,docx", "--issuer", str(issuer)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "strong.report.pdf",
        "strong.整改通知书.docx",
        "strong.督导意见书.docx",
        "weak.report.pdf",
        "weak.整改通知书.docx",
        "weak.督导意见书.docx",
        "汇总.pdf",
    ]
    text = "".join(page.extract_text() for page in PdfReader(out / "weak.report.pdf").pages)
    assert "北山中学" in text and "23.00" in text and "不合格" in text
    opinion = "\n".join(p.text for p in docx.Document(str(out / "weak.督导意见书.docx")).paragraphs)
    assert "示范区人民政府教育督导室" in opinion and "北山中学" in opinion and "23.00" in opinion
    again = CliRunner().invoke(main, [*args, "--reports", "pdf,docx", "--issuer", str(issuer)])
    assert "已有结果 2 份" in again.output  # resumed: the same inputs, framework and issuer
    other = tmp_path / "other.yaml"
    other.write_text("发文机关: 另一个督导室\n", encoding="utf-8")
    changed = CliRunner().invoke(main, [*args, "--reports", "pdf,docx", "--issuer", str(other)])
    assert "已有结果" not in changed.output  # another issuer: the documents are made again


def test_a_bad_issuer_file_is_a_usage_error_naming_its_line(tmp_path):
    issuer = tmp_path / "issuer.yaml"
    issuer.write_text("发文机关: 督导室\n成文日期: 不是日期\n", encoding="utf-8")
    demo = ROOT / "examples" / "demo-school"
    r = CliRunner().invoke(
        main,
        [
            *("score", "demo-school", str(demo / "weak.json"), "-o", str(tmp_path / "o")),
            *("--reports", "docx", "--issuer", str(issuer)),
        ],
    )
    assert r.exit_code == 2
    assert f"{issuer}:2" in r.output
