#!/usr/bin/env python3
"""Benchmark of the 督评 scoring engine against its performance targets.

Run from the repository root (see benchmarks/README.md)::

    python benchmarks/engine.py [--submissions N] [--leaves N] [--seed S] [--json] [--profile N]

What it does, in one run:

1. generates (seeded, deterministic) a framework YAML with ``--leaves`` leaf indicators of every rule kind
   under 10-15 first-level parents (each split into second-level groups), derived per-100-pupils values,
   three vetoes (fail / downgrade / cap), a capped bonus and grades; loads it with ``scoring.load_text``
   and asserts it validates without a single problem;
2. generates ``--submissions`` random (seeded) submissions as ``scoring.Submission`` objects before any timing;
3. measures
   a. compile time: ``load_text`` + ``compile_plan`` best of 5, and ``compile_plan`` alone best of 5;
   b. engine throughput: ``scoring.score`` over every submission, one process, sequential;
   c. a plain-Python floor (timed in turn with the engine, alternating over blocks of 1,000 submissions, so
      both see the same machine): a straight-line function generated as Python source from the same indicator
      spec (Decimal arithmetic, same contexts, same half-up rounding, same N/A renormalisation, bonus, grades
      and vetoes) timed over the same submissions, and checked equal to the engine on a sample
      (total, grade, and the points of every indicator);
   d. memory: peak RSS (``getrusage``) and current RSS after 1,000 and after all submissions, results
      discarded as they are produced;
   e. (information) the same scoring with the result objects then read (``.indicators``), and with every text
      written: ``scoring.score(...).to_json()`` over ``--texts`` submissions, since the indicator results,
      their explanations and inputs, and the 整改清单 are built when first read;
   f. (information) a plan travelling to another process: its pickled size, and ``pickle.loads`` (which
      compiles it again, see ``Plan.__reduce__``) against a fresh load + ``compile_plan`` and against the
      framework alone pickled and compiled (checked again), best of 5, for this framework and demo-school;
4. prints a table with PASS/FAIL against the targets and, with ``--json``, the figures as JSON at the end.

Nothing here changes the engine; the script only uses the public API (``scoring.load_text``,
``scoring.load_framework``, ``scoring.compile_plan``, ``scoring.score``, ``scoring.Submission``),
``scoring.framework.check.check`` and ``scoring.framework.registry.find`` (demo-school's file).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pickle
import platform
import pstats
import random
import resource
import sys
import time
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

import scoring
from scoring.framework.check import check as check_framework
from scoring.framework.registry import find as find_framework

UNIT_TYPES = ("小学", "初中")
SCALE = ("优秀", "良好", "合格", "不合格")
MANUAL_LEVELS = ("A", "B", "C", "D")
GRADE_NAMES = ("优秀", "良好", "合格", "不合格")
LEAF_POINTS = ("1", "1.5", "2", "2", "2.5", "3", "3", "4", "5")

# share of each rule kind among the leaves (every kind appears at least once)
KIND_WEIGHTS = {
    "threshold": 25,
    "bands": 12,
    "levels": 10,
    "checklist": 10,
    "checklist_k": 8,
    "deduction": 10,
    "proportional": 10,
    "expression": 8,
    "manual": 7,
}

BLOCK = 1000  # engine and floor alternate over blocks of this many submissions

TARGETS = {
    "compile_s": 0.2,  # load_text + compile_plan, best of 5
    "subs_per_s": 1000.0,
    "ratio": 5.0,  # engine time / floor time
    "mem_growth_pct": 10.0,
}

FIRST_LEVEL_NAMES = (
    "办学方向",
    "组织领导",
    "课程教学",
    "教师队伍",
    "学生发展",
    "资源配置",
    "安全管理",
    "家校社协同",
    "特色发展",
    "经费保障",
    "信息化建设",
    "体育卫生",
    "艺术教育",
    "劳动教育",
    "督导整改",
)
RESOURCES = (
    "高于规定学历教师",
    "县级以上骨干教师",
    "体育艺术专任教师",
    "网络多媒体教室",
    "心理健康教师",
    "实验室",
    "图书馆座位",
    "功能教室",
    "专职校医",
    "信息技术教师",
)

D = Decimal
ZERO = D(0)
Q2 = D("0.01")


def dec_text(x: Decimal) -> str:
    """A Decimal as YAML number text without exponent (2.50 → 2.5)."""
    text = format(x, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


# --------------------------------------------------------------------------------------------- framework


class Spec:
    """The generated indicator framework: enough to write its YAML, the floor's source and submissions."""

    def __init__(self, n_leaves: int, seed: int):
        if n_leaves < 9:
            raise SystemExit("--leaves must be at least 9 (one leaf of every rule kind)")
        self.rng = random.Random(seed)
        self.inputs: dict[str, dict[str, Any]] = {}  # name -> YAML fields
        self.gen: dict[str, tuple] = {}  # name -> how submissions fill it
        self.derived: dict[str, dict[str, Any]] = {}  # name -> {label, a} (expr a / students * 100)
        self.groups: list[dict[str, Any]] = []  # first level -> second level -> leaves
        self.leaves: list[dict[str, Any]] = []
        self._n = 0
        self._build(n_leaves)

    # -- inputs ------------------------------------------------------------------------------------

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:04d}"

    def _input(self, name: str, gen: tuple, **fields: Any) -> str:
        self.inputs[name] = fields
        self.gen[name] = gen
        return name

    def _per100(self, what: str, mid: Decimal) -> str:
        """An integer count and its derived value per 100 pupils (precision 2)."""
        a = self._input(self._name("cnt"), ("per100", float(mid)), label=f"{what}数", type="integer", min=0)
        d = self._name("d")
        self.derived[d] = {"label": f"每百名学生拥有{what}数", "a": a}
        return d

    # -- tree --------------------------------------------------------------------------------------

    def _build(self, n: int) -> None:
        rng = self.rng
        self._input("students", ("students",), label="在校生数", type="integer", min=1, unit="人")
        kinds = list(KIND_WEIGHTS)
        kinds += rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=n - len(kinds))
        rng.shuffle(kinds)
        n_first = min(rng.randint(10, 15), max(1, n // 6))
        sizes = [n // n_first] * n_first
        for i in range(n % n_first):
            sizes[i] += 1
        for _ in range(n_first * 2):  # unequal first-level groups, each keeps at least 3 leaves
            a, b = rng.randrange(n_first), rng.randrange(n_first)
            m = rng.randint(0, max(0, sizes[a] - 3))
            sizes[a] -= m
            sizes[b] += m
        pos = 0
        for gi, size in enumerate(sizes):
            code1 = f"A{gi + 1:02d}"
            n_second = max(1, min(rng.randint(2, 4), size // 3))
            cuts = sorted(rng.sample(range(1, size), n_second - 1)) if n_second > 1 else []
            bounds = [0, *cuts, size]
            seconds = []
            for si in range(n_second):
                code2 = f"{code1}.{si + 1}"
                leaves = []
                for li in range(bounds[si], bounds[si + 1]):
                    kind = kinds[pos + li]
                    leaf = self._leaf(f"{code2}.{li - bounds[si] + 1:02d}", kind, first=li == bounds[si])
                    leaves.append(leaf)
                    self.leaves.append(leaf)
                points = sum((lf["points"] for lf in leaves), ZERO)
                seconds.append(
                    {
                        "code": code2,
                        "name": f"{FIRST_LEVEL_NAMES[gi % 15]}（{si + 1}）",
                        "points": points,
                        "children": leaves,
                    }
                )
            pos += size
            points = sum((s["points"] for s in seconds), ZERO)
            self.groups.append(
                {"code": code1, "name": FIRST_LEVEL_NAMES[gi % 15], "points": points, "children": seconds}
            )
        self.total = sum((g["points"] for g in self.groups), ZERO)
        t = self.total
        self.grades = [
            (GRADE_NAMES[0], (t * D("0.90")).quantize(D(1), ROUND_HALF_UP)),
            (GRADE_NAMES[1], (t * D("0.80")).quantize(D(1), ROUND_HALF_UP)),
            (GRADE_NAMES[2], (t * D("0.65")).quantize(D(1), ROUND_HALF_UP)),
            (GRADE_NAMES[3], None),
        ]
        self._input("major_accident", ("event", 0.01), label="发生重大安全责任事故", type="boolean")
        self._input("paid_tutoring", ("event", 0.03), label="查实在职教师有偿补课", type="boolean")
        self._input("ethics_violations", ("event", 0.05, 2), label="师德违规事件数", type="integer", min=0)
        self._input("city_award", ("event", 0.5, 3), label="获市级及以上表彰项数", type="integer", min=0)
        self._input("innovation_case", ("event", 0.2), label="入选区级教育创新案例", type="boolean")
        self.bonus_cap = D(5)

    def _leaf(self, code: str, kind: str, first: bool) -> dict[str, Any]:
        rng = self.rng
        P = D(rng.choice(LEAF_POINTS))
        leaf: dict[str, Any] = {"code": code, "kind": kind, "points": P, "applies_to": None}
        if not first and rng.random() < 0.06:  # the first leaf of a group always applies: no empty groups
            leaf["applies_to"] = rng.choice(UNIT_TYPES)
        what = rng.choice(RESOURCES)
        if kind == "threshold":
            lo = D(str(round(rng.uniform(3, 12), 1)))
            hi = D(str(round(float(lo) * rng.uniform(1.1, 1.3), 1)))
            op = "at_least" if rng.random() < 0.8 else "at_most"
            mid = (lo + hi) / 2
            leaf.update(
                name=f"每百名学生拥有{what}数",
                value=self._per100(what, mid),
                op=op,
                bound=(lo, hi),
                rectify=rng.random() < 0.35,
            )
        elif kind == "bands":
            if rng.random() < 0.5:
                v = self._input(
                    self._name("pct"),
                    ("num", 50.0, 100.0),
                    label=f"{what}达标率",
                    type="percent",
                    min=0,
                    max=100,
                    unit="%",
                )
                a1 = D(rng.randint(88, 96))
                a2 = a1 - rng.randint(6, 12)
                a3 = a2 - rng.randint(8, 15)
            else:
                mid = D(str(round(rng.uniform(3, 12), 1)))
                v = self._per100(what, mid)
                a1, a2, a3 = (D(str(round(float(mid) * f, 1))) for f in (1.1, 0.9, 0.7))
            steps = [(a1, P), (a2, P * D("0.8")), (a3, P * D("0.5")), (None, ZERO)]
            leaf.update(name=f"{what}配备水平", value=v, steps=steps)
        elif kind == "levels":
            v = self._input(
                self._name("lvl"), ("level",), label=f"{what}工作评价等级", type="level", scale="四级"
            )
            table = dict(zip(SCALE, (P, P * D("0.8"), P * D("0.6"), ZERO), strict=True))
            leaf.update(name=f"{what}工作", value=v, table=table)
        elif kind in ("checklist", "checklist_k"):
            n = rng.randint(3, 5)
            items = [
                self._input(
                    self._name("chk"),
                    ("bool", rng.uniform(0.6, 0.95)),
                    label=f"{what}制度第{i + 1}项",
                    type="boolean",
                )
                for i in range(n)
            ]
            if kind == "checklist":
                each = (P / n).quantize(Q2, rounding="ROUND_DOWN")
                pts = [each] * n
                pts[0] += P - each * n
                if rng.random() < 0.2:
                    pts[-1] += D("0.5")  # items worth more than the indicator: capped
                leaf.update(name=f"{what}制度建设", items=list(zip(items, pts, strict=True)))
            else:
                leaf.update(name=f"{what}落实情况", items=[(i, None) for i in items], k=rng.randint(1, n))
        elif kind == "deduction":
            items = []
            for i in range(2):
                c = self._input(
                    self._name("ded"),
                    ("count", 4, 0.6),
                    label=f"{what}问题{i + 1}起数",
                    type="integer",
                    min=0,
                )
                each = D(rng.choice(("0.5", "1", "2")))
                cap = P / 2 if rng.random() < 0.5 else None
                items.append((c, each, cap))
            leaf.update(name=f"{what}规范管理", items=items)
        elif kind == "proportional":
            t1 = D(rng.randint(15, 40))
            t2 = t1 + rng.randint(3, 12)
            v = self._input(
                self._name("num"),
                ("num", float(t1) * 0.5, float(t1) * 1.3),
                label=f"生均{what}",
                type="number",
                min=0,
            )
            leaf.update(name=f"生均{what}", value=v, target=(t1, t2))
        elif kind == "expression":
            if rng.random() < 0.5:
                m = self._input(
                    self._name("min"),
                    ("num", 20.0, 150.0),
                    label=f"{what}平均用时",
                    type="number",
                    min=0,
                    unit="分钟",
                )
                L, S, Dd = D(rng.choice((60, 90))), D(10), D(rng.choice(("0.5", "1")))
                src = f"{P} if {m} <= {L} else max(0, {P} - ceil(({m} - {L}) / {S}) * {Dd})"
                leaf.update(
                    name=f"{what}时长控制", form="E1", x=m, L=L, S=S, D=Dd, expr=src, met=f"{m} <= {L}"
                )
            else:
                r = rng.uniform(2, 10)
                a = self._input(self._name("cnt"), ("per100", r), label=f"{what}人次", type="integer", min=0)
                K = D(str(round(float(P) * 100 / (r * 0.9), 1)))
                src = f"min({P}, {a} / students * {K})"
                leaf.update(name=f"{what}覆盖面", form="E2", x=a, K=K, expr=src, met=None)
        elif kind == "manual":
            table = dict(zip(MANUAL_LEVELS, (P, P * D("0.8"), P * D("0.5"), ZERO), strict=True))
            leaf.update(name=f"{what}特色（督学评定）", table=table)
        else:  # pragma: no cover
            raise AssertionError(kind)
        return leaf

    # -- YAML --------------------------------------------------------------------------------------

    def yaml(self) -> str:
        out = [
            "# generated by benchmarks/engine.py (seeded); not an official framework",
            "id: bench-generated",
            f"name: {q('基准测试生成的学校督导评估方案')}",
            'version: "1.0"',
            "level: school",
            "provenance: sample",
            "applies_to: [小学, 初中]",
            f"scoring: {{method: points, total: {dec_text(self.total)}, precision: 2, compare: rounded}}",
            f"scales:\n  四级: [{', '.join(SCALE)}]",
            "inputs:",
        ]
        for name, f in self.inputs.items():
            parts = [f"label: {q(f['label'])}", f"type: {f['type']}"]
            for key in ("unit", "scale"):
                if key in f:
                    parts.append(f"{key}: {q(f[key])}")
            for key in ("min", "max"):
                if key in f:
                    parts.append(f"{key}: {f[key]}")
            out.append(f"  {name}: {{{', '.join(parts)}}}")
        out.append("derived:")
        for name, d in self.derived.items():
            out.append(
                f"  {name}: {{label: {q(d['label'])}, expr: {q(d['a'] + ' / students * 100')}, precision: 2, "
                f"unit: 人}}"
            )
        out.append("indicators:")
        for g in self.groups:
            out += [
                f"  - code: {q(g['code'])}",
                f"    name: {q(g['name'])}",
                f"    points: {dec_text(g['points'])}",
                "    children:",
            ]
            for s in g["children"]:
                out += [
                    f"      - code: {q(s['code'])}",
                    f"        name: {q(s['name'])}",
                    f"        points: {dec_text(s['points'])}",
                    "        children:",
                ]
                for leaf in s["children"]:
                    out += self._leaf_yaml(leaf, " " * 10)
        out += [
            "vetoes:",
            f"  - {{code: V1, when: major_accident, effect: fail, reason: {q('发生重大安全责任事故')}}}",
            f"  - {{code: V2, when: paid_tutoring, effect: {{downgrade: 1}}, reason: {q('查实在职教师有偿补课')}}}",
            f"  - {{code: V3, when: {q('ethics_violations >= 1')}, effect: {{cap: 良好}}, "
            f"reason: {q('存在师德违规事件')}}}",
            "bonus:",
            f"  cap: {dec_text(self.bonus_cap)}",
            "  items:",
            f"    - {{code: B1, name: {q('市级及以上表彰')}, points: {q('min(city_award * 2, 4)')}}}",
            f"    - {{code: B2, name: {q('区级教育创新案例')}, points: 2, when: innovation_case}}",
            "grades:",
        ]
        for name, cut in self.grades:
            out.append(f"  - {{name: {name}" + (f", at_least: {dec_text(cut)}}}" if cut is not None else "}"))
        out.append("rectify: {owner: 学校, within_days: 90, priority: 中}")
        return "\n".join(out) + "\n"

    def _leaf_yaml(self, leaf: dict[str, Any], ind: str) -> list[str]:
        out = [
            f"{ind}- code: {q(leaf['code'])}",
            f"{ind}  name: {q(leaf['name'])}",
            f"{ind}  points: {dec_text(leaf['points'])}",
        ]
        if leaf["applies_to"]:
            out.append(f"{ind}  applies_to: [{leaf['applies_to']}]")
        kind = leaf["kind"]
        if kind == "threshold":
            lo, hi = leaf["bound"]
            body = f"threshold: {{value: {leaf['value']}, {leaf['op']}: {{小学: {lo}, 初中: {hi}}}}}"
        elif kind == "bands":
            steps = ", ".join(
                f"{{at_least: {dec_text(a)}, points: {dec_text(p)}}}" if a is not None else f"{{points: {p}}}"
                for a, p in leaf["steps"]
            )
            body = f"bands: {{value: {leaf['value']}, steps: [{steps}]}}"
        elif kind == "levels":
            pts = ", ".join(f"{k}: {dec_text(v)}" for k, v in leaf["table"].items())
            body = f"levels: {{value: {leaf['value']}, points: {{{pts}}}}}"
        elif kind in ("checklist", "checklist_k"):
            items = ", ".join(
                f"{{label: {q(self.inputs[c]['label'])}, when: {c}"
                + (f", points: {dec_text(p)}}}" if p is not None else "}")
                for c, p in leaf["items"]
            )
            k = f", at_least: {leaf['k']}" if kind == "checklist_k" else ""
            body = f"checklist: {{items: [{items}]{k}}}"
        elif kind == "deduction":
            items = ", ".join(
                f"{{label: {q(self.inputs[c]['label'])}, count: {c}, each: {dec_text(e)}"
                + (f", max: {dec_text(m)}}}" if m is not None else "}")
                for c, e, m in leaf["items"]
            )
            body = f"deduction: {{floor: 0, items: [{items}]}}"
        elif kind == "proportional":
            t1, t2 = leaf["target"]
            body = f"proportional: {{value: {leaf['value']}, target: {{小学: {t1}, 初中: {t2}}}}}"
        elif kind == "expression":
            met = f", met: {q(leaf['met'])}" if leaf["met"] else ""
            body = f"expression: {{points: {q(leaf['expr'])}{met}}}"
        else:
            pts = ", ".join(f"{k}: {dec_text(v)}" for k, v in leaf["table"].items())
            body = f"manual: {{levels: {{{pts}}}, guidance: {q('督学依据现场查看和座谈评定 A/B/C/D')}}}"
        out.append(f"{ind}  rule:")
        out.append(f"{ind}    {body}")
        if leaf.get("rectify"):
            out.append(
                f"{ind}  rectify: {{problem: {q('{name}为{value}人，未达到标准{standard}人，差{gap}人')}, "
                f"requirement: {q('补足配备')}, within_days: 180}}"
            )
        return out

    def stats(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for leaf in self.leaves:
            kinds[leaf["kind"]] = kinds.get(leaf["kind"], 0) + 1
        return {
            "leaves": len(self.leaves),
            "first_level": len(self.groups),
            "second_level": sum(len(g["children"]) for g in self.groups),
            "inputs": len(self.inputs),
            "derived": len(self.derived),
            "total": dec_text(self.total),
            "kinds": kinds,
            "not_applicable_leaves": sum(1 for leaf in self.leaves if leaf["applies_to"]),
        }


# --------------------------------------------------------------------------------------------- submissions


def level_weights(quality: float) -> tuple[float, ...]:
    """Weights of the four rating levels (best first) for a school of this quality (0 … 1)."""
    return (1 + 12 * quality, 4 - 2 * quality, 2 - 1.8 * quality, 1 - 0.95 * quality)


def make_submissions(spec: Spec, n: int, seed: int) -> tuple[list[scoring.Submission], dict[str, Any]]:
    rng = random.Random(seed * 7919 + 17)
    subs = []
    manual_codes = [leaf["code"] for leaf in spec.leaves if leaf["kind"] == "manual"]
    missing_values = given_values = missing_manual = types_small = 0
    for i in range(n):
        unit_type = UNIT_TYPES[rng.random() < 0.5]
        types_small += unit_type == "小学"
        miss = 0.0 if rng.random() < 0.6 else rng.uniform(0.01, 0.03)
        quality = min(1.0, max(0.0, rng.gauss(0.75, 0.2)))  # how good the school is, 0 … 1
        students = rng.randint(150, 3000)
        values: dict[str, Any] = {}
        for name, gen in spec.gen.items():
            kind = gen[0]
            if kind == "students":
                values[name] = students
                continue
            if miss and rng.random() < miss:
                missing_values += 1
                continue
            given_values += 1
            if kind == "per100":
                share = rng.uniform(0.6, 1.1) + 0.6 * quality
                values[name] = max(0, round(students * gen[1] / 100 * share))
            elif kind == "num":
                lo, hi = gen[1], gen[2]
                values[name] = round(rng.uniform(lo + (hi - lo) * 0.6 * quality, hi), 1)
            elif kind == "bool":
                values[name] = rng.random() < gen[1] + (1 - gen[1]) * 0.9 * quality
            elif kind == "count":
                values[name] = (
                    0 if rng.random() < gen[2] + (1 - gen[2]) * 0.9 * quality else rng.randint(1, gen[1])
                )
            elif kind == "event":  # vetoes and bonus: not tied to the school's quality
                hit = rng.random() < gen[1]
                values[name] = (rng.randint(1, gen[2]) if hit else 0) if len(gen) > 2 else hit
            elif kind == "level":
                values[name] = rng.choices(SCALE, weights=level_weights(quality))[0]
            else:  # pragma: no cover
                raise AssertionError(kind)
        manual = {}
        for code in manual_codes:
            if rng.random() < 0.07:
                missing_manual += 1
                continue
            manual[code] = rng.choices(MANUAL_LEVELS, weights=level_weights(quality))[0]
        subs.append(
            scoring.Submission(
                framework="bench-generated",
                unit={"name": f"测试学校{i + 1:05d}", "code": f"{i + 1:010d}", "type": unit_type},
                values=values,
                manual=manual,
            )
        )
    info = {
        "n": n,
        "unit_types": {"小学": types_small, "初中": n - types_small},
        "values_missing_pct": round(100 * missing_values / max(1, missing_values + given_values), 2),
        "manual_missing_pct": round(100 * missing_manual / max(1, n * len(manual_codes)), 2),
    }
    return subs, info


# --------------------------------------------------------------------------------------------- the floor


class _Src:
    """Python source under construction, with a pool of Decimal constants."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Decimal] = {}
        self.tables: dict[str, str] = {}  # name -> dict literal (level → points)
        self._by_text: dict[str, str] = {}

    def k(self, value: Decimal | int | str) -> str:
        value = D(value) if not isinstance(value, Decimal) else value
        text = str(value)
        if text not in self._by_text:
            name = f"K{len(self._by_text)}"
            self._by_text[text] = name
            self.consts[name] = value
        return self._by_text[text]

    def add(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


def _int(r: Any, lo: Decimal | None, hi: Decimal | None) -> Decimal:
    if type(r) is int:
        v = D(r)
    elif isinstance(r, Decimal) and r.is_finite() and r == r.to_integral_value():
        v = r.quantize(D(1))
    elif type(r) is float and r.is_integer():
        v = D(repr(r)).quantize(D(1))
    else:
        raise ValueError(f"not an integer: {r!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"out of range: {v}")
    return v


def _num(r: Any, lo: Decimal | None, hi: Decimal | None) -> Decimal:
    if type(r) is float:
        v = D(repr(r))
    elif type(r) is int:
        v = D(r)
    elif isinstance(r, Decimal) and r.is_finite():
        v = r
    else:
        raise ValueError(f"not a number: {r!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"out of range: {v}")
    return v


def _bool(r: Any) -> bool:
    if r is True or r is False:
        return r
    raise ValueError(f"not yes/no: {r!r}")


def _level(r: Any, choices: frozenset[str]) -> str:
    t = str(r).strip()
    if t not in choices:
        raise ValueError(f"not a level: {r!r}")
    return t


def build_floor(spec: Spec) -> tuple[Any, Any, str]:
    """Generate and compile the hand-coded floor: (score, detail, source).

    ``score(unit_type, values, manual)`` → (total, grade, first-level points);
    ``detail(...)`` → (total, grade, {code: points} for every indicator). Both share one body.
    """
    s = _Src()
    body = s.add
    body(1, "if unit_type != '小学' and unit_type != '初中':")
    body(2, "raise ValueError(unit_type)")
    body(1, "for key in values:")
    body(2, "if key not in INPUTS:")
    body(3, "raise KeyError(key)")
    body(1, "for key in manual:")
    body(2, "if key not in CODES:")
    body(3, "raise KeyError(key)")
    body(1, "small = unit_type == '小学'")
    body(1, "g = values.get")
    body(1, "mg = manual.get")
    # -- inputs: coerced and range-checked, like the engine does for every submission
    for name, f in spec.inputs.items():
        lo = s.k(f["min"]) if "min" in f else "None"
        hi = s.k(f["max"]) if "max" in f else "None"
        body(1, f"r = g({name!r})")
        if f["type"] == "integer":
            conv = f"_int(r, {lo}, {hi})"
        elif f["type"] in ("number", "percent"):
            conv = f"_num(r, {lo}, {hi})"
        elif f["type"] == "boolean":
            conv = "_bool(r)"
        else:
            conv = "_level(r, SCALE)"
        body(1, f"i_{name} = None if r is None else {conv}")
    # -- expressions are evaluated at 34 digits, as the engine's expression language does
    body(1, "with localcontext(C34):")
    k100 = s.k(100)
    for name, d in spec.derived.items():
        a = d["a"]
        body(
            2,
            f"d_{name} = None if i_{a} is None or i_students is None else "
            f"(i_{a} / i_students * {k100}).quantize(Q2, ROUND_HALF_UP)",
        )
    for n, leaf in enumerate(spec.leaves):
        if leaf["kind"] != "expression":
            continue
        P, x = s.k(leaf["points"]), f"i_{leaf['x']}"
        if leaf["form"] == "E1":
            L, S_, Dd = s.k(leaf["L"]), s.k(leaf["S"]), s.k(leaf["D"])
            body(
                2,
                f"x_{n} = None if {x} is None else ({P} if {x} <= {L} else max(ZERO, {P} - "
                f"(({x} - {L}) / {S_}).to_integral_value(rounding=ROUND_CEILING) * {Dd}))",
            )
        else:
            K = s.k(leaf["K"])
            body(
                2, f"x_{n} = None if {x} is None or i_students is None else min({P}, {x} / i_students * {K})"
            )

    def var(name: str) -> str:
        return f"d_{name}" if name in spec.derived else f"i_{name}"

    # -- leaves
    index = {}
    for n, leaf in enumerate(spec.leaves):
        index[leaf["code"]] = n
        p = f"p_{n}"
        P = s.k(leaf["points"])
        ind = 1
        if leaf["applies_to"]:
            body(1, f"if unit_type == {leaf['applies_to']!r}:")
            ind = 2
        kind = leaf["kind"]
        if kind == "threshold":
            lo, hi = leaf["bound"]
            cmp = ">=" if leaf["op"] == "at_least" else "<="
            v = var(leaf["value"])
            body(ind, f"if {v} is None:")
            body(ind + 1, f"{p} = None")
            body(ind, "else:")
            body(ind + 1, f"{p} = {P} if {v} {cmp} ({s.k(lo)} if small else {s.k(hi)}) else ZERO")
        elif kind == "bands":
            v = var(leaf["value"])
            body(ind, f"v = {v}")
            body(ind, "if v is None:")
            body(ind + 1, f"{p} = None")
            for a, pts in leaf["steps"]:
                if a is not None:
                    body(ind, f"elif v >= {s.k(a)}:")
                else:
                    body(ind, "else:")
                body(ind + 1, f"{p} = {s.k(pts)}")
        elif kind == "levels":
            s.tables[f"T_{n}"] = "{" + ", ".join(f"{k!r}: {s.k(v)}" for k, v in leaf["table"].items()) + "}"
            body(ind, f"{p} = None if i_{leaf['value']} is None else T_{n}.get(i_{leaf['value']})")
        elif kind in ("checklist", "checklist_k"):
            names = [f"i_{c}" for c, _ in leaf["items"]]
            body(ind, "if " + " or ".join(f"{x} is None" for x in names) + ":")
            body(ind + 1, f"{p} = None")
            body(ind, "else:")
            if kind == "checklist":
                body(ind + 1, f"{p} = ZERO")
                for x, (_, pts) in zip(names, leaf["items"], strict=True):
                    body(ind + 1, f"if {x}:")
                    body(ind + 2, f"{p} += {s.k(pts)}")
                body(ind + 1, f"if {p} > {P}:")
                body(ind + 2, f"{p} = {P}")
            else:
                count = " + ".join(f"({x} is True)" for x in names)
                body(ind + 1, f"{p} = {P} if {count} >= {leaf['k']} else ZERO")
        elif kind == "deduction":
            names = [f"i_{c}" for c, _, _ in leaf["items"]]
            body(ind, "if " + " or ".join(f"{x} is None" for x in names) + ":")
            body(ind + 1, f"{p} = None")
            body(ind, "else:")
            body(ind + 1, "t = ZERO")
            for x, (_, each, cap) in zip(names, leaf["items"], strict=True):
                body(ind + 1, f"d = {x} * {s.k(each)}")
                if cap is not None:
                    body(ind + 1, f"if d > {s.k(cap)}:")
                    body(ind + 2, f"d = {s.k(cap)}")
                body(ind + 1, "t += d")
            body(ind + 1, f"{p} = {P} - t")
            body(ind + 1, f"if {p} < ZERO:")
            body(ind + 2, f"{p} = ZERO")
        elif kind == "proportional":
            t1, t2 = leaf["target"]
            v = var(leaf["value"])
            body(ind, f"if {v} is None:")
            body(ind + 1, f"{p} = None")
            body(ind, "else:")
            body(ind + 1, f"sh = {v} / ({s.k(t1)} if small else {s.k(t2)})")
            body(ind + 1, "if sh > ONE:")
            body(ind + 2, "sh = ONE")
            body(ind + 1, "elif sh < ZERO:")
            body(ind + 2, "sh = ZERO")
            body(ind + 1, f"{p} = ({P} * sh).quantize(Q2, ROUND_HALF_UP)")
        elif kind == "expression":
            body(ind, f"if x_{n} is None:")
            body(ind + 1, f"{p} = None")
            body(ind, "else:")
            body(ind + 1, f"{p} = x_{n}.quantize(Q2, ROUND_HALF_UP)")
            body(ind + 1, f"if {p} > {P}:")
            body(ind + 2, f"{p} = {P}")
            body(ind + 1, f"elif {p} < ZERO:")
            body(ind + 2, f"{p} = ZERO")
        elif kind == "manual":
            s.tables[f"T_{n}"] = "{" + ", ".join(f"{k!r}: {s.k(v)}" for k, v in leaf["table"].items()) + "}"
            body(ind, f"m = mg({leaf['code']!r})")
            body(ind, f"{p} = T_{n}.get(m) if m else None")
        if leaf["applies_to"]:
            body(1, "else:")
            body(2, f"{p} = None")
    # -- second-level groups: 不适用 leaves leave the denominator and the points are rescaled
    groups_out = []
    for gi, g in enumerate(spec.groups):
        for si, sg in enumerate(g["children"]):
            gv = f"s_{gi}_{si}"
            groups_out.append((sg["code"], gv))
            always = [(index[lf["code"]], lf) for lf in sg["children"] if not lf["applies_to"]]
            some = [(index[lf["code"]], lf) for lf in sg["children"] if lf["applies_to"]]
            body(1, "e = ZERO")
            for n, _ in always:
                body(1, f"if p_{n} is not None:")
                body(2, f"e += p_{n}")
            if not some:
                body(1, f"{gv} = e")
                continue
            full = sum((lf["points"] for _, lf in always), ZERO)
            body(1, f"f = {s.k(full)}")
            for n, lf in some:
                body(1, f"if unit_type == {lf['applies_to']!r}:")
                body(2, f"f += {s.k(lf['points'])}")
                body(2, f"if p_{n} is not None:")
                body(3, f"e += p_{n}")
            poss = s.k(sg["points"])
            body(1, f"{gv} = e if f == {poss} else (e * {poss} / f).quantize(Q2, ROUND_HALF_UP)")
        fv = f"f_{gi}"
        groups_out.append((g["code"], fv))
        body(1, f"{fv} = " + " + ".join(f"s_{gi}_{si}" for si in range(len(g["children"]))))
    firsts = [f"f_{gi}" for gi in range(len(spec.groups))]
    body(1, f"total = (ZERO + {' + '.join(firsts)}).quantize(Q2, ROUND_HALF_UP)")
    # -- bonus (capped), grade, vetoes
    body(1, "b = ZERO")
    body(1, "if i_city_award is not None:")
    body(2, "with localcontext(C34):")
    body(3, f"x = min(i_city_award * {s.k(2)}, {s.k(4)})")
    body(2, "if x > ZERO:")
    body(3, "b += x")
    body(1, "if i_innovation_case:")
    body(2, f"b += {s.k(2)}")
    body(1, f"if b > {s.k(spec.bonus_cap)}:")
    body(2, f"b = {s.k(spec.bonus_cap)}")
    body(1, "total += b")
    cuts = [(i, cut) for i, (_, cut) in enumerate(spec.grades) if cut is not None]
    for j, (i, cut) in enumerate(cuts):
        body(1, f"{'if' if j == 0 else 'elif'} total >= {s.k(cut)}:")
        body(2, f"gi = {i}")
    body(1, "else:")
    body(2, f"gi = {len(spec.grades) - 1}")
    last = len(spec.grades) - 1
    cap_index = GRADE_NAMES.index("良好")
    body(1, "if i_major_accident:")
    body(2, f"gi = {last}")
    body(1, "else:")
    body(2, "if i_paid_tutoring:")
    body(3, f"gi = min(gi + 1, {last})")
    body(2, f"if i_ethics_violations is not None and i_ethics_violations >= {s.k(1)}:")
    body(3, f"gi = max(gi, {cap_index})")

    code = s.lines
    leaf_codes = [(leaf["code"], f"p_{n}") for n, leaf in enumerate(spec.leaves)]
    detail = "{" + ", ".join(f"{c!r}: {v}" for c, v in leaf_codes + groups_out) + "}"
    source = "\n".join(
        [
            *(f"{name} = {table}" for name, table in s.tables.items()),
            "",
            "def floor_score(unit_type, values, manual):",
            *code,
            f"    return total, GRADES[gi], ({', '.join(firsts)},)",
            "",
            "def floor_detail(unit_type, values, manual):",
            *code,
            f"    return total, GRADES[gi], {detail}",
            "",
        ]
    )
    ns: dict[str, Any] = {
        "Decimal": Decimal,
        "localcontext": localcontext,
        "ROUND_HALF_UP": ROUND_HALF_UP,
        "ROUND_CEILING": ROUND_CEILING,
        "C34": Context(prec=34),
        "Q2": Q2,
        "ZERO": ZERO,
        "ONE": D(1),
        "GRADES": tuple(name for name, _ in spec.grades),
        "SCALE": frozenset(SCALE),
        "INPUTS": frozenset(spec.inputs),
        "CODES": frozenset(leaf["code"] for leaf in spec.leaves),
        "_int": _int,
        "_num": _num,
        "_bool": _bool,
        "_level": _level,
    }
    ns.update(s.consts)
    exec(compile(source, "<floor>", "exec"), ns)
    return ns["floor_score"], ns["floor_detail"], source


# --------------------------------------------------------------------------------------------- measuring


def rss_kib() -> tuple[int, int]:
    """(peak RSS, current RSS) of this process in KiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    if sys.platform == "darwin":
        peak //= 1024
    current = 0
    try:
        with open("/proc/self/statm") as f:
            current = int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        pass
    return peak, current


def best_of(n: int, fn: Any) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def travel(load: Callable[[], Any], repeats: int = 5) -> dict[str, Any]:
    """What sending a compiled plan to another process costs (pickle's default protocol, as multiprocessing
    uses): the pickled size, and unpickling (a real compile on arrival, without checking or hashing again)
    against the two ways a worker gets a plan without it: a fresh load + compile_plan, and the framework alone
    pickled, then compiled (which checks it again: a pickled framework leaves its kept check behind)."""
    plan = scoring.compile_plan(load())
    blob = pickle.dumps(plan)
    fw_blob = pickle.dumps(plan.framework)
    return {
        "protocol": pickle.DEFAULT_PROTOCOL,
        "plan_bytes": len(blob),
        "framework_bytes": len(fw_blob),
        "unpickle_s": best_of(repeats, lambda: pickle.loads(blob)),
        "fresh_s": best_of(repeats, lambda: scoring.compile_plan(load())),
        "framework_unpickle_compile_s": best_of(repeats, lambda: scoring.compile_plan(pickle.loads(fw_blob))),
        "plan": pickle.loads(blob),  # for the harness to check it scores alike (dropped from the JSON)
    }


def travel_rows(what: str, trip: dict[str, Any], loader: str) -> list[tuple[str, str, str, str]]:
    """The table's rows for one framework's trip: unpickling, and the two ways round it with their ratios."""
    t = trip["unpickle_s"]
    again = trip["framework_unpickle_compile_s"]
    return [
        (f"info: plan unpickled (compiled on arrival), {what}, best of 5", f"{t:.4f} s", "", "info"),
        (
            f"  fresh {loader} + compile_plan / ratio",
            f"{trip['fresh_s']:.4f} s / {trip['fresh_s'] / t:,.1f}×",
            "",
            "",
        ),
        (
            "  framework unpickled + compile_plan (checked again) / ratio",
            f"{again:.4f} s / {again / t:,.1f}×",
            "",
            "",
        ),
    ]


def rounded(figures: dict[str, Any]) -> dict[str, Any]:
    """Seconds to the microsecond for the JSON; counts as they are."""
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in figures.items()}


def verify(
    plan: scoring.Plan, floor_score: Any, floor_detail: Any, spec: Spec, subs: list, idx: list[int]
) -> dict[str, Any]:
    """Assert the floor gives the engine's total, grade and every indicator's points on the submissions
    ``idx``; return what the sample covered (so a reader can see the check is not vacuous)."""
    codes = [leaf["code"] for leaf in spec.leaves] + [
        c for g in spec.groups for c in (g["code"], *(s["code"] for s in g["children"]))
    ]
    statuses: dict[str, int] = {}
    grades: dict[str, int] = {}
    vetoes: dict[str, int] = {}
    rescaled = regraded = capped = 0
    for i in idx:
        sub = subs[i]
        r = scoring.score(plan, sub)
        for ir in r.indicators:
            if ir.kind != "group":
                statuses[ir.status] = statuses.get(ir.status, 0) + 1
            elif "折算" in ir.explanation:
                rescaled += 1
        for v in r.vetoes:
            if v.triggered:
                vetoes[v.code] = vetoes.get(v.code, 0) + 1
        grades[r.grade] = grades.get(r.grade, 0) + 1
        regraded += r.grade != r.grade_before_vetoes
        capped += any(b.code == "cap" for b in r.bonus)
        total, grade, points = floor_detail(sub.unit.type, sub.values, sub.manual)
        t2, g2, firsts = floor_score(sub.unit.type, sub.values, sub.manual)
        assert (t2, g2) == (total, grade), f"floor_score and floor_detail disagree on submission {i}"
        assert tuple(points[g["code"]] for g in spec.groups) == firsts
        engine_points = {ir.code: ir.points for ir in r.indicators}
        assert r.total == total, f"submission {i}: engine total {r.total} != floor {total}"
        assert r.grade == grade, f"submission {i}: engine grade {r.grade} != floor {grade}"
        for code in codes:
            assert engine_points[code] == points[code], (
                f"submission {i}, indicator {code}: engine {engine_points[code]} != floor {points[code]}"
            )
    return {
        "n": len(idx),
        "leaf_statuses": statuses,
        "groups_rescaled": rescaled,
        "vetoes_hit": dict(sorted(vetoes.items())),
        "grade_changed_by_veto": regraded,
        "bonus_capped": capped,
        "grades": {g: grades[g] for g in GRADE_NAMES if g in grades},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--submissions", type=int, default=10_000, help="submissions to score (default 10000)")
    ap.add_argument("--leaves", type=int, default=300, help="leaf indicators in the framework (default 300)")
    ap.add_argument("--seed", type=int, default=1, help="seed for the framework and the submissions")
    ap.add_argument("--verify", type=int, default=1000, help="submissions checked floor == engine (≥ 200)")
    ap.add_argument(
        "--texts",
        type=int,
        default=1000,
        help="submissions scored and written as JSON (information; default 1000)",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also print a cProfile of scoring.score over N submissions (top 15 by tottime)",
    )
    ap.add_argument("--dump", metavar="DIR", help="write the generated framework YAML and floor source here")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    args = ap.parse_args(argv)
    n = args.submissions
    mark = min(1000, n)
    wall = time.perf_counter()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    # 1. framework
    spec = Spec(args.leaves, args.seed)
    text = spec.yaml()
    fw = scoring.load_text(text, "bench-generated.yaml")
    problems = check_framework(fw)
    assert not problems, "generated framework has problems:\n" + "\n".join(str(p) for p in problems)
    plan = scoring.compile_plan(fw)
    leaves = [nd for nd in plan.nodes if nd.rule is not None]
    assert len(leaves) == args.leaves and plan.total == spec.total
    floor_score, floor_detail, floor_src = build_floor(spec)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        with open(os.path.join(args.dump, "bench-generated.yaml"), "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.join(args.dump, "floor.py"), "w", encoding="utf-8") as f:
            f.write(floor_src)

    # 3a. compile
    log("compile: load_text + compile_plan, best of 5 …")
    t_load_compile = best_of(5, lambda: scoring.compile_plan(scoring.load_text(text, "bench-generated.yaml")))
    t_compile = best_of(5, lambda: scoring.compile_plan(fw))
    log(
        "travel: pickled plan size, unpickle vs fresh load + compile, best of 5 (this framework, demo-school) …"
    )
    trip = travel(lambda: scoring.load_text(text, "bench-generated.yaml"))
    demo_path = find_framework("demo-school")
    assert demo_path is not None, "demo-school is not among the shipped frameworks"
    demo_trip = travel(lambda: scoring.load_framework(demo_path))

    # 2. submissions, before any timing of scoring
    log(f"generating {n:,} submissions …")
    subs, sub_info = make_submissions(spec, n, args.seed)
    # The harness keeps every submission alive; freeze them so the collector's full passes do not rescan
    # the harness's data (a service reads a submission, scores it and lets it go). Engine and floor alike.
    gc.collect()
    gc.freeze()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None

    # 3b + 3c + 3d. engine and floor over the same submissions, sequential, results discarded, alternating in
    # blocks of BLOCK so that both see the same machine (the ratio is not skewed by a busy minute); the engine's
    # RSS after 1,000 and after all
    log(f"engine and floor: scoring {n:,} submissions each, alternating in blocks of {BLOCK:,} …")
    score = scoring.score
    rss_start = rss_kib()
    rss_mark = rss_start
    t_engine = t_floor = cpu_engine = 0.0
    wall0 = time.perf_counter()
    for start in range(0, n, BLOCK):
        block = subs[start : start + BLOCK]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        for i, sub in enumerate(block, start + 1):
            score(plan, sub)
            if i == mark:
                t_mark = time.perf_counter()
                rss_mark = rss_kib()
                t0 += time.perf_counter() - t_mark  # reading /proc is not scoring
        t_engine += time.perf_counter() - t0
        cpu_engine += time.process_time() - cpu0
        t0 = time.perf_counter()
        for sub in block:
            floor_score(sub.unit.type, sub.values, sub.manual)
        t_floor += time.perf_counter() - t0
        if (start + len(block)) % max(BLOCK, n // 10) == 0 or start + BLOCK >= n:
            done = start + len(block)
            log(
                f"  {done:>6,}/{n:,}  engine {done / t_engine:8,.0f} subs/s  floor {done / t_floor:8,.0f} subs/s"
                f"  elapsed {time.perf_counter() - wall0:6.1f} s"
            )
    rss_end = rss_kib()
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    m_texts = min(n, args.texts)
    log(f"objects: scoring {m_texts:,} submissions and reading each result's indicators …")
    t0 = time.perf_counter()
    for sub in subs[:m_texts]:
        score(plan, sub).indicators  # noqa: B018 (built when first read)
    t_objects = time.perf_counter() - t0
    objects_rate = m_texts / t_objects if m_texts else 0.0
    log(f"texts: scoring {m_texts:,} submissions and writing each result as JSON …")
    t0 = time.perf_counter()
    for sub in subs[:m_texts]:
        score(plan, sub).to_json()
    t_texts = time.perf_counter() - t0
    texts_rate = m_texts / t_texts if m_texts else 0.0
    n_verify = min(n, max(200, args.verify))
    idx = sorted(random.Random(args.seed + 1).sample(range(n), n_verify))
    log(f"verify: floor == engine on {n_verify:,} submissions (total, grade, every indicator) …")
    verified = verify(plan, floor_score, floor_detail, spec, subs, idx)
    travelled = trip.pop("plan")
    demo_trip.pop("plan")
    checked_travel = idx[:200]
    assert all(score(travelled, subs[i]) == score(plan, subs[i]) for i in checked_travel), (
        "unpickled plan differs"
    )

    engine_rate = n / t_engine
    floor_rate = n / t_floor
    ratio = t_engine / t_floor
    peak_growth = 100.0 * (rss_end[0] - rss_mark[0]) / rss_mark[0]
    cur_growth = 100.0 * (rss_end[1] - rss_mark[1]) / rss_mark[1] if rss_mark[1] else 0.0
    growth = max(peak_growth, cur_growth)
    checks = {
        "compile": t_load_compile < TARGETS["compile_s"],
        "throughput": engine_rate >= TARGETS["subs_per_s"],
        "floor_ratio": ratio <= TARGETS["ratio"],
        "memory": growth < TARGETS["mem_growth_pct"],
    }
    ok = lambda b: "PASS" if b else "FAIL"  # noqa: E731
    st = spec.stats()
    cpus = os.cpu_count()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    mib = lambda k: f"{k / 1024:,.1f} MiB"  # noqa: E731

    print("督评 scoring engine benchmark (benchmarks/engine.py)")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.system()} "
        f"{platform.machine()}; CPUs: {cpus} (usable {affinity}); engine run: 1 process, sequential, "
        f"CPU/wall {cpu_engine / t_engine:.2f}"
    )
    if load_before is not None and load_after is not None:
        busy = (
            " (other processes were competing for the CPUs)"
            if max(load_before[0], load_after[0]) > 1.5
            else ""
        )
        print(
            f"load average (1 min) before / after the engine run: {load_before[0]:.2f} / {load_after[0]:.2f}"
            f"{busy}"
        )
    kinds = ", ".join(f"{k} {v}" for k, v in st["kinds"].items())
    print(
        f"framework: {st['leaves']} leaves ({kinds}); {st['first_level']} first-level / "
        f"{st['second_level']} second-level groups; {st['inputs']} inputs, {st['derived']} derived; "
        f"total {st['total']}; {st['not_applicable_leaves']} leaves apply to one unit type only"
    )
    print(
        f"submissions: {n:,} (seed {args.seed}); 小学 {sub_info['unit_types']['小学']:,} / 初中 "
        f"{sub_info['unit_types']['初中']:,}; {sub_info['values_missing_pct']}% values missing; "
        f"{sub_info['manual_missing_pct']}% manual ratings missing"
    )
    print()
    rows = [
        (
            "compile: load_text + compile_plan (best of 5)",
            f"{t_load_compile:.3f} s",
            "< 0.2 s",
            ok(checks["compile"]),
        ),
        (
            "compile: compile_plan alone (best of 5)",
            f"{t_compile:.3f} s",
            "(< 0.2 s)",
            ok(t_compile < TARGETS["compile_s"]),
        ),
        (
            "engine throughput (scoring.score, 1 core)",
            f"{engine_rate:,.0f} subs/s",
            "≥ 1,000 subs/s",
            ok(checks["throughput"]),
        ),
        ("  engine time / per submission", f"{t_engine:.2f} s / {1000 * t_engine / n:.3f} ms", "", ""),
        ("floor throughput (hand-coded Decimal)", f"{floor_rate:,.0f} subs/s", "", ""),
        ("  floor time / per submission", f"{t_floor:.2f} s / {1000 * t_floor / n:.3f} ms", "", ""),
        ("ratio engine / floor (slowdown)", f"{ratio:.1f}×", "≤ 5×", ok(checks["floor_ratio"])),
        (
            f"info: scoring + result.indicators read ({m_texts:,})",
            f"{objects_rate:,.0f} subs/s",
            "",
            "info",
        ),
        (
            f"info: scoring + every text written, as JSON ({m_texts:,})",
            f"{texts_rate:,.0f} subs/s",
            "",
            "info",
        ),
        (
            f"info: plan pickled (protocol {trip['protocol']}), {args.leaves} leaves / demo-school",
            f"{trip['plan_bytes']:,} B / {demo_trip['plan_bytes']:,} B",
            "",
            "info",
        ),
        *travel_rows(f"{args.leaves} leaves", trip, "load_text"),
        *travel_rows("demo-school", demo_trip, "load_framework(file)"),
        (f"peak RSS after {mark:,} / {n:,}", f"{mib(rss_mark[0])} / {mib(rss_end[0])}", "", ""),
        (f"current RSS after {mark:,} / {n:,}", f"{mib(rss_mark[1])} / {mib(rss_end[1])}", "", ""),
        (
            "memory growth (peak RSS; current RSS)",
            f"{peak_growth:+.1f} %; {cur_growth:+.1f} %",
            "< 10 %",
            ok(checks["memory"]),
        ),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'metric':<{w0}}  {'value':>{w1}}  {'target':<15} result")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * 15} ------")
    for a, b, c, d in rows:
        print(f"{a:<{w0}}  {b:>{w1}}  {c:<15} {d}")
    print()
    print(
        f"verified: floor == engine on {verified['n']:,} submissions (total, grade and the points of all "
        f"{len(plan.nodes)} indicators each); the sample covered"
    )
    print(
        "  leaf statuses "
        + ", ".join(f"{k} {v:,}" for k, v in verified["leaf_statuses"].items())
        + f"; {verified['groups_rescaled']:,} group results rescaled for 不适用 leaves"
    )
    print(
        f"  vetoes hit {verified['vetoes_hit']}, grade changed by a veto {verified['grade_changed_by_veto']}, "
        f"bonus capped {verified['bonus_capped']}; grades {verified['grades']}"
    )
    print(
        f"overall: {'PASS' if all(checks.values()) else 'FAIL'} "
        f"({', '.join(f'{k} {ok(v)}' for k, v in checks.items())}); run took {time.perf_counter() - wall:.1f} s"
    )

    if args.profile:
        m = min(args.profile, n)
        log(f"profile: cProfile of scoring.score over {m:,} submissions …")
        prof = cProfile.Profile()
        prof.enable()
        for sub in subs[:m]:
            score(plan, sub)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
        print()
        print(f"cProfile: scoring.score over {m:,} submissions, top 15 by tottime")
        print(buf.getvalue().rstrip())

    if args.json:
        print(
            json.dumps(
                {
                    "python": platform.python_version(),
                    "implementation": platform.python_implementation(),
                    "platform": platform.platform(),
                    "cpu_count": cpus,
                    "cpu_usable": affinity,
                    "loadavg_before_after": [load_before, load_after],
                    "args": {"submissions": n, "leaves": args.leaves, "seed": args.seed, "verify": n_verify},
                    "framework": st,
                    "submissions": sub_info,
                    "compile_load_s": round(t_load_compile, 6),
                    "compile_plan_s": round(t_compile, 6),
                    "engine_s": round(t_engine, 4),
                    "engine_cpu_s": round(cpu_engine, 4),
                    "engine_subs_per_s": round(engine_rate, 1),
                    "floor_s": round(t_floor, 4),
                    "floor_subs_per_s": round(floor_rate, 1),
                    "ratio_engine_over_floor": round(ratio, 2),
                    "texts_submissions": m_texts,
                    "texts_subs_per_s": round(texts_rate, 1),
                    "objects_subs_per_s": round(objects_rate, 1),
                    "travel": {
                        "generated": rounded(trip),
                        "demo_school": rounded(demo_trip),
                        "unpickled_plan_scored_equal_on": len(checked_travel),
                    },
                    "peak_rss_kib": {"start": rss_start[0], "after_mark": rss_mark[0], "end": rss_end[0]},
                    "current_rss_kib": {"start": rss_start[1], "after_mark": rss_mark[1], "end": rss_end[1]},
                    "mark": mark,
                    "peak_rss_growth_pct": round(peak_growth, 2),
                    "current_rss_growth_pct": round(cur_growth, 2),
                    "verified": verified,
                    "targets": TARGETS,
                    "pass": checks,
                    "all_pass": all(checks.values()),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    return 1 if args.check and not all(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
