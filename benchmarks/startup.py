#!/usr/bin/env python3
"""Benchmark of the ``scoring`` command's start-up against its targets, in CPU seconds of whole processes.

Run from the repository root with the package installed (see benchmarks/README.md)::

    python benchmarks/startup.py [--repeats N] [--warmup N] [--bytecode cached|env] [--json] [--check]

What it does, in one run:

1. finds the ``scoring`` console script beside this Python (else on PATH) and the commands to time:
   the yardstick ``python -c "import click, pydantic"`` (the two libraries the command is built on, imported
   and nothing else), ``scoring --help``, ``scoring frameworks`` and ``scoring validate frameworks/``;
2. runs every command ``--warmup`` times uncounted (file caches; with ``--bytecode cached``, writing the
   bytecode of everything imported into a private, temporary cache), then ``--repeats`` rounds in which each
   command runs once, the order rotating from round to round, so that a slow minute of the machine falls on
   all of them alike;
3. takes each run's CPU time (user + system) of the finished child from ``os.wait4`` — the operating system's
   accounting, not a clock — and its wall time, and checks its exit status (all must exit 0);
4. prints, per command, the median and the minimum, and the ratios against the import line and against
   ``--help``: the ratio of the medians and the median of the per-round ratios (each round runs the commands
   within a second of each other); the targets are judged on the per-round ratio, PASS or FAIL.

The commands run from the repository root with the environment of this process, except for bytecode: by default
(``--bytecode cached``) ``PYTHONPYCACHEPREFIX`` points at a temporary directory and ``PYTHONDONTWRITEBYTECODE`` is
removed, so every module is loaded from bytecode as in an installed package, whatever the state of the checkout;
``--bytecode env`` keeps the environment as it is (with ``PYTHONDONTWRITEBYTECODE=1`` and no ``__pycache__`` in the
checkout, the package's own modules are then compiled on every run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TARGETS = {
    "help_over_import": 3.0,  # scoring --help ÷ python -c "import click, pydantic"
    "frameworks_over_help": 1.5,  # scoring frameworks ÷ scoring --help
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def scoring_script() -> str:
    """The console script installed with this Python, else the one on PATH."""
    here = Path(sys.executable).parent / "scoring"
    if here.is_file():
        return str(here)
    found = shutil.which("scoring")
    if found is None:
        raise SystemExit("no `scoring` command beside this Python or on PATH: install the package first")
    return found


def commands() -> dict[str, list[str]]:
    script = scoring_script()
    return {
        "import": [sys.executable, "-c", "import click, pydantic"],
        "help": [script, "--help"],
        "frameworks": [script, "frameworks"],
        "validate": [script, "validate", "frameworks/"],
    }


LABELS = {
    "import": 'python -c "import click, pydantic"',
    "help": "scoring --help",
    "frameworks": "scoring frameworks",
    "validate": "scoring validate frameworks/",
}


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """CPU seconds (user + system) and wall seconds of one run of ``argv``, and its exit status."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    return usage.ru_utime + usage.ru_stime, wall, proc.returncode


def environment(mode: str, cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    if mode == "cached":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def measure(
    cmds: dict[str, list[str]], env: dict[str, str], repeats: int, warmup: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[str]]:
    """Per command, the CPU and wall seconds of each counted run (in round order); and any failed runs."""
    names = list(cmds)
    failures: list[str] = []
    for i in range(warmup):
        log(f"warm-up {i + 1}/{warmup} …")
        for name in names:
            _, _, code = run_once(cmds[name], env)
            if code != 0:
                failures.append(f"{LABELS[name]} exited {code} (warm-up)")
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        if r % 5 == 0:
            log(f"round {r + 1}/{repeats} …")
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            c, w, code = run_once(cmds[name], env)
            if code != 0:
                failures.append(f"{LABELS[name]} exited {code} (round {r + 1})")
            cpu[name].append(c)
            wall[name].append(w)
    return cpu, wall, failures


def ratios(cpu: dict[str, list[float]], a: str, b: str) -> tuple[float, float, float, float]:
    """a ÷ b: the ratio of the medians, and the median, min and max of the per-round ratios."""
    per_round = [x / y for x, y in zip(cpu[a], cpu[b], strict=True)]
    return (
        statistics.median(cpu[a]) / statistics.median(cpu[b]),
        statistics.median(per_round),
        min(per_round),
        max(per_round),
    )


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("duping-scoring", "click", "pydantic", "pyyaml"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "?"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15, help="counted rounds, each command once (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="uncounted rounds first (default 2)")
    ap.add_argument(
        "--bytecode",
        choices=("cached", "env"),
        default="cached",
        help="cached: a private bytecode cache, as installed (default); env: the environment as it is",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target fails or a command fails")
    args = ap.parse_args(argv)
    if args.repeats < 3 or args.warmup < 1:
        raise SystemExit("--repeats must be at least 3, --warmup at least 1")

    wall0 = time.perf_counter()
    cmds = commands()
    cache = Path(tempfile.mkdtemp(prefix="bench-startup-pyc-"))
    try:
        env = environment(args.bytecode, cache)
        load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
        cpu, wall, failures = measure(cmds, env, args.repeats, args.warmup)
        load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    med = {n: statistics.median(v) for n, v in cpu.items()}
    low = {n: min(v) for n, v in cpu.items()}
    help_imp = ratios(cpu, "help", "import")
    fw_help = ratios(cpu, "frameworks", "help")
    checks = {
        "help_over_import": help_imp[1] <= TARGETS["help_over_import"],
        "frameworks_over_help": fw_help[1] <= TARGETS["frameworks_over_help"],
        "commands_exit_0": not failures,
    }
    ok = lambda b: "PASS" if b else "FAIL"  # noqa: E731
    v = versions()
    cpus = os.cpu_count()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus

    print("督评 scoring start-up benchmark (benchmarks/startup.py)")
    print(
        f"Python {v['python']} ({platform.python_implementation()}) on {platform.system()} {platform.machine()}; "
        f"CPUs: {cpus} (usable {affinity}); duping-scoring {v['duping-scoring']}, click {v['click']}, "
        f"pydantic {v['pydantic']}, PyYAML {v['pyyaml']}"
    )
    print(
        f"{args.repeats} rounds after {args.warmup} warm-up, order rotating; CPU = user + system of each child "
        f"(os.wait4); bytecode: "
        + (
            "private cache (PYTHONPYCACHEPREFIX), as installed"
            if args.bytecode == "cached"
            else "as the environment has it"
            + (" (PYTHONDONTWRITEBYTECODE=1)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "")
        )
    )
    if load_before is not None and load_after is not None:
        busy = (
            " (other processes were competing for the CPUs)"
            if max(load_before[0], load_after[0]) > 1.5
            else ""
        )
        print(f"load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}{busy}")
    print()
    w0 = max(len(s) for s in LABELS.values())
    print(
        f"{'command':<{w0}}  {'CPU median':>10}  {'CPU min':>8}  {'wall median':>11}  {'÷ import':>8}  {'÷ --help':>8}"
    )
    print(f"{'-' * w0}  {'-' * 10}  {'-' * 8}  {'-' * 11}  {'-' * 8}  {'-' * 8}")
    for n in cmds:
        print(
            f"{LABELS[n]:<{w0}}  {med[n]:>8.3f} s  {low[n]:>6.3f} s  {statistics.median(wall[n]):>9.3f} s  "
            f"{med[n] / med['import']:>7.2f}×  {med[n] / med['help']:>7.2f}×"
        )
    print()
    rows = [
        (
            "scoring --help ÷ import click, pydantic",
            f"{help_imp[1]:.2f}× (rounds {help_imp[2]:.2f}–{help_imp[3]:.2f}×; medians {help_imp[0]:.2f}×)",
            "≤ 3×",
            ok(checks["help_over_import"]),
        ),
        (
            "scoring frameworks ÷ scoring --help",
            f"{fw_help[1]:.2f}× (rounds {fw_help[2]:.2f}–{fw_help[3]:.2f}×; medians {fw_help[0]:.2f}×)",
            "≤ 1.5×",
            ok(checks["frameworks_over_help"]),
        ),
        (
            "info: scoring validate frameworks/ ÷ scoring --help",
            f"{ratios(cpu, 'validate', 'help')[1]:.2f}×",
            "",
            "info",
        ),
    ]
    r0 = max(len(r[0]) for r in rows)
    r1 = max(len(r[1]) for r in rows)
    print(f"{'ratio (median of the per-round ratios)':<{r0}}  {'value':<{r1}}  {'target':<7} result")
    print(f"{'-' * r0}  {'-' * r1}  {'-' * 7} ------")
    for a, b, c, d in rows:
        print(f"{a:<{r0}}  {b:<{r1}}  {c:<7} {d}")
    for f in failures:
        print(f"FAILED RUN: {f}")
    print()
    print(
        f"overall: {'PASS' if all(checks.values()) else 'FAIL'} "
        f"({', '.join(f'{k} {ok(x)}' for k, x in checks.items())}); run took {time.perf_counter() - wall0:.1f} s"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "versions": v,
                    "platform": platform.platform(),
                    "cpu_count": cpus,
                    "cpu_usable": affinity,
                    "loadavg_before_after": [load_before, load_after],
                    "args": {"repeats": args.repeats, "warmup": args.warmup, "bytecode": args.bytecode},
                    "cpu_s": {n: [round(x, 6) for x in xs] for n, xs in cpu.items()},
                    "wall_s": {n: [round(x, 6) for x in xs] for n, xs in wall.items()},
                    "cpu_median_s": {n: round(x, 6) for n, x in med.items()},
                    "cpu_min_s": {n: round(x, 6) for n, x in low.items()},
                    "help_over_import": {
                        "per_round_median": round(help_imp[1], 4),
                        "of_medians": round(help_imp[0], 4),
                    },
                    "frameworks_over_help": {
                        "per_round_median": round(fw_help[1], 4),
                        "of_medians": round(fw_help[0], 4),
                    },
                    "targets": TARGETS,
                    "checks": checks,
                    "failures": failures,
                },
                ensure_ascii=False,
            )
        )
    return 0 if (all(checks.values()) or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
