#!/usr/bin/env python3
"""Load benchmark of the HTTP service (``scoring serve``), on loopback only, bounded and seeded.

Run from the repository root (see benchmarks/README.md, "Service benchmark")::

    python benchmarks/service.py [--leaves 300] [--workers 2] [--uploads 300] [--seed 1] [--json] [--check]

What it does, in one run:

1. generates (seeded) the framework ``benchmarks/engine.py`` generates (``--leaves`` leaf indicators of every
   rule kind) and its submissions as JSON bodies, and ``--uploads`` filled 自评表 workbooks of it
   (``write_template`` + ``fill_template``); nothing of this is timed;
2. times, in this process, ``scoring.score`` over the submissions (the engine's rate on one core) and what the
   ``POST /score`` endpoint does for each (read the JSON bytes, score, write ``{"results": [...]}`` with every
   text: ``work.score_bytes`` + ``work.results_json``), and each part of a request separately;
3. starts the service with uvicorn on 127.0.0.1 with ``--workers`` worker processes (default 2; ``scoring serve``
   itself runs one process), SQLite in a temporary folder (the default store). The generated framework is not a
   shipped one, so the server processes add its folder (with an index, as the shipped folder has) to the
   registry's folders: a request names it by id, as it would a shipped framework;
4. clients (httpx, asyncio, keep-alive, in this process): ``POST /score?framework=…`` with a JSON body, at 1, 8
   and 50 concurrent clients, a fixed number of requests each (after a warm-up): requests/s and p50/p99
   latency; every answer must be 200 and one is checked byte for byte against the in-process answer;
5. a project on the framework with ``--uploads`` units (a CSV unit list); every unit's workbook uploaded by 8
   concurrent clients (multipart, as a browser sends it): the time until every result is stored, and the
   resident memory (RSS) of the server processes after the first 100 uploads and after all;
6. prints a table with PASS/FAIL against the targets (``--json``: the figures too).

The server is stopped and its folder removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import itertools
import json
import math
import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

FRAMEWORK_ID = "bench-generated"
FRAMEWORKS_ENV = "SCORING_BENCH_FRAMEWORKS"
ADMIN_PASSWORD = "bench-admin-password"
LEVELS = ((1, 300), (8, 1200), (50, 2000))  # (concurrent clients, requests)
WARMUP = 100
TARGETS = {
    "ratio_8": 0.5,  # requests/s at 8 clients ≥ 50 % of two cores' in-process scoring.score rate
    "p99_50": 0.050,  # p99 latency at 50 clients ≤ 50 ms
    "rss_growth": 0.10,  # RSS after all uploads ≤ 110 % of RSS after 100
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------- the server side


def add_framework_folder(folder: Path) -> None:
    """Let the registry find the generated framework by id, beside the shipped ones (this process only)."""
    from scoring.framework import registry

    shipped = registry.framework_dirs
    registry.framework_dirs = lambda: [*shipped(), folder]  # type: ignore[assignment]


def server_app() -> Any:
    """uvicorn's app factory in each server process: the service as ``scoring serve`` makes it."""
    add_framework_folder(Path(os.environ[FRAMEWORKS_ENV]))
    from scoring.service.app import create_app
    from scoring.service.settings import Settings

    return create_app(Settings.from_env())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(root: Path, frameworks: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    from scoring.service.bootstrap import first_admin
    from scoring.service.settings import Settings
    from scoring.service.state import Service

    data = root / "data"
    svc = Service(Settings(data_dir=data))  # migrated here once, before the workers start
    first_admin(svc, ADMIN_PASSWORD)
    svc.close()
    port = free_port()
    code = (
        "import uvicorn; uvicorn.run('service:server_app', factory=True, host='127.0.0.1', "
        f"port={port}, workers={workers}, app_dir={str(HERE)!r}, log_level='warning', access_log=False)"
    )
    env = {**os.environ, "SCORING_DATA_DIR": str(data), FRAMEWORKS_ENV: str(frameworks)}
    env.pop("SCORING_DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(300):
        try:
            if httpx.get(base + "/api/v1/openapi.json", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode})")
        time.sleep(0.1)
    raise SystemExit("the server did not start within 30 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
    return out


def cpu_seconds(pid: int) -> list[float]:
    """CPU time (user + system) of each worker process of the server, seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    out = []
    tree = process_tree(pid)
    for p in tree[1:] or tree:  # the workers; with one worker, the server process itself
        with contextlib.suppress(OSError):
            if b"resource_tracker" in Path(f"/proc/{p}/cmdline").read_bytes():
                continue  # multiprocessing's helper, not a worker
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            out.append((int(fields[11]) + int(fields[12])) / tick)
    return out


def rss_mib(pid: int) -> float:
    """Resident memory of the server and its worker processes, MiB."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


# --------------------------------------------------------------------------------------------- the inputs


def make_inputs(leaves: int, seed: int, n: int, root: Path) -> tuple[Any, Any, list[Any], Path]:
    from engine import Spec, make_submissions

    import scoring
    from scoring.framework.registry import write_index

    spec = Spec(leaves, seed)
    text = spec.yaml()
    folder = root / "frameworks"
    folder.mkdir()
    (folder / f"{FRAMEWORK_ID}.yaml").write_text(text, encoding="utf-8")
    write_index(folder)
    plan = scoring.compile_plan(scoring.load_text(text, f"{FRAMEWORK_ID}.yaml"))
    subs, _ = make_submissions(spec, n, seed)
    return spec, plan, subs, folder


def _fill(args: tuple[str, str, str]) -> None:
    import scoring
    from scoring.io.fill import fill_template

    template, sub_json, out = args
    fill_template(template, scoring.Submission.model_validate_json(sub_json), out)


def make_workbooks(plan: Any, subs: list[Any], folder: Path, procs: int) -> list[Path]:
    from scoring.io.template import write_template

    folder.mkdir()
    template = write_template(plan, folder / "template.xlsx")
    jobs = [(str(template), s.model_dump_json(), str(folder / f"{s.unit.code}.xlsx")) for s in subs]
    with mp.get_context("spawn").Pool(procs) as pool:
        pool.map(_fill, jobs, chunksize=10)
    return [Path(j[2]) for j in jobs]


# ------------------------------------------------------------------------------------------- in-process


def in_process(plan: Any, subs: list[Any], bodies: list[bytes]) -> dict[str, Any]:
    """Rates on one core, best of 3 passes: scoring.score alone, and the endpoint's work (read + score + JSON);
    and the parts of one request's work in milliseconds."""
    import scoring
    from scoring.framework.registry import find
    from scoring.io.read import read_submission
    from scoring.io.safety import FileLimits
    from scoring.service.work import results_json, score_bytes

    limits = FileLimits(max_file=20 * 1024 * 1024)

    def timed(fn: Any, items: list[Any]) -> float:
        best = math.inf
        for _ in range(3):
            t = time.perf_counter()
            for x in items:
                fn(x)
            best = min(best, time.perf_counter() - t)
        return best / len(items)

    score_s = timed(lambda s: scoring.score(plan, s), subs)
    work_s = timed(lambda b: results_json(score_bytes(plan, b, None, limits)), bodies)
    some = bodies[: min(200, len(bodies))]
    read_s = timed(lambda b: read_submission(b, filename=None, plan=plan, limits=limits), some)
    json_s = math.inf
    for _ in range(3):  # fresh results each pass: a result builds its texts once, when first read
        results = [scoring.score(plan, s) for s in subs[: len(some)]]
        t = time.perf_counter()
        for r in results:
            results_json([r])
        json_s = min(json_s, (time.perf_counter() - t) / len(results))
    find_s = timed(lambda _: find(FRAMEWORK_ID), list(range(200)))
    return {
        "score_rate_1": 1 / score_s,
        "work_rate_1": 1 / work_s,
        "parts_ms": {
            "framework look-up (registry.find)": find_s * 1000,
            "read the JSON body (read_submission)": read_s * 1000,
            "scoring.score": score_s * 1000,
            "every text + JSON (results_json)": json_s * 1000,
            "endpoint work in all (score_bytes + results_json)": work_s * 1000,
        },
    }


def auth_ms(root: Path, token: str) -> float:
    """The bearer token's look-up (``auth.user_for``) on the benchmark's store, as every request does it."""
    from scoring.service.auth import user_for
    from scoring.service.settings import Settings
    from scoring.service.state import Service

    svc = Service(Settings(data_dir=root / "data"))
    try:
        t = time.perf_counter()
        for _ in range(300):
            with svc.sessions() as session:
                assert user_for(session, token) is not None
        return (time.perf_counter() - t) / 300 * 1000
    finally:
        svc.close()


# ---------------------------------------------------------------------------------------------- clients


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank."""
    return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)]


async def load(
    base: str, token: str, bodies: list[bytes], clients: int, total: int, keep_alive: bool = True
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    failures: list[int] = []
    counter = itertools.count()
    url = f"/api/v1/score?framework={FRAMEWORK_ID}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients if keep_alive else 0)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=120) as client:

        async def one() -> None:
            while (i := next(counter)) < total:
                t = time.perf_counter()
                r = await client.post(url, content=bodies[i % len(bodies)])
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    failures.append(r.status_code)

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "clients": clients,
        "keep_alive": keep_alive,
        "requests": total,
        "failed": len(failures),
        "rate": total / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def upload_all(
    base: str, token: str, project: int, files: list[Path], clients: int
) -> tuple[float, list[int]]:
    import httpx

    failures: list[int] = []
    queue = iter(files)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=300) as client:

        async def one() -> None:
            for path in queue:
                url = f"/api/v1/projects/{project}/units/{path.stem}/submissions"
                r = await client.post(url, files={"file": (path.name, path.read_bytes())})
                if r.status_code != 201:
                    failures.append(r.status_code)

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(clients)))
        return time.perf_counter() - t0, failures


# ------------------------------------------------------------------------------------------------- main


def login(base: str) -> str:
    import httpx

    r = httpx.post(base + "/api/v1/login", json={"name": "admin", "password": ADMIN_PASSWORD}, timeout=60)
    r.raise_for_status()
    token: str = r.json()["token"]
    return token


def make_project(base: str, token: str, subs: list[Any]) -> int:
    import httpx

    auth = {"Authorization": f"Bearer {token}"}
    body = {"name": "压力测试", "framework": FRAMEWORK_ID, "year": 2026}
    r = httpx.post(base + "/api/v1/projects", json=body, headers=auth, timeout=60)
    r.raise_for_status()
    project: int = r.json()["id"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["单位代码", "单位名称", "单位类型"])
    for s in subs:
        writer.writerow([s.unit.code, s.unit.name, s.unit.type])
    files = {"file": ("units.csv", text.getvalue().encode("utf-8"))}
    r = httpx.post(f"{base}/api/v1/projects/{project}/units/import", files=files, headers=auth, timeout=60)
    r.raise_for_status()
    assert r.json()["created"] == len(subs), r.text
    return project


def stored_results(root: Path) -> int:
    with sqlite3.connect(root / "data" / "scoring.db") as db:
        found: int = db.execute("SELECT count(*) FROM results").fetchone()[0]
        return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--leaves", type=int, default=300, help="leaf indicators of the framework (default 300)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    ap.add_argument(
        "--uploads", type=int, default=300, help="workbooks uploaded to one project (default 300)"
    )
    ap.add_argument("--submissions", type=int, default=1000, help="distinct JSON bodies (default 1000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a tenth of the requests (a trial of the script)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="scoring-bench-service-"))
    try:
        figures = run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ok = print_table(figures)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0 if ok or not args.check else 1


def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from scoring.service.work import results_json, score_bytes

    n = max(args.submissions, args.uploads)
    log(f"generating the framework ({args.leaves} leaves), {n} submissions and {args.uploads} workbooks …")
    _, plan, subs, frameworks = make_inputs(args.leaves, args.seed, n, root)
    bodies = [s.model_dump_json(exclude_none=True).encode("utf-8") for s in subs[: args.submissions]]
    t = time.perf_counter()
    books = make_workbooks(plan, subs[: args.uploads], root / "books", 2)
    log(f"  workbooks written in {time.perf_counter() - t:.1f} s")
    log("in-process: scoring.score and the endpoint's work, one core, best of 3 …")
    figures: dict[str, Any] = {"leaves": args.leaves, "workers": args.workers, "cpus": os.cpu_count()}
    figures |= in_process(plan, subs[: args.submissions], bodies)
    figures["load_before"] = os.getloadavg()[0]
    log(f"starting the service: uvicorn, {args.workers} worker(s), SQLite …")
    server, base = start_server(root, frameworks, args.workers)
    try:
        token = login(base)
        import httpx

        r = httpx.post(
            f"{base}/api/v1/score?framework={FRAMEWORK_ID}",
            content=bodies[0],
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=60,
        )
        from scoring.io.safety import FileLimits

        assert r.status_code == 200, r.text
        assert r.content == results_json(score_bytes(plan, bodies[0], None, FileLimits())).encode(), "differs"
        asyncio.run(load(base, token, bodies, 8, WARMUP))
        figures["levels"] = []
        for clients, total, keep in (*((c, t, True) for c, t in LEVELS), (8, 1200, False)):
            total = max(clients, total // 10) if args.quick else total
            log(
                f"POST /score: {clients} client(s), {total} requests{'' if keep else ', a connection each'} …"
            )
            before = cpu_seconds(server.pid)
            level = asyncio.run(load(base, token, bodies, clients, total, keep))
            level["worker_cpu_s"] = [b - a for a, b in zip(before, cpu_seconds(server.pid), strict=False)]
            figures["levels"].append(level)
        figures["auth_ms"] = auth_ms(root, token)
        project = make_project(base, token, subs[: args.uploads])
        first = min(100, len(books))
        log(f"uploads: {len(books)} workbooks to one project, 8 clients …")
        t1, fail1 = asyncio.run(upload_all(base, token, project, books[:first], 8))
        rss_100 = rss_mib(server.pid)
        t2, fail2 = asyncio.run(upload_all(base, token, project, books[first:], 8))
        rss_all = rss_mib(server.pid)
        figures["uploads"] = {
            "n": len(books),
            "seconds": t1 + t2,
            "rate": len(books) / (t1 + t2),
            "failed": len(fail1) + len(fail2),
            "results_stored": stored_results(root),
            "rss_after_100_mib": rss_100,
            "rss_after_all_mib": rss_all,
            "bytes_mean": sum(p.stat().st_size for p in books) / len(books),
        }
        figures["load_after"] = os.getloadavg()[0]
    finally:
        stop_server(server)
    return figures


def print_table(f: dict[str, Any]) -> bool:
    two_cores = 2 * f["score_rate_1"]
    at = {lv["clients"]: lv for lv in f["levels"] if lv["keep_alive"]}
    up = f["uploads"]
    growth = up["rss_after_all_mib"] / up["rss_after_100_mib"] - 1
    checks = {
        "ratio_8": at[8]["rate"] >= TARGETS["ratio_8"] * two_cores,
        "p99_50": at[50]["p99_ms"] <= TARGETS["p99_50"] * 1000,
        "rss_growth": growth <= TARGETS["rss_growth"] and up["failed"] == 0,
    }
    word = {True: "PASS", False: "FAIL"}
    rows = [
        ("in-process scoring.score, one core", f"{f['score_rate_1']:,.0f}/s", "", ""),
        ("  two cores (2 ×)", f"{two_cores:,.0f}/s", "", ""),
        (
            "in-process endpoint work (read + score + JSON), one core",
            f"{f['work_rate_1']:,.0f}/s",
            "",
            "info",
        ),
    ]
    for lv in f["levels"]:
        rows.append(
            (
                f"POST /score, {lv['clients']} client(s), {lv['requests']} requests"
                + ("" if lv["keep_alive"] else ", a new connection each"),
                f"{lv['rate']:,.0f}/s",
                f"p50 {lv['p50_ms']:.1f} ms · p99 {lv['p99_ms']:.1f} ms · worker CPU "
                + " + ".join(f"{c:.1f}" for c in lv["worker_cpu_s"])
                + " s"
                + (f" · {lv['failed']} failed" if lv["failed"] else ""),
                "" if lv["keep_alive"] else "info",
            )
        )
    rows += [
        (
            "8 clients / two cores' scoring.score",
            f"{at[8]['rate'] / two_cores:.0%}",
            "≥ 50 %",
            word[checks["ratio_8"]],
        ),
        (
            "8 clients / two cores' endpoint work",
            f"{at[8]['rate'] / (2 * f['work_rate_1']):.0%}",
            "",
            "info",
        ),
        ("p99 at 50 clients", f"{at[50]['p99_ms']:.1f} ms", "≤ 50 ms", word[checks["p99_50"]]),
        (
            f"{up['n']} workbooks uploaded to one project (8 clients)",
            f"{up['seconds']:.1f} s",
            f"{up['rate']:.1f}/s · {up['results_stored']} results stored · {up['failed']} failed",
            "",
        ),
        (
            "server RSS after 100 → after all uploads",
            f"{up['rss_after_100_mib']:.0f} → {up['rss_after_all_mib']:.0f} MiB",
            f"{growth:+.1%} (≤ +10 %)",
            word[checks["rss_growth"]],
        ),
    ]
    rows += [(f"  part: {k}", f"{v:.2f} ms", "", "info") for k, v in f["parts_ms"].items()]
    rows.append(
        ("  part: bearer token look-up (auth.user_for, SQLite)", f"{f['auth_ms']:.2f} ms", "", "info")
    )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(
        f"Python {platform.python_version()} · {f['cpus']} CPUs · {f['leaves']} leaves · uvicorn "
        f"{f['workers']} worker(s), SQLite · load average {f['load_before']:.2f} before, {f['load_after']:.2f} after"
    )
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return all(checks.values())


if __name__ == "__main__":
    sys.exit(main())
