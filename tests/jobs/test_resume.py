"""Resumable batches (issue 18): a run into a folder holding earlier results scores only what is not done; a batch
killed in the middle leaves no half-written unit, and the next run completes it; a changed input or framework is
scored again and its old outputs replaced."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

import scoring
from scoring.cli import main
from scoring.engine.score import Options
from scoring.io.files import LOCK_NAME
from scoring.jobs.batch import FileOutcome, score_batch
from scoring.jobs.resume import RECORDS, Record, all_records, file_digest, read_record

from ..conftest import ROOT
from ..excel import PLAN

EX = ROOT / "examples" / "demo-school"
WEAK = json.loads((EX / "weak.json").read_text("utf-8"))


def _school(path: Path, name: str, code: str, students: int = 800) -> Path:
    data = {**WEAK, "unit": {**WEAK["unit"], "name": name, "code": code}}
    data["values"] = {**WEAK["values"], "students": students}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def _inbox(tmp_path: Path, n: int = 3) -> Path:
    for i in range(n):
        _school(tmp_path / "in" / f"s{i}.json", f"第{i}校", f"32{i}")
    return tmp_path / "in"


def _times(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name.endswith((".json", ".md"))}


def test_a_rerun_skips_what_is_done_says_so_and_force_scores_again(tmp_path):
    folder, out = _inbox(tmp_path), tmp_path / "out"
    args = ["score", "demo-school", str(folder), "-o", str(out), "--workers", "1"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0 and "已有结果" not in first.output
    before = _times(out)
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert "已有结果 3 份（输入与框架均未变），跳过；--force 重新评分" in again.output
    assert "共 3 份：评分 3 份（其中已有结果 3 个文件，未重新评分），失败 0 份" in again.output
    assert f"✓ {folder / 's0.json'}：第0校：23.00 分，不合格（已有结果）" in again.output
    assert _times(out) == before  # not one file written again
    ws = load_workbook(out / "汇总.xlsx")["汇总"]  # whole: every unit, though none was scored this time
    assert [row[1] for row in ws.iter_rows(min_row=3, max_row=5, values_only=True)] == [
        "第0校",
        "第1校",
        "第2校",
    ]
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert forced.exit_code == 0 and "已有结果 3 份" not in forced.output
    assert "已有之前评分的结果（10 个文件）：--force，全部重新评分" in forced.output
    assert all(_times(out)[name] > t for name, t in before.items())
    english = CliRunner().invoke(main, [*args, "--lang", "en"])
    assert "3 file(s) already scored (same input and framework): skipped; --force scores them again" in (
        english.output
    )


def test_only_a_changed_input_is_scored_again_and_its_outputs_replaced(tmp_path):
    folder, out = _inbox(tmp_path), tmp_path / "out"
    score_batch(PLAN, [folder], out, workers=1)
    _school(folder / "s1.json", "第1校（改）", "321", students=400)
    seen: list[FileOutcome] = []
    again = score_batch(PLAN, [folder], out, workers=1, on_file=seen.append)
    assert sorted((Path(o.file).name, o.reused) for o in seen) == [
        ("s0.json", True),
        ("s1.json", False),
        ("s2.json", True),
    ]
    assert (again.reused, again.changed) == (2, 1)
    assert json.loads((out / "s1.result.json").read_text("utf-8"))["unit"]["name"] == "第1校（改）"
    assert [r.name for r in again.rows] == ["第0校", "第1校（改）", "第2校"]
    rec = read_record(out, "s1")
    assert rec is not None and rec.key.input == file_digest(folder / "s1.json")
    assert sorted(p.name for p in out.glob("s1*")) == ["s1.report.md", "s1.report.xlsx", "s1.result.json"]


def test_another_framework_or_other_options_score_everything_again(tmp_path):
    folder, out = _inbox(tmp_path), tmp_path / "out"
    score_batch(PLAN, [folder], out, formats=("json",), workers=1)
    text = (ROOT / "frameworks" / "demo-school.yaml").read_text("utf-8")
    changed = scoring.compile_plan(scoring.load_text(text.replace("total: 97.85", "total:   97.85", 1)))
    other = scoring.compile_plan(scoring.load_text(text.replace("（演示）", "（演示二）", 1)))
    assert changed.hash == PLAN.hash and other.hash != PLAN.hash  # the hash is of the content, not the text
    assert score_batch(changed, [folder], out, formats=("json",), workers=1).reused == 3
    redone = score_batch(other, [folder], out, formats=("json",), workers=1)
    assert (redone.reused, redone.changed) == (0, 3)
    self_only = score_batch(
        other, [folder], out, formats=("json",), workers=1, options=Options(values="self")
    )
    assert (self_only.reused, self_only.changed) == (0, 3)
    more = score_batch(
        other, [folder], out, formats=("json", "md"), workers=1, options=Options(values="self")
    )
    assert (more.reused, more.changed) == (0, 3)  # a format not written before: scored again
    fewer = score_batch(other, [folder], out, formats=("md",), workers=1, options=Options(values="self"))
    assert fewer.reused == 3


def test_a_renamed_output_leaves_no_stale_copy_and_a_failing_input_no_old_results(tmp_path):
    a = _school(tmp_path / "in" / "一学区" / "x.json", "甲", "1")
    out = tmp_path / "out"
    score_batch(PLAN, [tmp_path / "in"], out, formats=("json",), workers=1)
    assert (out / "x.result.json").exists()
    _school(tmp_path / "in" / "二学区" / "x.json", "乙", "2")  # x is now ambiguous: 一学区_x and 二学区_x
    again = score_batch(PLAN, [tmp_path / "in"], out, formats=("json",), workers=1)
    assert sorted(p.name for p in out.glob("*.json")) == ["一学区_x.result.json", "二学区_x.result.json"]
    assert [r.name for r in again.rows] == ["甲", "乙"] and again.kept == []
    a.write_text("{not json", "utf-8")
    failed = score_batch(PLAN, [tmp_path / "in"], out, formats=("json",), workers=1)
    assert [Path(f.file).name for f in failed.failures] == ["x.json"]
    assert sorted(p.name for p in out.glob("*.json")) == ["二学区_x.result.json"]
    assert [r.stem for r in all_records(out)] == ["二学区_x"]


def test_a_record_is_written_last_and_a_unit_without_one_is_scored_again(tmp_path):
    folder, out = _inbox(tmp_path), tmp_path / "out"
    score_batch(PLAN, [folder], out, formats=("json",), workers=1)
    (out / RECORDS / "s0.json").unlink()  # as if killed between its outputs and its record
    (out / "s2.result.json").unlink()  # an output removed by hand: not whole
    (out / RECORDS / "s1.json").write_text("{", "utf-8")  # a record cut short is not trusted
    seen: list[FileOutcome] = []
    again = score_batch(PLAN, [folder], out, formats=("json",), workers=1, on_file=seen.append)
    assert [o.reused for o in seen] == [False, False, False] and again.reused == 0
    assert Record.loads((out / RECORDS / "s1.json").read_bytes()) is not None


def _scoring(*args: str) -> subprocess.Popen[bytes]:
    code = "import sys; from scoring.cli import main; sys.argv[0] = 'scoring'; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    )


def test_a_killed_batch_is_completed_by_the_next_run(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for i in range(60):
        (folder / f"w{i:02d}.xlsx").write_bytes((EX / ("strong.xlsx" if i % 2 else "weak.xlsx")).read_bytes())
    proc = _scoring("score", "demo-school", str(folder), "-o", str(out), "--workers", "1")
    deadline = time.monotonic() + 120
    while (
        len(list((out / RECORDS).glob("*.json"))) < 8 and proc.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {r.stem for r in all_records(out)}
    assert 8 <= len(done) < 60 and (out / LOCK_NAME).exists() and not (out / "汇总.xlsx").exists()
    for stem in done:  # whatever a record vouches for is whole
        assert json.loads((out / f"{stem}.result.json").read_text("utf-8"))["unit"]["name"]
        assert load_workbook(out / f"{stem}.report.xlsx").sheetnames[0] == "汇总"
    again = _scoring("score", "demo-school", str(folder), "-o", str(out), "--workers", "1")
    stdout, stderr = again.communicate(timeout=300)
    text = stdout.decode() + stderr.decode()
    assert again.returncode == 0, text
    assert "上次中断的评分留下的锁" in text
    assert f"已有结果 {len(done)} 份（输入与框架均未变），跳过；--force 重新评分" in text
    assert f"共 60 份：评分 60 份（其中已有结果 {len(done)} 个文件，未重新评分），失败 0 份" in text
    assert len(all_records(out)) == 60 and len(list(out.glob("*.result.json"))) == 60
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    ws = load_workbook(out / "汇总.xlsx")["汇总"]
    assert str(ws["A1"].value).startswith("中小学办学质量考评（演示） 评估结果汇总（已评 60 个单位")
    assert [row[13] for row in ws.iter_rows(min_row=3, max_row=62, values_only=True)] == [
        f"w{i:02d}" for i in range(60)
    ]


def test_what_a_killed_write_left_is_swept_and_nothing_else(tmp_path):
    folder, out = _inbox(tmp_path, 1), tmp_path / "out"
    (out / RECORDS).mkdir(parents=True)
    left = [out / ".s0.result.json.k2x_9q0a.tmp", out / RECORDS / ".s0.json.abcdefgh.tmp"]
    for p in left:
        p.write_bytes(b"half")
    mine = [out / ".notes.tmp", out / "草稿.tmp"]
    for p in mine:
        p.write_bytes(b"keep")
    score_batch(PLAN, [folder], out, formats=("json",), workers=1)
    assert [p.exists() for p in left] == [False, False] and [p.exists() for p in mine] == [True, True]


def test_a_resumed_units_summary_row_is_the_row_it_was_scored_with(tmp_path):
    """The summary of a resumed run groups by 区域 and averages first-level scores from the records: a row read
    back must be the row written (region and first-level scores included)."""
    folder, out = _inbox(tmp_path), tmp_path / "out"
    first = score_batch(PLAN.framework, [folder], out, workers=1)
    again = score_batch(PLAN.framework, [folder], out, workers=1)
    assert again.reused == 3
    assert [r.tops for r in again.rows] == [r.tops for r in first.rows] != [[], [], []]
    assert [r.region for r in again.rows] == [r.region for r in first.rows]
    assert again.rows == first.rows


def test_a_recorded_unit_whose_outputs_are_cut_short_or_gone_is_scored_again_and_said(tmp_path):
    """Outputs are not fsync'd one by one: a record vouches only for outputs of the size and hash it holds (after a
    crash of the machine an output may be shorter than written, or missing, though its record survived)."""
    folder, out = _inbox(tmp_path), tmp_path / "out"
    args = ["score", "demo-school", str(folder), "-o", str(out), "--workers", "1"]
    assert CliRunner().invoke(main, args).exit_code == 0
    rec = read_record(out, "s0")
    assert rec is not None and rec.digests is not None and set(rec.digests) == set(rec.outputs)
    assert rec.digests["s0.result.json"][0] == (out / "s0.result.json").stat().st_size
    whole = (out / "s0.result.json").read_bytes()
    (out / "s0.result.json").write_bytes(whole[: len(whole) // 2])  # cut short
    (out / "s1.report.xlsx").unlink()  # lost
    md = out / "s2.report.md"
    md.write_bytes(md.read_bytes().replace(b"23.00", b"99.00", 1))  # the same size, other bytes
    before = _times(out)
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert "已有结果 3 份" not in again.output and "份的输入、框架或评分方式已变" not in again.output
    for file, names in (
        ("s0.json", "s0.result.json"),
        ("s1.json", "s1.report.xlsx"),
        ("s2.json", "s2.report.md"),
    ):
        assert f"{folder / file}：上次的结果 {names} 缺失或与记录不符" in again.output, again.output
    assert json.loads((out / "s0.result.json").read_bytes()) == json.loads(whole)
    assert (out / "s1.report.xlsx").exists() and b"99.00" not in md.read_bytes()
    assert all(_times(out)[name] > t for name, t in before.items() if name.startswith(("s0", "s2")))
    third = score_batch(PLAN, [folder], out, workers=1)
    assert (third.reused, third.changed, third.damaged) == (3, 0, [])


def test_a_record_of_format_2_is_still_read_and_trusted_as_it_was(tmp_path):
    """Format 2 (each output fsync'd before its record) lists names only: its outputs must be there."""
    folder, out = _inbox(tmp_path), tmp_path / "out"
    score_batch(PLAN, [folder], out, formats=("json",), workers=1)
    for stem in ("s0", "s1", "s2"):
        path = out / RECORDS / f"{stem}.json"
        data = json.loads(path.read_text("utf-8"))
        data["version"], data["outputs"] = 2, [o["name"] for o in data["outputs"]]
        path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    old = read_record(out, "s0")
    assert old is not None and old.digests is None and old.outputs == ["s0.result.json"]
    assert json.loads(old.dumps())["version"] == 2  # written back as what it is
    (out / "s1.result.json").unlink()
    again = score_batch(PLAN, [folder], out, formats=("json",), workers=1)
    assert again.reused == 2 and again.damaged == [(str(folder / "s1.json"), ["s1.result.json"])]
    assert json.loads((out / RECORDS / "s1.json").read_text("utf-8"))["version"] == 3
    bad = json.loads((out / RECORDS / "s1.json").read_text("utf-8"))
    bad["outputs"][0]["size"] = "12"
    assert Record.loads(json.dumps(bad)) is None  # a format 3 record without a size is not trusted
