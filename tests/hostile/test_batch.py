"""Hostile inputs to a batch and its outputs (issue 13): colliding report names, two runs into one folder, an
output folder that cannot be written, files that are not submissions, one unit in many files, control characters
in what a submission says, and two different units compared as rounds. Each case runs the real command."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from scoring.io.files import LOCK_NAME, FolderLock
from scoring.problems import CONTROLS as CONTROL
from scoring.problems import printable

from ..conftest import ROOT
from .harness import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, TRACEBACK_MARKERS, Case

WEAK = json.loads((ROOT / "examples" / "demo-school" / "weak.json").read_text("utf-8"))


def school(
    name: str = "北山中学", code: str | None = "3201020007", kind: str = "初中", **values: object
) -> str:
    """A demo-school submission (JSON) of one unit."""
    data = copy.deepcopy(WEAK)
    data["unit"].update(name=name, code=code, type=kind)
    data["values"].update(values)
    return json.dumps(data, ensure_ascii=False)


def results(case: Case) -> dict[str, str]:
    """The unit name in each result the batch wrote, by file name."""
    return {p.name: json.loads(p.read_text("utf-8"))["unit"]["name"] for p in case.out.glob("*.result.json")}


def summary_rows(case: Case, sheet: str = "汇总", top: int = 2) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(case.out / "汇总.xlsx")[sheet]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=top)]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


# ------------------------------------------------------------------------------- 1. report names collide

COLLIDING = {
    "two folders and the renamed name": ["a/x.json", "b/x.json", "x-2.json"],
    "one name, two extensions": ["x.json", "x.yaml", "x.yml"],
    "names differing in case": ["X.json", "x.json", "sub/X.json"],
    "a path that reads like another name": ["a/b/x.json", "a_b/x.json", "a_b_x.json", "a/b_x.json"],
    "a folder's name taken by a file": ["a/x.json", "a_x.json", "a_x-2.json"],
    "control characters in names": ["x\x07.json", "x\x0b.json", "x_.json"],
    "names cut at the length limit": ["长" * 80 + "甲.json", "长" * 80 + "乙.json", "长" * 50 + ".json"],
    "reserved and dotted names": ["con.json", "CON.yaml", "x..json", "x.json", "-rf.json", "x ..json"],
}


@pytest.mark.parametrize("names", COLLIDING.values(), ids=COLLIDING.keys())
def test_every_unit_gets_a_report_set_of_its_own(case, names):
    for i, name in enumerate(names):
        case.file(f"收件箱/{name}", school(name=f"第{i + 1}校", code=f"32010{i:05d}"))
    ran = case.run("score", "demo-school", "收件箱", "-o", case.out, expect=EXIT_OK)
    assert f"评分 {len(names)} 份" in ran.err
    written = results(case)
    assert sorted(written.values()) == sorted(f"第{i + 1}校" for i in range(len(names)))  # none overwritten
    for suffix in (".report.md", ".report.xlsx"):
        assert len(list(case.out.glob(f"*{suffix}"))) == len(names)
    assert all(not n.startswith((".", "-")) and "\x07" not in n for n in written)
    reports = {row["报告名"] for row in summary_rows(case)}
    assert {f"{r}.result.json" for r in reports} == set(written)  # 汇总.xlsx names each unit's reports


# ---------------------------------------------------------------------- 2. two runs, one output folder


def test_a_folder_held_by_a_running_batch_is_refused(case):
    case.file("in/a.json", school())
    case.out.mkdir()
    with FolderLock.acquire(case.out):
        ran = case.run("score", "demo-school", "in", "-o", "out", expect=EXIT_USAGE)
    assert f"输出文件夹 out 正被另一次评分使用（进程 {os.getpid()}" in ran.err
    assert "✓" not in ran.out and not list(case.out.glob("*.json"))  # nothing scored


def test_the_refusal_in_english(case):
    case.file("in/a.json", school())
    case.out.mkdir()
    with FolderLock.acquire(case.out):
        ran = case.run("score", "demo-school", "in", "-o", "out", expect=EXIT_USAGE, lang="en")
    assert f"the output folder out is in use by another run (process {os.getpid()}" in ran.err


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_lock_left_by_a_run_that_died_is_taken_over_and_said(case):
    case.file("in/a.json", school())
    pid = _dead_pid()
    lock = {"pid": pid, "host": socket.gethostname(), "started": "2026-06-01 08:00:00"}
    case.file("out/" + LOCK_NAME, json.dumps(lock))
    ran = case.run("score", "demo-school", "in", "-o", "out", expect=EXIT_OK)
    assert f"输出文件夹 out 里有上次中断的评分留下的锁（进程 {pid}" in ran.err and "已接管" in ran.err
    assert not (case.out / LOCK_NAME).exists()  # removed at the end
    assert list(results(case).values()) == ["北山中学"]


def test_a_lock_from_another_computer_is_not_taken_and_the_message_says_how_to_remove_it(case):
    case.file("in/a.json", school())
    lock = {"pid": 1, "host": "督导室-另一台电脑", "started": "2026-06-01 08:00:00"}
    case.file("out/" + LOCK_NAME, json.dumps(lock, ensure_ascii=False))
    ran = case.run("score", "demo-school", "in", "-o", "out", expect=EXIT_USAGE)
    path = f"out/{LOCK_NAME}"
    assert "来自另一台电脑（督导室-另一台电脑）" in ran.err and f"删除 {path} 再运行" in ran.err
    assert (case.out / LOCK_NAME).exists() and not results(case)


def test_an_unreadable_old_lock_is_not_taken_either(case):
    case.file("in/a.json", school())
    junk = case.file("out/" + LOCK_NAME, b"\x00garbage")
    os.utime(junk, (time.time() - 3600, time.time() - 3600))
    ran = case.run("score", "demo-school", "in", "-o", "out", expect=EXIT_USAGE)
    assert "内容无法识别" in ran.err and f"删除 out/{LOCK_NAME}" in ran.err


def test_earlier_results_are_resumed_without_force_and_replaced_with_it(case):
    case.file("in/a.json", school(name="甲校"))
    case.file("in/b.json", school(name="乙校", code="3201029999"))
    case.run("score", "demo-school", "in", "-o", "out", expect=EXIT_OK)
    before = {p.name: p.read_bytes() for p in case.out.iterdir() if p.is_file() and p.name != "汇总.xlsx"}
    (case.root / "in" / "b.json").unlink()
    ran = case.run("score", "demo-school", "in", "-o", "out", expect=EXIT_OK)
    assert "已有结果 1 份（输入与框架均未变），跳过；--force 重新评分" in ran.err
    after = {p.name: p.read_bytes() for p in case.out.iterdir() if p.is_file() and p.name != "汇总.xlsx"}
    assert after == before  # not a byte of a unit's outputs touched; the summary is rebuilt
    assert "之前评分留下的 3 个文件本次没有重写" in ran.err and "b.result.json" in ran.err
    ran = case.run("score", "demo-school", "in", "-o", "out", "--force", expect=EXIT_OK)
    assert "输出文件夹 out 已有之前评分的结果（7 个文件）：--force，全部重新评分，覆盖同名文件" in ran.err
    assert "之前评分留下的 3 个文件本次没有重写" in ran.err and "b.result.json" in ran.err


def test_two_batches_started_together_into_one_folder(case):
    for i in range(8):
        case.file(f"in/s{i}.json", school(name=f"第{i}校", code=f"3201{i:06d}"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", "from scoring.cli import main; main()", "score", "demo-school", "in"]
    procs = [
        subprocess.Popen(
            [*argv, "-o", "out", "--workers", "1"], cwd=case.root, env=env, text=True, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    ends = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in procs]
    assert not any(m in err for _, err in ends for m in TRACEBACK_MARKERS)
    # at once: the second is refused; one after the other: the second finds every unit done and skips it
    codes = sorted(code for code, _ in ends)
    assert codes in ([EXIT_OK, EXIT_USAGE], [EXIT_OK, EXIT_OK])
    if codes == [EXIT_OK, EXIT_USAGE]:
        refused = next(err for code, err in ends if code == EXIT_USAGE)
        assert "输出文件夹 out" in refused and "正被另一次评分使用" in refused
    else:
        assert any("已有结果 8 份（输入与框架均未变），跳过" in err for _, err in ends)
    assert len(results(case)) == 8 and len(summary_rows(case)) == 8
    assert not (case.out / LOCK_NAME).exists()


# -------------------------------------------------------------------- 3. an output folder not writable


def _destinations(root: Path) -> dict[str, tuple[str, str]]:
    """-o given → what the message must say."""
    (root / "a-file.txt").write_text("not a folder", "utf-8")
    return {
        "a file": ("a-file.txt", "输出位置 a-file.txt 是一个文件，不是文件夹"),
        "under a file": ("a-file.txt/out", "无法创建输出文件夹 a-file.txt/out：路径中有一部分是文件"),
        "in /proc": ("/proc/self/x", "无法创建输出文件夹 /proc/self/x："),
        "under /dev/null": ("/dev/null/out", "无法创建输出文件夹 /dev/null/out："),
    }


@pytest.mark.parametrize("where", ["a file", "under a file", "in /proc", "under /dev/null"])
def test_an_output_that_cannot_be_a_folder_is_refused_before_any_scoring(case, where):
    case.file("in/a.json", school())
    target, said = _destinations(case.root)[where]
    ran = case.run("score", "demo-school", "in", "-o", target, expect=EXIT_USAGE)
    assert said in ran.err
    assert "✓" not in ran.out and "共 " not in ran.err  # not one file scored


def test_an_immutable_folder_is_refused_before_any_scoring(case):
    case.file("in/a.json", school())
    locked = case.root / "locked"
    locked.mkdir()
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        ran = case.run("score", "demo-school", "in", "-o", "locked", expect=EXIT_USAGE)
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert "无法写入输出文件夹 locked：" in ran.err and "✓" not in ran.out


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_folder_is_refused_before_any_scoring(case):
    case.file("in/a.json", school())
    ro = case.root / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        ran = case.run("score", "demo-school", "in", "-o", "ro", expect=EXIT_USAGE)
    finally:
        ro.chmod(0o755)
    assert "无法写入输出文件夹 ro：没有写入权限" in ran.err


def test_the_reason_in_english(case):
    case.file("in/a.json", school())
    case.file("a-file.txt", "x")
    ran = case.run("score", "demo-school", "in", "-o", "a-file.txt/out", expect=EXIT_USAGE, lang="en")
    assert "cannot create the output folder a-file.txt/out: Not a directory" in ran.err


# ------------------------------------------------------------------------- 4. files that are not read

NOT_SUBMISSIONS = ["说明.pdf", "名单.csv", "通知.docx", "readme.txt", "无扩展名", "~$甲校.xlsx"]


@pytest.mark.parametrize("name", NOT_SUBMISSIONS)
def test_a_file_that_is_not_a_submission_is_listed_as_skipped(case, name):
    case.file("收件箱/甲校.json", school())
    case.file(f"收件箱/{name}", b"%PDF-1.4 whatever")
    ran = case.run("score", "demo-school", "收件箱", "-o", case.out, expect=EXIT_OK)
    assert f"○ 跳过 收件箱/{name}：" in ran.err and "跳过 1 个文件" in ran.err
    if not name.startswith("~$"):
        assert "不是可评分的文件类型" in ran.err
    listed = summary_rows(case, "无法读取", top=1)
    assert [(row["文件"], str(row["原因"]).startswith("已跳过：")) for row in listed] == [
        (f"收件箱/{name}", True)
    ]


def test_a_folder_of_nothing_readable_is_a_usage_error_that_lists_what_it_saw(case):
    case.file("收件箱/说明.pdf", b"%PDF")
    case.file("收件箱/名单.csv", "a,b\n")
    ran = case.run("score", "demo-school", "收件箱", expect=EXIT_USAGE, lang="en")
    assert "○ skipped 收件箱/说明.pdf: not a submission file type (.pdf)" in ran.err
    assert "收件箱/名单.csv" in ran.err and "no submission files found" in ran.err


@pytest.mark.parametrize("target", ["t.pdf", "t.csv", "自评表", "t.xlsx.bak", "folder"])
def test_a_template_not_named_xlsx_is_refused(case, target):
    (case.root / "folder").mkdir()
    ran = case.run("template", "demo-school", "-o", target, expect=EXIT_USAGE)
    assert target in ran.err and (".xlsx" in ran.err)
    assert not (case.root / target).is_file()


# -------------------------------------------------------------------- 5. one unit in many files


def test_sixty_copies_of_one_school_are_ranked_once(case):
    for i in range(60):
        case.file(f"in/copy-{i:02d}.json", school())
    newest = case.root / "in" / "copy-17.json"
    os.utime(newest, (time.time() + 60, time.time() + 60))
    ran = case.run("score", "demo-school", "in", "-o", "out", "--format", "json,xlsx", expect=EXIT_OK)
    assert "⚠ 重复的单位：北山中学（3201020007）见于 60 个文件" in ran.err
    assert "只有最近修改的 in/copy-17.json 计入排名和统计" in ran.err and "重复 59 份" in ran.err
    rows = summary_rows(case)
    ranked = [row for row in rows if row["排名"] != "—"]
    assert [(row["文件"], row["排名"]) for row in ranked] == [("in/copy-17.json", 1)]
    assert all("以 in/copy-17.json 为准" in str(row["重复"]) for row in rows if row is not ranked[0])
    grades = openpyxl.load_workbook(case.out / "汇总.xlsx")["等级分布"]
    assert [c.value for c in grades[grades.max_row]][:2] == ["合计", 1]


SAME_UNIT = {
    "no code, same name and type": (
        [school(name="甲校", code=None), school(name=" 甲校 ", code=None)],
        True,
    ),
    "full-width code": ([school(code="3201020007"), school(code="３２０１０２０００７")], True),
    "same name, other type": (
        [school(name="甲校", code=None), school(name="甲校", code=None, kind="小学")],
        False,
    ),
    "other code, same name": ([school(code="3201020007"), school(code="3201020008")], False),
}


@pytest.mark.parametrize(("subs", "same"), SAME_UNIT.values(), ids=SAME_UNIT.keys())
def test_what_counts_as_the_same_unit(case, subs, same):
    for i, sub in enumerate(subs):
        case.file(f"in/{i}.json", sub)
    ran = case.run("score", "demo-school", "in", "-o", "out", "--format", "json,xlsx", expect=EXIT_OK)
    assert ("重复的单位" in ran.err) is same
    assert sum(1 for row in summary_rows(case) if row["排名"] != "—") == (1 if same else 2)


# ------------------------------------------------------------------------ 6. control characters

CONTROLS = {
    "BEL": "\x07",
    "BS": "\x08",
    "ESC": "\x1b[2K",
    "CR": "\r",
    "LF": "\n",
    "NUL": "\x00",
    "DEL": "\x7f",
    "C1 NEL": "\x85",
    "C1 CSI": "\x9b31m",
    "RLO": "\u202e",
    "LRI": "\u2066",
    "LINE SEPARATOR": "\u2028",
}


def _raw(text: str) -> list[str]:
    """The control characters in ``text`` but the line breaks between lines."""
    return [m.group() for m in CONTROL.finditer(text.replace("\n", ""))]


@pytest.mark.parametrize("char", CONTROLS.values(), ids=CONTROLS.keys())
def test_a_control_character_in_a_unit_name_never_reaches_the_terminal_or_markdown(case, char):
    forged = f"假学校{char}✓ in/x.json：滨江实验小学：100.00 分，优秀"
    case.file("in/a.json", school(name=forged))
    ran = case.run("score", "demo-school", "in", "-o", "out", "--format", "md,json", expect=EXIT_OK)
    assert not _raw(ran.out) and not _raw(ran.err)
    assert printable(char) in ran.out  # shown as an escape (a CR would have come through as a line break)
    assert len([line for line in ran.out.split("\n") if line.startswith("✓")]) == 1  # no line of its own
    md = next(case.out.glob("*.report.md")).read_bytes().decode("utf-8")  # as written: CR kept
    assert not _raw(md) and printable(char.replace("\n", "")) in md
    assert "假学校" in ran.out and "✓ in/x.json" in ran.out  # shown, escaped, on the unit's own line


@pytest.mark.parametrize("char", ["\x1b]0;owned\x07", "\r", "\u202e"], ids=["OSC", "CR", "RLO"])
def test_a_control_character_in_a_file_name_and_a_reason(case, char):
    case.file(f"in/坏{char}表.json", school(students=f"很多{char}"))
    ran = case.run("score", "demo-school", "in", "-o", "out", expect=EXIT_FINDINGS)
    assert not _raw(ran.out) and not _raw(ran.err)
    assert f"✗ {printable(f'in/坏{char}表.json')}" in ran.err and printable(f"很多{char}") in ran.err


# ---------------------------------------------------------------- 7. two different units as rounds


@pytest.fixture
def rounds(case):
    import scoring

    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    for name, sub in {
        "甲1": school(name="甲校", code="3201000001"),
        "甲2": school(name="甲校", code="3201000001", students=900),
        "乙": school(name="乙校", code="3201000002"),
        "无码": school(name="丙校", code=None),
    }.items():
        submission = scoring.submission_from_data(json.loads(sub))
        case.file(f"{name}.result.json", scoring.score(plan, submission).to_json())
    return case


def test_diff_of_two_different_units_is_refused_naming_both(rounds):
    ran = rounds.run("diff", "甲1.result.json", "乙.result.json", expect=EXIT_USAGE)
    assert "两份结果不是同一单位：甲1.result.json 是 甲校（代码 3201000001，初中）" in ran.err
    assert "乙.result.json 是 乙校（代码 3201000002，初中）" in ran.err and "--force" in ran.err
    assert "已销号" not in ran.out


def test_diff_with_force_compares_after_the_warning(rounds):
    ran = rounds.run("diff", "甲1.result.json", "无码.result.json", "--force", expect=EXIT_OK)
    assert "警告：两份结果不是同一单位" in ran.err and "丙校" in ran.err and "已销号" in ran.out
    ran = rounds.run("diff", "甲1.result.json", "乙.result.json", expect=EXIT_USAGE, lang="en")
    assert "the two results are of different units: 甲1.result.json is 甲校" in ran.err


def test_diff_of_one_units_rounds_says_nothing_more(rounds):
    ran = rounds.run("diff", "甲1.result.json", "甲2.result.json", "-o", "out/台账.xlsx", expect=EXIT_OK)
    assert "不是同一单位" not in ran.err and (rounds.out / "台账.xlsx").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("甲1.result.json", "没有.json"), "找不到：没有.json"),
        (("甲1.result.json", "."), ". 是文件夹"),
        (("甲1.result.json", "甲2.result.json", "-o", "台账.pdf"), "文件名应以 .xlsx 结尾：台账.pdf"),
    ],
    ids=["missing", "a folder", "a ledger not .xlsx"],
)
def test_diff_usage_errors_are_said_in_chinese(rounds, args, said):
    ran = rounds.run("diff", *args, expect=EXIT_USAGE)
    assert said in ran.err
