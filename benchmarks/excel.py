#!/usr/bin/env python3
"""Benchmark of the Excel path: filled 自评表 workbooks → score_batch → JSON / Excel / Markdown reports.

Run from the repository root (see benchmarks/README.md)::

    python benchmarks/excel.py [--files 500] [--inputs 250] [--seed 1] [--repeats 2] [--json] [--check]

What it does, in one run:

1. generates (seeded) a framework YAML with ``--inputs`` inputs (integer, number, percent, boolean, choice) and
   leaf indicators over them (threshold, bands, proportional, checklist per item and k-of-n, levels, deduction,
   a veto and a bonus); loads it with ``scoring.load_text`` (it must have no problem at all) and compiles it;
2. writes one template with ``scoring.io.template.write_template`` and ``--files`` filled workbooks with
   ``scoring.io.fill.fill_template`` from seeded random submissions, some values typed as text ("95%", "1,234",
   "是", "√", full-width digits, padded choices). Generation is not timed;
3. measures
   a. the reading floor: python-calamine alone (``CalamineWorkbook.from_path`` +
      ``get_sheet_by_name("自评表").to_python()`` → {id: value}) on 1 process and on 2 (multiprocessing Pool,
      chunked), best of ``--repeats + 1``;
   b. the full pipeline ``score_batch(fw, [folder], outdir, formats=("json", "xlsx", "md"))`` with workers=1 and
      workers=2, and the same with ``formats=("json",)``; each run in a fresh subprocess (timed around
      score_batch only), best of ``--repeats``;
   c. a per-stage breakdown on 1 process over ``--stage-files`` files (read_workbook, score, to_json, markdown,
      write_unit_report, and their parts), and the batch summary workbook (汇总.xlsx) for all files;
   d. peak memory (``getrusage`` in the subprocess: its own peak and its largest worker's) of score_batch over
      100 files and over all files;
4. prints a table with PASS/FAIL per target, the Python version and the CPU count; ``--json`` adds the figures.

The script only uses the package (``scoring.*``); it changes nothing in it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import multiprocessing as mp
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import scoring
from scoring.engine.rows import UnitRow
from scoring.framework.check import check as check_framework
from scoring.io.files import atomic_write, make_durable, unsynced
from scoring.io.fill import fill_template
from scoring.io.layout import COL_ID, COL_SELF, META, SHEET
from scoring.io.safety import check_file
from scoring.io.template import write_template
from scoring.io.workbook import read_workbook
from scoring.io.xlsx import text_width
from scoring.jobs.batch import score_batch
from scoring.jobs.resume import Key, Record, write_record
from scoring.report.markdown import markdown
from scoring.report.summary_xlsx import write_batch_summary
from scoring.report.unit_view import unit_view
from scoring.report.unit_xlsx import view_book, write_unit_report

UNIT_TYPES = ("小学", "初中")
TYPE_WEIGHTS = {"integer": 28, "number": 18, "percent": 20, "boolean": 26, "choice": 8}
CHOICE_SETS = (
    ("完全落实", "基本落实", "部分落实", "未落实"),
    ("优秀", "良好", "合格", "不合格"),
    ("有专人负责", "兼职负责", "无人负责"),
)
TOPICS = (
    "办学条件",
    "教师队伍",
    "课程教学",
    "学生发展",
    "安全管理",
    "家校协同",
    "经费保障",
    "信息化",
    "体育卫生",
    "艺术劳动",
)
THINGS = (
    "骨干教师",
    "实验室",
    "图书",
    "功能教室",
    "心理教师",
    "校医",
    "体育器材",
    "多媒体教室",
    "计算机",
    "音乐器材",
    "美术器材",
    "运动场地",
)
LEAF_POINTS = (1, 2, 2, 3, 3, 4, 5)

TARGETS = {
    "speedup": 1.6,  # full(2) / full(1) throughput
    "full_over_floor": 5.0,  # full (json+xlsx+md) time / floor time, same number of processes
    "json_over_floor": 2.0,  # JSON-only time / floor time, same number of processes
    "mem_growth_pct": 10.0,  # peak RSS, all files vs --mem-files files ("no growth", with 10 % tolerance)
}


def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- framework


class Spec:
    """A generated framework: inputs of five types and leaves that use every one of them."""

    def __init__(self, n_inputs: int, seed: int):
        if n_inputs < 40:
            raise SystemExit("--inputs must be at least 40")
        rng = self.rng = random.Random(seed)
        self.inputs: dict[str, dict[str, Any]] = {}
        self.gen: dict[str, tuple] = {}
        self.derived: dict[str, str] = {}  # name -> label (expr: <count> / students * 100)
        self.leaves: list[dict[str, Any]] = []
        self._input("students", ("students",), label="在校生数", type="integer", min=1, unit="人")
        self._input("major_accident", ("event", 0.01), label="发生重大安全责任事故", type="boolean")
        self._input("awards", ("awards",), label="获市级及以上表彰项数", type="integer", min=0)
        rest = n_inputs - len(self.inputs)
        kinds = list(TYPE_WEIGHTS)
        counts = {k: rest * w // sum(TYPE_WEIGHTS.values()) for k, w in TYPE_WEIGHTS.items()}
        for k in kinds[: rest - sum(counts.values())]:
            counts[k] += 1
        pools = {k: [self._new(k) for _ in range(counts[k])] for k in kinds}
        self._leaves(pools)
        self.total = sum(leaf["points"] for leaf in self.leaves)
        assert len(self.inputs) == n_inputs, (len(self.inputs), n_inputs)
        self.type_counts = {k: sum(1 for f in self.inputs.values() if f["type"] == k) for k in TYPE_WEIGHTS}
        rng.shuffle(self.leaves)

    def _input(self, name: str, gen: tuple, **fields: Any) -> str:
        self.inputs[name] = fields
        self.gen[name] = gen
        return name

    def _new(self, kind: str) -> str:
        """A bare input name of this type; its fields are set when a leaf claims it."""
        n = len(self.inputs) + 1
        name = f"{kind[:3]}{n:04d}"
        self.inputs[name] = {"type": kind}
        return name

    def _set(self, name: str, gen: tuple, **fields: Any) -> str:
        self.inputs[name].update(fields)
        self.gen[name] = gen
        return name

    def _leaves(self, pools: dict[str, list[str]]) -> None:
        rng = self.rng
        ints, nums, pcts, bools, chs = (
            pools[k] for k in ("integer", "number", "percent", "boolean", "choice")
        )
        rng.shuffle(ints)
        n_ded = len(ints) // 3  # a third of the integers are counts for deductions (two per leaf)
        n_ded -= n_ded % 2
        dedu, per100 = ints[:n_ded], ints[n_ded:]
        for a in per100:  # integer counts → per-100-pupils derived value → threshold or bands
            what = rng.choice(THINGS)
            mid = round(rng.uniform(3, 12), 1)
            self._set(a, ("per100", mid), label=f"{what}数", type="integer", min=0, unit="人")
            d = f"d_{a}"
            self.derived[d] = f"每百名学生拥有{what}数"
            if rng.random() < 0.7:
                lo = round(mid * rng.uniform(0.85, 1.0), 1)
                hi = round(lo * rng.uniform(1.05, 1.2), 1)
                self._leaf(
                    f"每百名学生拥有{what}数",
                    f"threshold: {{value: {d}, at_least: {{小学: {lo}, 初中: {hi}}}}}",
                )
            else:
                self._bands(f"{what}配备水平", d, mid * 1.1, mid * 0.9, mid * 0.7)
        for i in range(0, len(dedu), 2):
            what = rng.choice(THINGS)
            items = []
            for j, c in enumerate(dedu[i : i + 2]):
                self._set(
                    c, ("count", 4, 0.6), label=f"{what}问题{j + 1}起数", type="integer", min=0, unit="起"
                )
                items.append(
                    f"{{label: {q(f'{what}问题{j + 1}')}, count: {c}, each: {rng.choice((0.5, 1, 2))}}}"
                )
            self._leaf(f"{what}规范管理", f"deduction: {{floor: 0, items: [{', '.join(items)}]}}")
        for v in nums:
            what = rng.choice(THINGS)
            t = rng.randint(15, 40)
            self._set(v, ("num", t * 0.5, t * 1.3), label=f"生均{what}", type="number", min=0)
            if rng.random() < 0.5:
                self._leaf(
                    f"生均{what}", f"proportional: {{value: {v}, target: {{小学: {t}, 初中: {t + 5}}}}}"
                )
            else:
                self._leaf(f"生均{what}达标", f"threshold: {{value: {v}, at_least: {t}}}")
        for v in pcts:
            what = rng.choice(THINGS)
            self._set(
                v, ("num", 40.0, 100.0), label=f"{what}达标率", type="percent", min=0, max=100, unit="%"
            )
            if rng.random() < 0.6:
                a1 = rng.randint(88, 96)
                self._bands(f"{what}达标率", v, a1, a1 - rng.randint(6, 12), a1 - rng.randint(20, 30))
            else:
                self._leaf(f"{what}达标率", f"threshold: {{value: {v}, at_least: {rng.randint(80, 95)}}}")
        while bools:
            n = min(len(bools), rng.randint(3, 5))
            if len(bools) - n in (1, 2):
                n = len(bools)
            items, bools = bools[:n], bools[n:]
            what = rng.choice(THINGS)
            for j, b in enumerate(items):
                self._set(b, ("bool", rng.uniform(0.6, 0.95)), label=f"{what}制度第{j + 1}项", type="boolean")
            if rng.random() < 0.6:
                points = [1] * n
                body = ", ".join(
                    f"{{label: {q(self.inputs[b]['label'])}, when: {b}, points: {p}}}"
                    for b, p in zip(items, points, strict=True)
                )
                self._leaf(f"{what}制度建设", f"checklist: {{items: [{body}]}}", points=n)
            else:
                body = ", ".join(f"{{label: {q(self.inputs[b]['label'])}, when: {b}}}" for b in items)
                k = rng.randint(1, n)
                self._leaf(f"{what}落实情况", f"checklist: {{at_least: {k}, items: [{body}]}}")
        for c in chs:
            what = rng.choice(THINGS)
            choices = rng.choice(CHOICE_SETS)
            self._set(c, ("choice", choices), label=f"{what}工作情况", type="choice", choices=list(choices))
            p = rng.choice(LEAF_POINTS)
            pts = [p, *(round(p * f, 2) for f in (0.8, 0.5, 0.0)[: len(choices) - 2]), 0]
            table = ", ".join(f"{k}: {v}" for k, v in zip(choices, pts, strict=True))
            self._leaf(
                f"{what}工作", f"levels: {{value: {c}, points: {{{table}}}, met: [{choices[0]}]}}", points=p
            )

    def _bands(self, name: str, value: str, a1: float, a2: float, a3: float) -> None:
        p = self.rng.choice(LEAF_POINTS)
        steps = [(round(a1, 1), p), (round(a2, 1), round(p * 0.8, 2)), (round(a3, 1), round(p * 0.5, 2))]
        body = ", ".join(f"{{at_least: {a}, points: {pt}}}" for a, pt in steps) + ", {points: 0}"
        self._leaf(name, f"bands: {{value: {value}, steps: [{body}]}}", points=p)

    def _leaf(self, name: str, rule: str, points: int | None = None) -> None:
        p = points if points is not None else self.rng.choice(LEAF_POINTS)
        self.leaves.append({"name": name, "rule": rule, "points": p})

    def yaml(self) -> str:
        out = [
            "# generated by benchmarks/excel.py (seeded); not an official framework",
            "id: bench-excel",
            f"name: {q('Excel 基准测试生成的学校督导评估方案')}",
            'version: "1.0"',
            "level: school",
            "provenance: sample",
            "applies_to: [小学, 初中]",
            f"scoring: {{method: points, total: {self.total}, precision: 2}}",
            "inputs:",
        ]
        for name, f in self.inputs.items():
            parts = [f"label: {q(f['label'])}", f"type: {f['type']}"]
            if "unit" in f:
                parts.append(f"unit: {q(f['unit'])}")
            if "choices" in f:
                parts.append(f"choices: [{', '.join(f['choices'])}]")
            for key in ("min", "max"):
                if key in f:
                    parts.append(f"{key}: {f[key]}")
            out.append(f"  {name}: {{{', '.join(parts)}}}")
        out.append("derived:")
        for d, label in self.derived.items():
            out.append(
                f"  {d}: {{label: {q(label)}, expr: {q(d[2:] + ' / students * 100')}, precision: 2, unit: 人}}"
            )
        out.append("indicators:")
        n_top = len(TOPICS)
        per = math.ceil(len(self.leaves) / n_top)
        for t in range(n_top):
            chunk = self.leaves[t * per : (t + 1) * per]
            if not chunk:
                continue
            out += [
                f"  - code: {q(f'A{t + 1:02d}')}",
                f"    name: {q(TOPICS[t])}",
                f"    points: {sum(leaf['points'] for leaf in chunk)}",
                "    children:",
            ]
            for i, leaf in enumerate(chunk, 1):
                out += [
                    f"      - code: {q(f'A{t + 1:02d}.{i:02d}')}",
                    f"        name: {q(leaf['name'])}",
                    f"        points: {leaf['points']}",
                    f"        rule: {{{leaf['rule']}}}",
                ]
        t = self.total
        out += [
            "vetoes:",
            f"  - {{code: V1, when: major_accident, effect: fail, reason: {q('发生重大安全责任事故')}}}",
            "bonus:",
            "  cap: 5",
            "  items:",
            f"    - {{code: B1, name: {q('市级及以上表彰')}, points: {q('min(awards * 2, 4)')}}}",
            "grades:",
            f"  - {{name: 优秀, at_least: {round(t * 0.9)}}}",
            f"  - {{name: 良好, at_least: {round(t * 0.8)}}}",
            f"  - {{name: 合格, at_least: {round(t * 0.65)}}}",
            "  - {name: 不合格}",
        ]
        return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------- submissions

FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def make_submissions(spec: Spec, n: int, seed: int) -> tuple[list[scoring.Submission], dict[str, int]]:
    rng = random.Random(seed * 7919 + 11)
    subs = []
    typed_text = typed = 0
    for i in range(n):
        quality = min(1.0, max(0.0, rng.gauss(0.75, 0.2)))
        students = rng.randint(150, 3000)
        values: dict[str, Any] = {}
        for name, gen in spec.gen.items():
            kind = gen[0]
            text = rng.random() < 0.08  # typed as text by a person
            if kind == "students":
                v: Any = students
            elif kind == "per100":
                v = max(0, round(students * gen[1] / 100 * (rng.uniform(0.6, 1.1) + 0.6 * quality)))
            elif kind == "num":
                lo, hi = gen[1], gen[2]
                v = round(rng.uniform(lo + (hi - lo) * 0.6 * quality, hi), 1)
                if v <= 1:
                    v = 1.5  # keep 0 < v ≤ 1 out of percents: those trigger openpyxl format look-ups
            elif kind == "count":
                v = 0 if rng.random() < gen[2] + (1 - gen[2]) * 0.9 * quality else rng.randint(1, gen[1])
            elif kind == "bool":
                v = rng.random() < gen[1] + (1 - gen[1]) * 0.9 * quality
            elif kind == "event":
                v = rng.random() < gen[1]
            elif kind == "awards":
                v = rng.choice((0, 0, 0, 1, 2, 3))
            elif kind == "choice":
                v = rng.choices(gen[1], weights=(6, 3, 1, 1)[: len(gen[1])])[0]
            else:  # pragma: no cover
                raise AssertionError(kind)
            typed += 1
            if text:
                typed_text += 1
                v = as_text(spec.inputs[name]["type"], v, rng)
            values[name] = v
        subs.append(
            scoring.Submission(
                framework="bench-excel",
                unit={
                    "name": f"测试学校{i + 1:04d}",
                    "code": f"{3100000000 + i}",
                    "type": UNIT_TYPES[rng.random() < 0.5],
                    "region": "某某区",
                    "date": dt.date(2026, 6, 15),
                },
                values=values,
            )
        )
    return subs, {"values": typed, "typed_as_text": typed_text}


def as_text(kind: str, v: Any, rng: random.Random) -> str:
    """How a person types this value into a cell as text."""
    if kind == "percent":
        return f"{v}%"
    if kind == "boolean":
        return rng.choice((("是", "否"), ("√", "×"), ("有", "无"), ("是 ", " 否")))[0 if v else 1]
    if kind == "choice":
        return f" {v} "
    if kind == "integer":
        if v >= 1000:
            return f"{v:,}"
        return str(v).translate(FULLWIDTH) if rng.random() < 0.5 else f" {v} "
    return str(v) if rng.random() < 0.5 else str(v).translate(FULLWIDTH)


def _fill_one(args: tuple[str, scoring.Submission, str]) -> str:
    template, sub, out = args
    return str(fill_template(template, sub, out))


# ------------------------------------------------------------------------------------------- the floor


def floor_file(path: str) -> int:
    """python-calamine alone: open, the 自评表 sheet to Python, {id: value}."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    try:
        rows = wb.get_sheet_by_name(SHEET).to_python()
    finally:
        wb.close()
    values = {
        r[COL_ID - 1]: r[COL_SELF - 1] for r in rows if len(r) >= COL_SELF and r[COL_ID - 1] not in (None, "")
    }
    return len(values)


def floor_run(files: list[str], procs: int) -> float:
    t0 = time.perf_counter()
    if procs <= 1:
        n = sum(floor_file(f) for f in files)
    else:
        chunk = max(1, len(files) // (procs * 8))
        with mp.Pool(procs) as pool:
            n = sum(pool.imap_unordered(floor_file, files, chunksize=chunk))
    dt_ = time.perf_counter() - t0
    assert n > 0
    return dt_


# ------------------------------------------------------------------------------------------- pipeline child


def cpu_seconds() -> float:
    """CPU time of this process and of its waited-for children (pool workers), user + system."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def machine_busy() -> float | None:
    """CPU seconds the whole machine has been busy since boot (/proc/stat), to see others' load during a run."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return None
    busy = sum(f) - f[3] - (f[4] if len(f) > 4 else 0)  # everything but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def child(args: dict[str, Any]) -> None:
    """Run in a fresh process: load the framework, time score_batch, report time, CPU and peak memory."""
    fw = scoring.load_text(Path(args["yaml"]).read_text(encoding="utf-8"), args["yaml"])
    paths = args["paths"]
    busy0, cpu0 = machine_busy(), cpu_seconds()
    t0 = time.perf_counter()
    batch = score_batch(fw, paths, args["outdir"], formats=tuple(args["formats"]), workers=args["workers"])
    seconds = time.perf_counter() - t0
    cpu, busy1 = cpu_seconds() - cpu0, machine_busy()
    out = {
        "seconds": seconds,
        "cpu_s": cpu,
        # CPU used by other processes on the machine during the run, in cores (0 = the machine was ours)
        "others_cores": None if busy0 is None or busy1 is None else max(0.0, (busy1 - busy0 - cpu) / seconds),
        "rows": len(batch.rows),
        "failures": len(batch.failures),
        "first_failure": batch.failures[0].reasons[:3] if batch.failures else None,
        "maxrss_self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "maxrss_children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }
    print(json.dumps(out))


def run_child(
    yaml_path: Path, paths: list[str], outroot: Path, formats: tuple[str, ...], workers: int, n: int
) -> dict:
    outdir = Path(tempfile.mkdtemp(prefix="out-", dir=outroot))
    spec = {
        "yaml": str(yaml_path),
        "paths": paths,
        "outdir": str(outdir),
        "formats": list(formats),
        "workers": workers,
    }
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--_child", json.dumps(spec, ensure_ascii=False)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    if res["rows"] != n or res["failures"]:
        raise SystemExit(
            f"pipeline scored {res['rows']} of {n} files; failures: {res['failures']} {res['first_failure']}"
        )
    res["outputs"] = sum(1 for _ in outdir.iterdir())
    shutil.rmtree(outdir, ignore_errors=True)
    return res


# ------------------------------------------------------------------------------------------- machine ceiling


def burn(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i
    return s


def ceiling(n: int = 6_000_000, reps: int = 2) -> float:
    """What 2 processes give over 1 on this machine, now, for pure-Python CPU work (same total work)."""
    one = two = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        burn(n)
        burn(n)
        one = min(one, time.perf_counter() - t)
        t = time.perf_counter()
        with mp.Pool(2) as pool:
            pool.map(burn, [n, n])
        two = min(two, time.perf_counter() - t)
    return one / two


# ------------------------------------------------------------------------------------------- stages


def stages(plan: scoring.Plan, files: list[Path], outdir: Path) -> dict[str, float]:
    """ms/file per stage on 1 process. Two passes: the cheap stages keep the better pass; the Excel report is
    timed whole (write_unit_report) on the first pass and by parts on the second (each costs ~0.15 s/file)."""
    from python_calamine import CalamineWorkbook

    best: dict[str, float] = {}
    pc = time.perf_counter
    for pass_no in range(2):
        acc: dict[str, float] = {}

        def add(key: str, seconds: float, acc: dict[str, float] = acc) -> None:
            acc[key] = acc.get(key, 0.0) + seconds

        for i, f in enumerate(files):
            stem = f"s{i:04d}-{pass_no}"
            t = pc()
            floor_file(str(f))
            add("floor (calamine: open + 自评表 → {id: value})", pc() - t)
            t = pc()
            check_file(f)
            add("read.check_file (zip bomb guard)", pc() - t)
            t = pc()
            wb = CalamineWorkbook.from_path(str(f))
            wb.get_sheet_by_name(META).to_python(skip_empty_area=False)
            wb.get_sheet_by_name(SHEET).to_python(skip_empty_area=False)
            wb.close()
            add("read.calamine (open + _meta + 自评表)", pc() - t)
            t = pc()
            sub = read_workbook(f, plan)
            add("read_workbook", pc() - t)
            t = pc()
            result = scoring.score(plan, sub)
            add("score", pc() - t)
            t = pc()
            row = UnitRow.of(str(f), result)
            add("UnitRow.of", pc() - t)
            t = pc()
            js = result.to_json()
            add("to_json", pc() - t)
            t = pc()
            with unsynced():  # as score_batch writes (jobs.resume: the record holds sizes and hashes)
                atomic_write(outdir / f"{stem}.result.json", js)
            add("write .result.json (atomic)", pc() - t)
            t = pc()
            md = markdown(result)
            add("markdown", pc() - t)
            t = pc()
            with unsynced():
                atomic_write(outdir / f"{stem}.report.md", md)
            add("write .report.md (atomic)", pc() - t)
            if pass_no == 0:
                t = pc()
                with unsynced():
                    write_unit_report(result, outdir / f"{stem}.report.xlsx")
                add("write_unit_report", pc() - t)
                t = pc()
                rec = Record(stem, str(f), Key("", plan.hash, ""), ("json", "xlsx", "md"), [], [row])
                rec.outputs = [f"{stem}.result.json", f"{stem}.report.md", f"{stem}.report.xlsx"]
                with unsynced():
                    rec.seal(outdir)
                    write_record(outdir, rec)
                add("resume record (sizes + SHA-256 of the outputs)", pc() - t)
                continue
            t = pc()
            view = unit_view(result)
            add("xlsx.unit_view (the report's words and numbers)", pc() - t)
            t = pc()
            book = view_book(view)
            add("xlsx.view_book (cells, styles, widths, pages)", pc() - t)
            t = pc()
            data = book.data()
            add("xlsx.close (XlsxWriter: XML + zip)", pc() - t)
            t = pc()
            with unsynced():
                atomic_write(outdir / f"{stem}.report.xlsx", data)
            add("xlsx.atomic_write", pc() - t)
            t = pc()
            with open(outdir / f"{stem}.plain.xlsx", "wb") as fh:
                fh.write(data)
            add("xlsx.plain write, for comparison", pc() - t)
        t = pc()
        make_durable()
        add("make_durable (os.sync) once per batch, ÷ files", pc() - t)
        for k, v in acc.items():
            best[k] = min(best.get(k, math.inf), 1000 * v / len(files))
    return best


def profile(plan: scoring.Plan, files: list[Path], outroot: Path) -> None:
    """cProfile of what score_file does per file (read, score, JSON, Markdown, Excel report), to stderr."""
    import cProfile
    import pstats

    from scoring.jobs.batch import Outputs, score_file

    outdir = Path(tempfile.mkdtemp(prefix="profile-", dir=outroot))
    prof = cProfile.Profile()
    prof.enable()
    for i, f in enumerate(files):
        score_file(plan, f, outdir, f"p{i:04d}", Outputs.of(("json", "xlsx", "md")))
    prof.disable()
    shutil.rmtree(outdir, ignore_errors=True)
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    log(out.getvalue())


# ------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=500, help="filled workbooks (default 500)")
    ap.add_argument("--inputs", type=int, default=250, help="inputs in the framework (default 250)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--repeats", type=int, default=2, help="runs of the JSON-only configurations, best taken (default 2)"
    )
    ap.add_argument(
        "--full-repeats",
        type=int,
        default=1,
        help="runs of the json+xlsx+md configurations, best taken (default 1: ~80 s each on 2 cores)",
    )
    ap.add_argument(
        "--stage-files", type=int, default=50, help="files in the per-stage breakdown (default 50)"
    )
    ap.add_argument(
        "--mem-files", type=int, default=100, help="the small batch of the memory check (default 100)"
    )
    ap.add_argument(
        "--mem-workers",
        type=int,
        default=2,
        help="workers of the memory check (default 2, score_batch's default)",
    )
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also print a cProfile of the per-file work over N files",
    )
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (reused when run again)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        child(json.loads(args._child))
        return 0
    if args.files < max(args.mem_files, args.stage_files, 2) or min(args.repeats, args.full_repeats) < 1:
        raise SystemExit("--files must be at least --mem-files and --stage-files; repeats at least 1")
    if args.mem_workers not in (1, 2):
        raise SystemExit("--mem-workers is 1 or 2")

    wall = time.perf_counter()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-excel-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, root, wall)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


FULL = ("json", "xlsx", "md")


def run(args: argparse.Namespace, root: Path, wall: float) -> int:
    # 1. framework
    spec = Spec(args.inputs, args.seed)
    text = spec.yaml()
    yaml_path = root / "bench-excel.yaml"
    yaml_path.write_text(text, encoding="utf-8")
    fw = scoring.load_text(text, str(yaml_path))
    problems = check_framework(fw)
    assert not problems, "generated framework has problems:\n" + "\n".join(str(p) for p in problems[:20])
    t = time.perf_counter()
    plan = scoring.compile_plan(fw)
    t_compile = time.perf_counter() - t
    assert len(plan.inputs) == args.inputs, len(plan.inputs)
    n_leaves = sum(1 for nd in plan.nodes if nd.rule is not None)

    # 2. template and filled workbooks (not timed; kept and reused with --keep)
    folder = root / "filled"
    folder.mkdir(exist_ok=True)
    template = root / "template.xlsx"
    write_template(plan, template)
    subs, sub_info = make_submissions(spec, args.files, args.seed)
    files = [folder / f"school-{i + 1:04d}.xlsx" for i in range(args.files)]
    stale = {p for p in folder.glob("*.xlsx")} - set(files)
    if stale:
        raise SystemExit(f"{folder} holds other workbooks than this run's; use an empty --keep folder")
    marker = root / "generated-with.txt"
    key = f"{args.inputs} {args.seed} {plan.hash}"
    if marker.exists() and marker.read_text() != key:
        for f in files:
            f.unlink(missing_ok=True)
    todo = [(str(template), s, str(f)) for s, f in zip(subs, files, strict=True) if not f.exists()]
    log(f"generating {len(todo)} filled workbooks ({args.inputs} inputs, {n_leaves} leaves) …")
    t = time.perf_counter()
    with mp.Pool(min(2, os.cpu_count() or 1)) as pool:
        for _ in pool.imap_unordered(_fill_one, todo, chunksize=8):
            pass
    marker.write_text(key)
    log(f"  generated in {time.perf_counter() - t:.1f} s")
    sizes = [f.stat().st_size for f in files]
    str_files = [str(f) for f in files]
    n = len(files)
    outroot = root / "out"
    outroot.mkdir(exist_ok=True)
    back = read_workbook(files[0], plan)  # sanity: every input comes back
    assert len(back.values) == args.inputs, (len(back.values), args.inputs)

    log("machine ceiling: a pure-Python loop on 2 processes vs 1 …")
    ceilings = [ceiling()]

    # 3a. floor
    log("floor: python-calamine alone, 1 and 2 processes …")
    floor1 = floor2 = math.inf
    for _ in range(args.repeats + 1):
        floor1 = min(floor1, floor_run(str_files, 1))
        floor2 = min(floor2, floor_run(str_files, 2))

    # 3b. pipeline, each run in a fresh subprocess; configurations interleaved
    configs = [("full", FULL, 1), ("full", FULL, 2), ("json", ("json",), 1), ("json", ("json",), 2)]
    runs: dict[tuple[str, int], list[dict]] = {}
    for rep in range(max(args.repeats, args.full_repeats)):
        for name, formats, workers in configs:
            if rep >= (args.full_repeats if name == "full" else args.repeats):
                continue
            log(f"score_batch formats={formats} workers={workers} ({n} files), run {rep + 1} …")
            res = run_child(yaml_path, [str(folder)], outroot, formats, workers, n)
            log(
                f"  {res['seconds']:.2f} s, {n / res['seconds']:.1f} files/s, cpu {res['cpu_s']:.1f} s, "
                f"others' load {res['others_cores'] or 0:.2f} cores, {res['outputs']} outputs"
            )
            runs.setdefault((name, workers), []).append(res)
    best: dict[tuple[str, int], dict] = {}
    for k, rs in runs.items():
        b = min(rs, key=lambda r: r["seconds"])
        best[k] = {
            **b,
            "runs": [round(r["seconds"], 2) for r in rs],
            "mem_all": (max(r["maxrss_self_kib"] for r in rs), max(r["maxrss_children_kib"] for r in rs)),
        }

    # 3d. memory: the same configuration over fewer files
    mw = args.mem_workers
    log(f"memory: score_batch {FULL} workers={mw} over {args.mem_files} files …")
    small = run_child(yaml_path, str_files[: args.mem_files], outroot, FULL, mw, args.mem_files)
    big_self, big_kids = best[("full", mw)]["mem_all"]
    mem = {
        "workers": mw,
        "small_files": args.mem_files,
        "small_parent_kib": small["maxrss_self_kib"],
        "all_parent_kib": big_self,
        "small_worker_kib": small["maxrss_children_kib"] if mw > 1 else None,
        "all_worker_kib": big_kids if mw > 1 else None,
    }

    # 3c. stages, 1 process
    log(f"stages: {args.stage_files} files, 1 process …")
    stage_out = Path(tempfile.mkdtemp(prefix="stages-", dir=outroot))
    st = stages(plan, files[: args.stage_files], stage_out)
    shutil.rmtree(stage_out, ignore_errors=True)
    log(f"batch summary workbook for {n} rows …")
    rows = [UnitRow.of(f, scoring.score(plan, s)) for f, s in zip(str_files, subs, strict=True)]
    t_summary = math.inf
    for _ in range(2):
        t = time.perf_counter()
        write_batch_summary(rows, [], outroot / "汇总.xlsx", framework_name=fw.name)
        t_summary = min(t_summary, time.perf_counter() - t)
    ceilings.append(ceiling())

    if args.profile:
        profile(plan, files[: args.profile], outroot)

    def secs(k: tuple[str, int]) -> float:
        return best[k]["seconds"]

    def growth(small_kib: int | None, big_kib: int | None) -> float | None:
        return None if not small_kib or not big_kib else round(100 * (big_kib - small_kib) / small_kib, 1)

    fig: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "files": n,
        "inputs": args.inputs,
        "leaves": n_leaves,
        "input_types": spec.type_counts,
        "values_typed_as_text_pct": round(100 * sub_info["typed_as_text"] / sub_info["values"], 1),
        "workbook_kib_mean": round(sum(sizes) / len(sizes) / 1024, 1),
        "compile_plan_ms": round(1000 * t_compile, 1),
        "repeats": {"floor": args.repeats + 1, "json": args.repeats, "full": args.full_repeats},
        "machine_ceiling_2p": [round(c, 2) for c in ceilings],
        "floor_files_per_s": {"1": round(n / floor1, 1), "2": round(n / floor2, 1)},
        "floor_speedup": round(floor1 / floor2, 2),
        "pipeline": {
            f"{k[0]}_w{k[1]}": {
                "files_per_s": round(n / v["seconds"], 2),
                "runs_s": v["runs"],
                "cpu_s": round(v["cpu_s"], 1),
                "cores_used": round(v["cpu_s"] / v["seconds"], 2),
                "others_cores": None if v["others_cores"] is None else round(v["others_cores"], 2),
            }
            for k, v in sorted(best.items())
        },
        "speedup_full": round(secs(("full", 1)) / secs(("full", 2)), 2),
        "speedup_json": round(secs(("json", 1)) / secs(("json", 2)), 2),
        # CPU seconds of the 2-worker run over the 1-worker run: the cost of going parallel (1.0 = none);
        # unlike wall time it hardly depends on what else the machine is doing
        "cpu_ratio_full": round(best[("full", 2)]["cpu_s"] / best[("full", 1)]["cpu_s"], 2),
        "cpu_ratio_json": round(best[("json", 2)]["cpu_s"] / best[("json", 1)]["cpu_s"], 2),
        "full_over_floor": {
            "1": round(secs(("full", 1)) / floor1, 2),
            "2": round(secs(("full", 2)) / floor2, 2),
        },
        "json_over_floor": {
            "1": round(secs(("json", 1)) / floor1, 2),
            "2": round(secs(("json", 2)) / floor2, 2),
        },
        "stage_files": args.stage_files,
        "stages_ms_per_file": {k: round(v, 3) for k, v in st.items()},
        "read_over_floor": round(
            st["read_workbook"] / st["floor (calamine: open + 自评表 → {id: value})"], 2
        ),
        "batch_summary_ms": round(1000 * t_summary, 1),
        "memory_kib": mem,
        "memory_growth_pct": {
            "parent": growth(mem["small_parent_kib"], mem["all_parent_kib"]),
            "worker": growth(mem["small_worker_kib"], mem["all_worker_kib"]),
        },
    }
    fig["wall_s"] = round(time.perf_counter() - wall, 1)
    failed = print_table(fig)
    if args.json:
        print(json.dumps(fig, ensure_ascii=False, indent=2))
    return 1 if (args.check and failed) else 0


MAIN_STAGES = (
    "read_workbook",
    "score",
    "UnitRow.of",
    "to_json",
    "write .result.json (atomic)",
    "markdown",
    "write .report.md (atomic)",
    "write_unit_report",
    "resume record (sizes + SHA-256 of the outputs)",
)


def pad(text: str, width: int) -> str:
    """Left-justify for a terminal: CJK characters take two columns."""
    return text + " " * max(0, width - text_width(text))


def print_table(f: dict[str, Any]) -> bool:
    """The report on stdout; True when a target failed."""
    n, p, pl, fl = f["files"], print, f["pipeline"], f["floor_files_per_s"]
    p(f"Excel benchmark — Python {f['python']}, {f['cpus']} CPUs, {f['platform']}")
    p(
        f"framework: {f['inputs']} inputs {f['input_types']}, {f['leaves']} leaves; "
        f"compile_plan {f['compile_plan_ms']} ms"
    )
    r = f["repeats"]
    p(
        f"workbooks: {n} filled (mean {f['workbook_kib_mean']} KiB), {f['values_typed_as_text_pct']} % of values "
        f"typed as text; best of {r['floor']} (floor), {r['json']} (json), {r['full']} (json+xlsx+md) runs"
    )
    c = f["machine_ceiling_2p"]
    p(
        f"machine ceiling now: a pure-Python CPU loop runs {min(c):.2f}–{max(c):.2f}× faster on 2 processes than 1"
    )
    p("")
    p(f"{pad('throughput (workbooks/s)', 48)}{'1 process':>11}{'2 processes':>13}{'2p/1p':>8}")
    p(
        f"{pad('floor: calamine open + 自评表 → {id: value}', 48)}{fl['1']:>11.1f}{fl['2']:>13.1f}{f['floor_speedup']:>7.2f}×"
    )
    for label, key, sp in (
        ("score_batch formats=(json, xlsx, md)", "full", f["speedup_full"]),
        ("score_batch formats=(json,)", "json", f["speedup_json"]),
    ):
        p(
            f"{pad(label, 48)}{pl[key + '_w1']['files_per_s']:>11.1f}{pl[key + '_w2']['files_per_s']:>13.1f}{sp:>7.2f}×"
        )
    p("")
    p(f"{pad('run (best)', 22)}{'runs (s)':>18}{'cpu s':>9}{'cores used':>12}{'others on the machine':>24}")
    for k, v in pl.items():
        others = "?" if v["others_cores"] is None else f"{v['others_cores']:.2f} cores"
        runs = ", ".join(f"{x:.1f}" for x in v["runs_s"])
        p(f"{pad(k, 22)}{runs:>18}{v['cpu_s']:>9.1f}{v['cores_used']:>12.2f}{others:>24}")
    p("")
    mem, g = f["memory_kib"], f["memory_growth_pct"]
    mib = 1024
    w = mem["workers"]
    rows: list[tuple[str, str, str, bool, bool]] = [  # name, measured, target, ok, counts (False: info only)
        (
            "full(2)/full(1) speed-up, json+xlsx+md",
            f"{f['speedup_full']:.2f}×",
            f"≥ {TARGETS['speedup']}×",
            f["speedup_full"] >= TARGETS["speedup"],
            True,
        ),
        (
            "  info: same, formats=(json,)",
            f"{f['speedup_json']:.2f}×",
            f"≥ {TARGETS['speedup']}×",
            f["speedup_json"] >= TARGETS["speedup"],
            False,
        ),
        (
            "  info: CPU time w2/w1, json+xlsx+md",
            f"{f['cpu_ratio_full']:.2f}×",
            "≤ 1.1×",
            f["cpu_ratio_full"] <= 1.1,
            False,
        ),
        (
            "  info: CPU time w2/w1, formats=(json,)",
            f"{f['cpu_ratio_json']:.2f}×",
            "≤ 1.1×",
            f["cpu_ratio_json"] <= 1.1,
            False,
        ),
        (
            "full/floor, 1 process, json+xlsx+md",
            f"{f['full_over_floor']['1']:.2f}×",
            f"≤ {TARGETS['full_over_floor']}×",
            f["full_over_floor"]["1"] <= TARGETS["full_over_floor"],
            True,
        ),
        (
            "full/floor, 2 processes, json+xlsx+md",
            f"{f['full_over_floor']['2']:.2f}×",
            f"≤ {TARGETS['full_over_floor']}×",
            f["full_over_floor"]["2"] <= TARGETS["full_over_floor"],
            True,
        ),
        (
            "json-only/floor, 1 process",
            f"{f['json_over_floor']['1']:.2f}×",
            f"≤ {TARGETS['json_over_floor']}×",
            f["json_over_floor"]["1"] <= TARGETS["json_over_floor"],
            True,
        ),
        (
            "json-only/floor, 2 processes",
            f"{f['json_over_floor']['2']:.2f}×",
            f"≤ {TARGETS['json_over_floor']}×",
            f["json_over_floor"]["2"] <= TARGETS["json_over_floor"],
            True,
        ),
        (
            "  info: read_workbook/floor (stage loop)",
            f"{f['read_over_floor']:.2f}×",
            f"≤ {TARGETS['json_over_floor']}×",
            f["read_over_floor"] <= TARGETS["json_over_floor"],
            False,
        ),
    ]
    for who, a, b, gr in (
        ("parent", mem["small_parent_kib"], mem["all_parent_kib"], g["parent"]),
        ("largest worker", mem["small_worker_kib"], mem["all_worker_kib"], g["worker"]),
    ):
        if a is None or b is None or gr is None:
            continue
        rows.append(
            (
                f"peak RSS w={w} {who}, {mem['small_files']} → {n} files",
                f"{a / mib:.1f} → {b / mib:.1f} MiB ({gr:+.1f} %)",
                f"< +{TARGETS['mem_growth_pct']:.0f} %",
                gr < TARGETS["mem_growth_pct"],
                True,
            )
        )
    p(f"{pad('target', 46)}{'measured':>30}{'target':>10}  verdict")
    failed = False
    for name, value, target, ok, counts in rows:
        failed |= counts and not ok
        p(f"{pad(name, 46)}{value:>30}{target:>10}  {'PASS' if ok else 'FAIL'}")
    p("")
    st = f["stages_ms_per_file"]
    p(f"per-stage breakdown, 1 process, {f['stage_files']} files, ms/file")
    total = sum(st[k] for k in MAIN_STAGES)
    for k in MAIN_STAGES:
        p(f"  {pad(k, 52)}{st[k]:>8.2f}  {100 * st[k] / total:5.1f} %")
        prefix = {"read_workbook": "read.", "write_unit_report": "xlsx."}.get(k)
        for sub, v in st.items():
            if prefix and sub.startswith(prefix):
                p(f"      {pad(sub, 48)}{v:>8.2f}")
    js = sum(st[k] for k in MAIN_STAGES[:5])
    floor_key = "floor (calamine: open + 自评表 → {id: value})"
    p(f"  {pad('sum, json+xlsx+md', 52)}{total:>8.2f}  → {1000 / total:6.1f} files/s")
    p(f"  {pad('sum, json only', 52)}{js:>8.2f}  → {1000 / js:6.1f} files/s")
    p(
        f"  {pad('score_batch measured, 1 process, json+xlsx+md', 52)}{1000 / pl['full_w1']['files_per_s']:>8.2f}"
    )
    p(f"  {pad('score_batch measured, 1 process, json only', 52)}{1000 / pl['json_w1']['files_per_s']:>8.2f}")
    p(f"  {pad(floor_key, 52)}{st[floor_key]:>8.2f}")
    sync_key = "make_durable (os.sync) once per batch, ÷ files"
    if sync_key in st:
        p(f"  {pad(sync_key, 52)}{st[sync_key]:>8.2f}")
    p(f"  batch summary workbook for {n} rows: {f['batch_summary_ms']:.0f} ms once per batch, in the parent")
    contended = [k for k, v in pl.items() if (v["others_cores"] or 0) > 0.25]
    if contended or min(c) < TARGETS["speedup"]:
        p(
            f"  note: other processes used CPU during {', '.join(contended) or 'the ceiling check'}, and a pure-Python "
            f"loop got only {min(c):.2f}–{max(c):.2f}× from 2 processes: the speed-up figures say more about the "
            "machine than the code; compare 'cpu s' of the w1 and w2 runs for the parallel overhead"
        )
    p("")
    p(f"overall: {'FAIL' if failed else 'PASS'} (info rows do not count); wall time {f['wall_s']:.0f} s")
    return failed


if __name__ == "__main__":
    sys.exit(main())
