#!/usr/bin/env python3
"""Benchmark of the cluster executor: the same batch on 2 local processes and on a Dask cluster of 2 workers.

Run from the repository root with the package and its cluster extra installed (see benchmarks/README.md)::

    python benchmarks/cluster.py [--files 2000] [--inputs 250] [--seed 1] [--repeats 2] [--json] [--check]

What it does, in one run:

1. generates (seeded; not timed; kept and reused with ``--keep``) the Excel benchmark's framework with ``--inputs``
   inputs (benchmarks/excel.py: every input type, thresholds, bands, checklists, levels, a veto, a bonus) and
   ``--files`` filled 自评表 workbooks of it;
2. starts a ``distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1)`` and warms both
   configurations up with ``--warmup`` files each (not timed: a cluster is up, its workers have imported the
   package, before a batch is sent to it), then, ``--repeats`` times, alternating:
   a. local: ``score_batch(plan, [folder], out, formats=("json",), workers=2)`` — two processes of this machine,
      JSON results only (``scoring score … --format json``);
   b. cluster: the same with ``executor=Cluster`` (``scoring score … --format json --scheduler ADDRESS``);
   each into a fresh output folder (nothing resumed), timed around ``score_batch``; every run must score every file;
   the CPU time of this process (the client and, in a LocalCluster, the scheduler) is taken as well;
3. sends ``--noop`` empty tasks through the same stream (the plan scattered, the bounded window, one task per item)
   and times them: the cost of a task on the cluster with no work in it;
4. prints the figures and PASS/FAIL against the target (cluster time ÷ local time ≤ 1.25×) and, with ``--json``,
   the figures as JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import scoring
from scoring.io.template import write_template
from scoring.jobs.batch import Job, score_batch
from scoring.jobs.cluster import Cluster

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 1.25  # cluster time ÷ local time, same number of worker processes


def _excel() -> Any:
    """benchmarks/excel.py, for its framework and workbook generator (one generator for both benchmarks)."""
    spec = importlib.util.spec_from_file_location("bench_excel", HERE / "excel.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_excel"] = module  # its pool workers look the generator up by module name
    spec.loader.exec_module(module)
    return module


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def generate(bx: Any, root: Path, n: int, inputs: int, seed: int) -> tuple[scoring.Plan, Path]:
    spec = bx.Spec(inputs, seed)
    text = spec.yaml()
    plan = scoring.compile_plan(scoring.load_text(text, str(root / "bench.yaml")))
    folder = root / "filled"
    folder.mkdir(parents=True, exist_ok=True)
    template = root / "template.xlsx"
    write_template(plan, template)
    files = [folder / f"school-{i + 1:05d}.xlsx" for i in range(n)]
    marker = root / "generated-with.txt"
    key = f"{inputs} {seed} {plan.hash}"
    if marker.exists() and marker.read_text() != key:
        for f in folder.glob("*.xlsx"):
            f.unlink()
    extra = set(folder.glob("*.xlsx")) - set(files)
    for f in extra:
        f.unlink()
    subs, _ = bx.make_submissions(spec, n, seed)
    todo = [(str(template), s, str(f)) for s, f in zip(subs, files, strict=True) if not f.exists()]
    log(f"generating {len(todo)} of {n} workbooks ({inputs} inputs) …")
    t = time.perf_counter()
    with mp.Pool(min(2, os.cpu_count() or 1)) as pool:
        for _ in pool.imap_unordered(bx._fill_one, todo, chunksize=8):
            pass
    marker.write_text(key)
    log(f"  {time.perf_counter() - t:.1f} s")
    return plan, folder


def timed(
    plan: scoring.Plan, inputs: list[Path], out: Path, n: int, executor: Cluster | None
) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    c0, t0 = cpu_self(), time.perf_counter()
    batch = score_batch(plan, inputs, out, formats=("json",), workers=2, executor=executor)
    seconds, cpu = time.perf_counter() - t0, cpu_self() - c0
    if len(batch.rows) != n or batch.failures:
        raise SystemExit(f"scored {len(batch.rows)} of {n}; failures: {batch.failures[:1]}")
    return {"seconds": seconds, "parent_cpu_s": cpu}


def _noop(plan: scoring.Plan, chunk: list[Job]) -> int:
    return len(chunk)


def noop(cluster: Cluster, plan: scoring.Plan, n: int) -> dict[str, float]:
    jobs = [Job(f"/nowhere/{i}", str(i), str(i)) for i in range(n)]
    c0, t0 = cpu_self(), time.perf_counter()
    got = sum(len(chunk) for chunk, _ in cluster._stream(plan, jobs, _noop, size=1))
    seconds, cpu = time.perf_counter() - t0, cpu_self() - c0
    assert got == n
    return {"seconds": seconds, "ms_per_task": seconds / n * 1000, "parent_cpu_ms_per_task": cpu / n * 1000}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=2000, help="filled workbooks (default 2000)")
    ap.add_argument("--inputs", type=int, default=250, help="inputs in the framework (default 250)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--repeats", type=int, default=2, help="runs of each configuration, best taken (default 2)"
    )
    ap.add_argument("--noop", type=int, default=2000, help="empty tasks timed (default 2000)")
    ap.add_argument("--warmup", type=int, default=32, help="files of the untimed warm-up runs (default 32)")
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (reused when run again)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    ap.add_argument("--check", action="store_true", help="exit 1 when the target fails")
    args = ap.parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def run(args: argparse.Namespace, root: Path) -> int:
    import distributed

    started, load0 = time.perf_counter(), os.getloadavg()[0]
    plan, folder = generate(_excel(), root, args.files, args.inputs, args.seed)
    n = args.files
    log("starting a LocalCluster of 2 worker processes, 1 thread each …")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as lc,
        Cluster.connect(lc.scheduler_address) as cluster,
    ):
        warm = sorted(folder.glob("*.xlsx"))[: max(1, args.warmup)]
        log(f"warming up both with {len(warm)} files …")
        for name, executor in (("local", None), ("cluster", cluster)):
            timed(plan, list(warm), root / f"out-{name}", len(warm), executor)
        runs: dict[str, list[dict[str, float]]] = {"local": [], "cluster": []}
        for rep in range(args.repeats):
            for name, executor in (("local", None), ("cluster", cluster)):
                log(f"{name}, run {rep + 1}: {n} workbooks, JSON only …")
                r = timed(plan, [folder], root / f"out-{name}", n, executor)
                log(
                    f"  {r['seconds']:.2f} s, {n / r['seconds']:.1f} files/s, this process {r['parent_cpu_s']:.1f} s CPU"
                )
                runs[name].append(r)
        log(f"{args.noop} empty tasks through the cluster stream …")
        empty = noop(cluster, plan, args.noop)
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    local, remote = best["local"]["seconds"], best["cluster"]["seconds"]
    ratio = remote / local
    figures = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "distributed": distributed.__version__,
        "files": n,
        "inputs": args.inputs,
        "seed": args.seed,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "load_before": load0,
        "load_after": os.getloadavg()[0],
        "run_seconds": time.perf_counter() - started,
        "runs": runs,
        "local_s": local,
        "cluster_s": remote,
        "local_files_per_s": n / local,
        "cluster_files_per_s": n / remote,
        "ratio": ratio,
        "extra_ms_per_file": (remote - local) / n * 1000,
        "client_scheduler_cpu_ms_per_file": best["cluster"]["parent_cpu_s"] / n * 1000,
        "noop": empty,
        "pass": ratio <= TARGET_RATIO,
    }
    print_table(figures)
    if args.json:
        print(json.dumps(figures, indent=1))
    return 1 if args.check and not figures["pass"] else 0


def print_table(f: dict[str, Any]) -> None:
    print("督评 scoring cluster benchmark (benchmarks/cluster.py)")
    print(
        f"Python {f['python']}, distributed {f['distributed']}, CPUs: {f['cpus']}; {f['files']:,} workbooks of "
        f"{f['inputs']} inputs, seed {f['seed']}, best of {f['repeats']} after {f['warmup']} warm-up files; load average (1 min) before / after "
        f"{f['load_before']:.2f} / {f['load_after']:.2f}; run took {f['run_seconds']:.0f} s"
    )
    print()
    print(f"{'configuration':<44}{'wall s':>9}{'files/s':>10}{'this process CPU s':>20}")
    print("-" * 83)
    for name, what in (
        ("local", "local, 2 processes (--workers 2)"),
        ("cluster", "LocalCluster, 2 workers × 1 thread"),
    ):
        for i, r in enumerate(f["runs"][name]):
            print(
                f"{what + f' #{i + 1}':<44}{r['seconds']:>9.2f}{f['files'] / r['seconds']:>10.1f}{r['parent_cpu_s']:>20.2f}"
            )
    print()
    ok = "PASS" if f["pass"] else "FAIL"
    print(f"cluster ÷ local: {f['ratio']:.2f}× (target ≤ {TARGET_RATIO}×)  {ok}")
    print(f"extra wall time per file on the cluster: {f['extra_ms_per_file']:.2f} ms")
    print(f"client + scheduler CPU per file (this process): {f['client_scheduler_cpu_ms_per_file']:.2f} ms")
    e = f["noop"]
    print(
        f"empty task through the stream: {e['ms_per_task']:.2f} ms wall per task ({1000 / e['ms_per_task']:.0f} "
        f"tasks/s), client + scheduler CPU {e['parent_cpu_ms_per_task']:.2f} ms per task"
    )


if __name__ == "__main__":
    sys.exit(main())
