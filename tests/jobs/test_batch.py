"""A folder with one corrupt file, one workbook of another framework, one zip bomb and ten good workbooks; then
the batch's outputs (issue 13): names unique in the batch, the output folder checked and held, files skipped and
units found twice."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import scoring
from scoring.cli import main
from scoring.io import files as files_module
from scoring.io.files import LOCK_NAME, FolderLock, OutputError
from scoring.io.template import write_template
from scoring.jobs import batch as batch_module
from scoring.jobs.batch import collect, output_stems, safe_name, score_batch, unit_names

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


# ------------------------------------------------------------------------------- issue 13: names, folders

WEAK = json.loads((ROOT / "examples" / "demo-school" / "weak.json").read_text("utf-8"))


def _school(path: Path, name: str, code: str | None = "3201020007") -> Path:
    data = {**WEAK, "unit": {**WEAK["unit"], "name": name, "code": code}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def test_the_renamed_duplicate_no_longer_meets_the_real_file(tmp_path):
    files = [Path("a/x.json"), Path("b/x.json"), Path("x-2.json")]
    labels = [("a", "x.json"), ("b", "x.json"), ("x-2.json",)]
    assert output_stems(files, labels) == ["a_x", "b_x", "x-2"]
    for i, f in enumerate(files):
        _school(tmp_path / "in" / f, f"第{i}校", f"32{i}")
    result = score_batch(PLAN.framework, [tmp_path / "in"], tmp_path / "out", formats=("json",), workers=1)
    names = sorted(
        json.loads(p.read_text("utf-8"))["unit"]["name"] for p in (tmp_path / "out").glob("*.json")
    )
    assert names == ["第0校", "第1校", "第2校"] and [r.report for r in result.rows] == ["a_x", "b_x", "x-2"]


def test_a_split_schools_unit_names_are_claimed_too():
    files = [Path("s-小学.json"), Path("s.json")]
    stems = output_stems(files, [(f.name,) for f in files], ["小学", "初中"])
    assert stems[0] == "s-小学" and stems[1] not in ("s", "s-小学")
    assert unit_names("s", ["小学", "初中"]) == ["s-小学", "s-初中"]
    assert unit_names("s", ["小学", "小学"]) == ["s-小学", "s-小学-2"] and unit_names("s", ["初中"]) == ["s"]


def test_safe_name():
    assert safe_name("a/b\\c:d*e?\x1b\u202e") == "a_b_c_d_e___"
    assert safe_name("..") == "未命名" and safe_name(" .x. ") == "x" and safe_name("-rf") == "_rf"
    assert safe_name("con") == "_con" and safe_name("COM1.x") == "_COM1.x"
    long = safe_name("长" * 100)
    assert len(long.encode()) <= 150 and long == "长" * 50


NAME = st.text(alphabet="aAbB_-. 长\x07/", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(NAME, min_size=1, max_size=3), min_size=1, max_size=12), st.booleans())
def test_output_names_never_collide(paths, split):
    def part(text: str) -> str:
        return text.replace("/", "") or "x"

    labels = [(*(part(p) for p in parts[:-1]), part(parts[-1]) + ".json") for parts in paths]
    files = [Path(*label) for label in labels]
    types = ["小学", "初中", "小学"] if split else []
    stems = output_stems(files, labels, types)
    claimed = [n.casefold() for stem in stems for n in {stem, *(unit_names(stem, types) if types else [])}]
    assert len(claimed) == len(set(claimed))
    assert all(s and not s.startswith((".", "-")) and "/" not in s and "\x07" not in s for s in stems)


def test_collect_lists_what_it_does_not_read(tmp_path):
    _school(tmp_path / "in" / "a.json", "甲")
    for name in ("说明.pdf", "名单.CSV", "~$a.xlsx", "noext", ".DS_Store", ".git/config"):
        p = tmp_path / "in" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    os.mkfifo(tmp_path / "in" / "pipe.json")
    found = collect([tmp_path / "in"])
    assert [f.name for f in found.files] == ["a.json"]
    skipped = {Path(s.file).name: s.reason for s in found.skipped}
    assert set(skipped) == {"说明.pdf", "名单.CSV", "~$a.xlsx", "noext", "pipe.json"}  # hidden: silent
    assert skipped["说明.pdf"].startswith("不是可评分的文件类型（.pdf）")
    assert "临时文件" in skipped["~$a.xlsx"] and "不是普通文件" in skipped["pipe.json"]


def test_an_unusable_output_is_refused_before_any_scoring(tmp_path, monkeypatch):
    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("scored")

    monkeypatch.setattr(batch_module, "score", never)
    _school(tmp_path / "in" / "a.json", "甲")
    (tmp_path / "file").write_text("x", "utf-8")
    for target, code in (
        (tmp_path / "file", "output-not-folder"),
        (tmp_path / "file" / "sub", "output-not-creatable"),
        (Path("/proc/self/x"), "output-not-creatable"),
    ):
        with pytest.raises(OutputError) as err:
            score_batch(PLAN.framework, [tmp_path / "in"], target, workers=1)
        assert [p.code for p in err.value.problems] == [code] and str(target) in err.value.problems[
            0
        ].message_zh


def test_a_folder_is_held_by_one_run(tmp_path):
    with FolderLock.acquire(tmp_path) as lock:
        held = json.loads((tmp_path / LOCK_NAME).read_text("utf-8"))
        assert held["pid"] == os.getpid() and held["host"] == socket.gethostname()
        with pytest.raises(OutputError) as err:
            FolderLock.acquire(tmp_path)
        assert err.value.problems[0].code == "output-locked" and lock.taken_over is None
    assert not (tmp_path / LOCK_NAME).exists()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_runs_lock_is_taken_over(tmp_path):
    dead = {"pid": _dead_pid(), "host": socket.gethostname(), "started": "2026-01-01 00:00:00"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(dead), "utf-8")
    with FolderLock.acquire(tmp_path) as lock:
        assert lock.taken_over is not None and lock.taken_over.pid == dead["pid"]
        assert json.loads((tmp_path / LOCK_NAME).read_text("utf-8"))["pid"] == os.getpid()


def test_without_flock_the_pid_decides(tmp_path, monkeypatch):
    monkeypatch.setattr(files_module, "_flock", lambda fd, wait=False: None)
    alive = {"pid": os.getpid(), "host": socket.gethostname(), "started": "2026-01-01 00:00:00"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(alive), "utf-8")
    with pytest.raises(OutputError) as err:
        FolderLock.acquire(tmp_path)
    assert err.value.problems[0].code == "output-locked"
    (tmp_path / LOCK_NAME).write_text(json.dumps({**alive, "pid": _dead_pid()}), "utf-8")
    with FolderLock.acquire(tmp_path) as lock:
        assert lock.taken_over is not None


def test_a_lock_file_that_is_a_link_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", "utf-8")
    (tmp_path / LOCK_NAME).symlink_to(victim)
    with pytest.raises(OutputError):
        FolderLock.acquire(tmp_path)
    assert victim.read_text("utf-8") == "keep me"


def test_earlier_results_are_resumed_and_what_was_not_rewritten_is_said(tmp_path):
    _school(tmp_path / "in" / "a.json", "甲", "1")
    _school(tmp_path / "in" / "b.json", "乙", "2")
    out = tmp_path / "out"
    score_batch(PLAN.framework, [tmp_path / "in"], out, formats=("json",), workers=1)
    (tmp_path / "in" / "b.json").unlink()
    seen = []
    again = score_batch(
        PLAN.framework, [tmp_path / "in"], out, formats=("json",), workers=1, on_start=seen.append
    )
    assert again.earlier == ["a.result.json", "b.result.json"] and again.kept == ["b.result.json"]
    assert (again.reused, again.changed, [r.name for r in again.rows]) == (1, 0, ["甲"]) and seen == [again]
    forced = score_batch(PLAN.framework, [tmp_path / "in"], out, formats=("json",), workers=1, force=True)
    assert (forced.reused, forced.changed, forced.kept) == (0, 0, ["b.result.json"])


def test_one_unit_in_several_files_is_ranked_once_the_newest(tmp_path):
    old = _school(tmp_path / "in" / "a.json", "甲")
    new = _school(tmp_path / "in" / "b.json", "甲（重报）")  # the same code: the same unit
    _school(tmp_path / "in" / "c.json", "丙", None)
    os.utime(old, (1_000_000, 1_000_000))
    result = score_batch(PLAN.framework, [tmp_path / "in"], tmp_path / "out", workers=1)
    assert [(d.files, d.ranked) for d in result.duplicates] == [((str(old), str(new)), str(new))]
    a, b, c = result.rows
    assert (a.duplicate_of, b.duplicate_of, c.duplicate_of) == (str(new), None, None)
    assert a.same_unit == [str(new)] and b.same_unit == [str(old)] and not c.same_unit
    ws = load_workbook(tmp_path / "out" / "汇总.xlsx")["汇总"]
    header = [c.value for c in ws[2]]
    ranks = [row[header.index("排名")] for row in ws.iter_rows(min_row=3, values_only=True)]
    assert ranks == ["—", 1, 1]


def test_a_report_that_cannot_be_written_fails_its_file_only(tmp_path):
    _school(tmp_path / "in" / "a.json", "甲", "1")
    _school(tmp_path / "in" / "b.json", "乙", "2")
    (tmp_path / "out" / "a.result.json").mkdir(parents=True)  # in the way of a's result
    result = score_batch(PLAN.framework, [tmp_path / "in"], tmp_path / "out", workers=1, force=True)
    assert [r.name for r in result.rows] == ["乙"]
    [failure] = result.failures
    where = tmp_path / "out" / "a.result.json"
    assert failure.reasons == [f"{tmp_path / 'in' / 'a.json'}: 无法写入报告 {where}：这里是一个文件夹"]
    assert "cannot write" in failure.reasons_en[0]
