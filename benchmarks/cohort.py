#!/usr/bin/env python3
"""Benchmark of the county evaluation (``scoring cohort``) against its size and speed targets.

Run from the repository root with the package installed (see benchmarks/README.md)::

    python benchmarks/cohort.py [--sizes 2000,20000,100000] [--seed S] [--stages] [--json] [--check]

What it does, in one run:

1. generates (seeded, deterministic, before any timing) one county statistics table per size, with the columns of
   the example county (examples/ysjh-2017/schools.csv: 学校名称, 学校类型 and the 14 inputs of ysjh-2017-school by
   their Chinese labels) plus 学校代码: 小学 (some of them 教学点, a third of those under 50 pupils), 初中,
   九年一贯制学校, 十二年一贯制学校 and 完全中学, each school's resources drawn around the official standards so
   that most schools pass and some do not; names and codes are unique, so every row is one school;
2. runs the real command on each, in a fresh process, as a user would, twice:
   a. ``scoring cohort ysjh-2017 TABLE --county examples/ysjh-2017/county.yaml -o DIR --format json,md`` — the
      targets are judged on these runs; every run must exit 0 with the evaluated units, 不参评 rows and refused
      rows (none) the generator predicts;
   b. the same with the default formats (json, xlsx, md): a table longer than the workbook's limit
      (scoring.report.cohort.MAX_WORKBOOK_ROWS) must be refused at once (exit 1, the limit stated); a shorter one
      must give what run a gave;
   taking wall time and the child's CPU time and peak RSS from ``os.wait4``;
3. with ``--stages``, times the stages once more per size inside one process each (``read_table``,
   ``score_cohort``, ``to_json``, ``markdown`` and, up to the workbook limit, ``write_workbook``);
4. prints a table with the growth ratios and PASS/FAIL against the targets (20,000 ÷ 2,000 ≤ 11×; 100,000 schools
   in under 60 s; peak RSS growing no faster than the number of units; the refusal within 5 s) and, with
   ``--json``, the figures as JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ysjh-2017"
SIZES = (2_000, 20_000, 100_000)
TARGETS = {
    "ratio_20k_2k": 11.0,  # time(20,000) ÷ time(2,000)
    "seconds_100k": 60.0,  # the 100,000-school table, whole command
    "rss_growth_over_units": 1.1,  # (peak RSS ratio) ÷ (units ratio), largest over smallest size
    "refusal_seconds": 5.0,  # a table over the workbook's limit, default formats: refused at once
}
# type, share of schools; a 小学 may be a 教学点
TYPES = (
    ("小学", 52),
    ("教学点", 6),
    ("初中", 24),
    ("九年一贯制学校", 9),
    ("十二年一贯制学校", 3),
    ("完全中学", 6),
)
TOWNS = ("城关", "河西", "柳庄", "石门", "北岭", "南山", "东关", "西营", "高桥", "新集")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def columns() -> list[str]:
    """The example county's header with 学校代码 after the name."""
    header = (EXAMPLE / "schools.csv").read_text("utf-8-sig").splitlines()[0].split(",")
    return [header[0], "学校代码", *header[1:]]


def school(rng: random.Random, i: int) -> tuple[list[Any], int, int]:
    """One school's row (in :func:`columns` order, from 小学在校生数 on as the example has them), the evaluated units
    it makes and whether it is left out (a 教学点 under 50 pupils)."""
    kind = rng.choices([t for t, _ in TYPES], weights=[w for _, w in TYPES])[0]
    q = rng.uniform(0.85, 1.6)  # how well the school is provided for: 1 = exactly at the standards

    def per(pupils: int, standard: float) -> float:
        return pupils * standard * q * rng.uniform(0.9, 1.15)

    p = j = s = 0
    point = kind == "教学点"
    if kind in ("小学", "教学点"):
        p = rng.randint(10, 120) if point else rng.randint(150, 2_400)
    elif kind == "初中":
        j = rng.randint(200, 2_200)
    elif kind == "九年一贯制学校":
        p, j = rng.randint(200, 1_200), rng.randint(150, 900)
    elif kind == "十二年一贯制学校":
        p, j, s = rng.randint(200, 1_000), rng.randint(150, 800), rng.randint(150, 800)
    else:  # 完全中学
        j, s = rng.randint(300, 1_400), rng.randint(300, 1_600)
    weighted = p + 1.1 * j + 1.32 * s  # the official split weights (see README)
    cells: list[Any] = [p or "", j or "", s or ""]
    cells += [round(per(p, 4.2) / 100) if p else "", round(per(j, 5.3) / 100) if j else ""]  # L1
    cells += [round(per(p, 1.0) / 100) if p else "", round(per(j, 1.0) / 100) if j else ""]  # L2
    cells += [round(per(p, 0.9) / 100) if p else "", round(per(j, 0.9) / 100) if j else ""]  # L3
    cells += [
        round(per(int(weighted), 5.0)),  # L4 (小学 4.5, 初中 5.8 per weighted pupil)
        round(per(int(weighted), 8.5)),  # L5
        round(per(int(weighted), 2_200)),  # L6
        max(1, round(per(int(weighted), 2.35) / 100)),  # L7
        "是" if point else "否",
    ]
    name = f"{TOWNS[i % len(TOWNS)]}{'教学点' if point else kind}{i + 1}"
    left = point and p < 50
    units = 0 if left else (int(p > 0) + int(j > 0) if kind != "完全中学" else 1)
    return [name, f"{43_000_000 + i}", "小学" if point else kind, *cells], units, int(left)


def generate(n: int, seed: int, path: Path) -> tuple[int, int]:
    """Write a table of ``n`` schools; the evaluated units and the 不参评 rows it should give."""
    rng = random.Random(f"{seed}:{n}")
    units = left = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns())
        for i in range(n):
            row, u, out = school(rng, i)
            writer.writerow(row)
            units += u
            left += out
    return units, left


def run_command(table: Path, out: Path, formats: str | None) -> dict[str, Any]:
    """The whole command in a fresh process: wall and CPU seconds, peak RSS, exit status and what it printed."""
    script = Path(sys.executable).parent / "scoring"
    argv = [str(script) if script.is_file() else "scoring", "cohort", "ysjh-2017", str(table)]
    argv += ["--county", str(EXAMPLE / "county.yaml"), "-o", str(out)]
    argv += ["--format", formats] if formats else []
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as stdout:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=stdout, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
        stdout.seek(0)
        text = stdout.read().decode("utf-8", "replace")
    found = re.search(r"评估单位 (\d+) 个，达标 (\d+) 个；不参评 (\d+) 行，未能评估 (\d+) 行", text)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "exit": proc.returncode,
        "units": int(found.group(1)) if found else None,
        "passed": int(found.group(2)) if found else None,
        "left": int(found.group(3)) if found else None,
        "refused": int(found.group(4)) if found else None,
        "verdict": text.splitlines()[0] if text else "",
        "refusal": text.strip() if "table-too-long" in text else "",
        "output": text[-2000:] if proc.returncode != 0 or not found else "",
    }


def stages(table: Path, out: Path) -> dict[str, float]:
    """Each stage once, in this process (run as a child: see ``--stage-of``)."""
    import resource

    import scoring
    from scoring.engine.cohort import needed_inputs, score_cohort
    from scoring.engine.plan import compile_plan
    from scoring.framework.load import unit_framework
    from scoring.io.table import read_table
    from scoring.report.cohort import MAX_WORKBOOK_ROWS, markdown, write_workbook

    county = scoring.load_framework("ysjh-2017")
    county_sub = scoring.read_submission(EXAMPLE / "county.yaml")
    plan = compile_plan(unit_framework(county))
    times: dict[str, float] = {}
    t = time.perf_counter()
    subs, failures = read_table(table, plan, needed=needed_inputs(county, plan))
    times["read_table"] = time.perf_counter() - t
    t = time.perf_counter()
    result = score_cohort(county, subs, county_sub, failures=failures)
    times["score_cohort"] = time.perf_counter() - t
    t = time.perf_counter()
    result.to_json()
    times["to_json"] = time.perf_counter() - t
    t = time.perf_counter()
    markdown(result)
    times["markdown"] = time.perf_counter() - t
    if len(subs) + len(failures) <= MAX_WORKBOOK_ROWS:  # the rows read (excluded ones are among subs)
        t = time.perf_counter()
        write_workbook(result, out / "stages.xlsx")
        times["write_workbook"] = time.perf_counter() - t
    times["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times


def stages_in_child(table: Path, out: Path) -> dict[str, float]:
    argv = [sys.executable, __file__, "--stage-of", str(table), "--keep", str(out)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def measure(
    sizes: list[int], seed: int, with_stages: bool, work: Path
) -> tuple[dict[int, Any], dict[int, Any]]:
    """Per size, the run with ``--format json,md`` and the run with the default formats."""
    runs: dict[int, dict[str, Any]] = {}  # --format json,md
    full: dict[int, dict[str, Any]] = {}  # default formats (json, xlsx, md)
    for n in sizes:
        table = work / f"county-{n}.csv"
        log(f"generating {n:,} schools …")
        units, left = generate(n, seed, table)
        expected = {
            "schools": n,
            "expected_units": units,
            "expected_left": left,
            "bytes": table.stat().st_size,
        }
        log(f"scoring cohort --format json,md over {n:,} schools ({units:,} units expected) …")
        runs[n] = {**run_command(table, work / f"out-{n}", "json,md"), **expected}
        log("  … and with the default formats (json, xlsx, md)")
        full[n] = {**run_command(table, work / f"full-{n}", None), **expected}
        if with_stages:
            log("  stages …")
            runs[n]["stages"] = stages_in_child(table, work / f"out-{n}")
    return runs, full


def mismatches(runs: dict[int, Any], full: dict[int, Any], limit: int) -> list[str]:
    """Runs that did not do what the generator predicts (or, over the workbook's limit, were not refused)."""

    def counted(r: dict[str, Any]) -> bool:
        got = (r["exit"], r["units"], r["left"], r["refused"])
        return got == (0, r["expected_units"], r["expected_left"], 0)

    out = [
        f"json,md {n:,}: exit {r['exit']}, units {r['units']}\n{r['output']}"
        for n, r in runs.items()
        if not counted(r)
    ]
    for n, r in full.items():
        if n > limit and not (r["exit"] == 1 and r["refusal"]):
            out.append(f"default {n:,}: not refused (exit {r['exit']})\n{r['output']}")
        if n <= limit and not counted(r):
            out.append(f"default {n:,}: exit {r['exit']}, units {r['units']}\n{r['output']}")
    return out


def print_runs(sizes: list[int], runs: dict[int, Any], full: dict[int, Any], with_stages: bool) -> None:
    head = f"{'schools':>8}  {'units':>7}  {'left out':>8}  {'CSV MB':>6}  {'formats':<12}  {'exit':>4}  "
    head += f"{'wall s':>7}  {'CPU s':>7}  {'ms/unit':>7}  {'peak RSS MB':>11}  {'KB/unit':>7}"
    print(head)
    print("-" * len(head))
    for n in sizes:
        for label, r in (("json,md", runs[n]), ("json,xlsx,md", full[n])):
            print(
                f"{n:>8,}  {r['expected_units']:>7,}  {r['expected_left']:>8,}  {r['bytes'] / 2**20:>6.1f}  "
                f"{label:<12}  {r['exit']:>4}  {r['wall']:>7.2f}  {r['cpu']:>7.2f}  "
                f"{1000 * r['wall'] / max(r['expected_units'], 1):>7.3f}  {r['rss_mb']:>11.0f}  "
                f"{r['rss_mb'] * 1024 / max(r['expected_units'], 1):>7.1f}"
                + ("  (refused: over the workbook's limit)" if r["refusal"] else "")
            )
    if with_stages:
        print()
        names = ["read_table", "score_cohort", "to_json", "markdown", "write_workbook"]
        print(f"{'schools':>8}  " + "  ".join(f"{s:>14}" for s in names) + f"  {'RSS MB':>7}")
        for n, r in runs.items():
            st = r["stages"]
            cells = [f"{st[s]:>12.2f} s" if s in st else f"{'—':>14}" for s in names]
            print(f"{n:>8,}  " + "  ".join(cells) + f"  {st['rss_mb']:>7.0f}")


def verdicts(
    sizes: list[int], runs: dict[int, Any], full: dict[int, Any], problems: list[str], limit: int
) -> tuple[dict[str, bool], dict[str, float], list[str]]:
    """The targets judged (PASS or FAIL), the ratios, and the lines that say so."""
    small, big = sizes[0], sizes[-1]
    mid = sizes[1] if len(sizes) > 2 else small
    ratio_mid = runs[sizes[1]]["wall"] / runs[small]["wall"]
    ratio_big = runs[big]["wall"] / runs[mid]["wall"]
    units_ratio = runs[big]["expected_units"] / runs[small]["expected_units"]
    rss_growth = (runs[big]["rss_mb"] / runs[small]["rss_mb"]) / units_ratio
    marginal = (runs[big]["rss_mb"] - runs[mid]["rss_mb"]) * 1024
    marginal /= max(runs[big]["expected_units"] - runs[mid]["expected_units"], 1)
    refused = [r["wall"] for n, r in full.items() if n > limit]
    checks = {
        "ratio_20k_2k": ratio_mid <= TARGETS["ratio_20k_2k"],
        "seconds_100k": runs[big]["wall"] < TARGETS["seconds_100k"],
        "rss_growth_over_units": rss_growth <= TARGETS["rss_growth_over_units"],
        "refused_at_once": all(t < TARGETS["refusal_seconds"] for t in refused),
        "runs_as_predicted": not problems,
    }
    ok = {True: "PASS", False: "FAIL"}
    lines = [
        f"json,md: time {sizes[1]:,} ÷ {small:,}: {ratio_mid:.2f}× (schools ×{sizes[1] / small:.0f}; target ≤ "
        f"{TARGETS['ratio_20k_2k']:.0f}×)  {ok[checks['ratio_20k_2k']]}",
        f"json,md: time {big:,} ÷ {mid:,}: {ratio_big:.2f}× (schools ×{big / mid:.0f}; info)",
        f"json,md: {big:,} schools: {runs[big]['wall']:.1f} s (target < {TARGETS['seconds_100k']:.0f} s)  "
        f"{ok[checks['seconds_100k']]}",
        f"json,md: peak RSS {big:,} ÷ {small:,}: {runs[big]['rss_mb'] / runs[small]['rss_mb']:.2f}× for "
        f"{units_ratio:.1f}× the units (growth ÷ units {rss_growth:.2f}, target ≤ "
        f"{TARGETS['rss_growth_over_units']}; {marginal:.1f} KB per unit from {mid:,} to {big:,})  "
        f"{ok[checks['rss_growth_over_units']]}",
    ]
    if refused:
        lines.append(
            f"default formats over {limit:,} schools: refused, the limit stated, in {max(refused):.2f} s "
            f"(target < {TARGETS['refusal_seconds']:.0f} s)  {ok[checks['refused_at_once']]}"
        )
    lines.append(f"every run as the generator predicts: {ok[checks['runs_as_predicted']]}")
    lines += [f"  ✗ {p}" for p in problems]
    lines.append(f"overall: {ok[all(checks.values())]}")
    ratios = {"time_mid_small": ratio_mid, "time_big_mid": ratio_big, "rss_growth": rss_growth}
    return checks, ratios, lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="schools per table (default 2000,20000,100000)"
    )
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--stages", action="store_true", help="also time the stages inside one process per size")
    ap.add_argument("--keep", help="write the tables and outputs here (kept) instead of a temporary folder")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target fails or a run fails")
    ap.add_argument("--stage-of", help=argparse.SUPPRESS)  # internal: time the stages of one table
    args = ap.parse_args(argv)
    if args.stage_of:
        print(json.dumps(stages(Path(args.stage_of), Path(args.keep))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if len(sizes) < 2 or sorted(sizes) != sizes:
        raise SystemExit("--sizes: at least two sizes, smallest first")
    from scoring.report.cohort import MAX_WORKBOOK_ROWS

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-cohort-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    try:
        runs, full = measure(sizes, args.seed, args.stages, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()[0]
    problems = mismatches(runs, full, MAX_WORKBOOK_ROWS)
    checks, ratios, lines = verdicts(sizes, runs, full, problems, MAX_WORKBOOK_ROWS)

    print("督评 scoring county benchmark (benchmarks/cohort.py)")
    print(
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}; CPUs: {os.cpu_count()}; "
        f"seed {args.seed}; load average (1 min) before / after {load_before:.2f} / {load_after:.2f}; "
        f"run took {time.perf_counter() - started:.0f} s"
    )
    print("scoring cohort ysjh-2017 TABLE --county examples/ysjh-2017/county.yaml -o DIR [--format json,md]")
    print()
    print_runs(sizes, runs, full, args.stages)
    print()
    print("\n".join(lines))
    if args.json:
        strip = lambda r: {k: v for k, v in r.items() if k != "output"}  # noqa: E731
        figures = {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "seed": args.seed,
            "load": [load_before, load_after],
            "runs_json_md": {str(n): strip(r) for n, r in runs.items()},
            "runs_default": {str(n): strip(r) for n, r in full.items()},
            "ratios": ratios,
            "targets": TARGETS,
            "checks": checks,
        }
        print(json.dumps(figures, ensure_ascii=False))
    return 1 if args.check and not all(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
