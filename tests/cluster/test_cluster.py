"""The cluster executor (issue 18) on a real Dask cluster of two worker processes: the same outcomes and files as a
local run, three bad files among two hundred isolated, a worker killed mid-batch losing no unit."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import scoring
from scoring.cli import main
from scoring.io.template import write_template
from scoring.jobs.batch import BatchResult, FileOutcome, score_batch
from scoring.jobs.resume import all_records

from ..conftest import ROOT
from ..excel import PLAN, filled

distributed = pytest.importorskip("distributed")

from scoring.jobs.cluster import Cluster, ClusterError  # noqa: E402  (after the guard: it needs no Dask, its use does)

EX = ROOT / "examples" / "demo-school"
GOOD, BAD = 197, ("corrupt.xlsx", "other-framework.xlsx", "truncated.xlsx")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """197 filled 自评表 of distinct schools (小学 and 初中, values spread around the standards) and three bad files."""
    tmp = tmp_path_factory.mktemp("cluster")
    folder = tmp / "收件箱"
    folder.mkdir()
    bases = [scoring.read_submission(EX / "strong.yaml"), scoring.read_submission(EX / "weak.json")]
    for i in range(GOOD):
        sub = bases[i % 2].model_copy(deep=True)
        sub.unit.name = f"第{i + 1}学校"
        sub.unit.code = f"32{i:05d}"
        sub.values["teachers_qualified"] = 12 + i % 13
        filled(tmp, sub, f"收件箱/school-{i:03d}.xlsx")
    (folder / "corrupt.xlsx").write_bytes(b"this is not a workbook")
    (folder / "truncated.xlsx").write_bytes((EX / "strong.xlsx").read_bytes()[:3000])
    other = scoring.compile_plan(
        scoring.load_text(
            "id: other\nname: 别的框架\nversion: '2'\ninputs: {x: {label: X, type: number}}\n"
            "indicators: [{code: A, name: A, points: 1, rule: {threshold: {value: x, at_least: 1}}}]\n"
        )
    )
    write_template(other, folder / "other-framework.xlsx")
    return folder


@pytest.fixture(scope="module")
def local(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BatchResult]:
    out = tmp_path_factory.mktemp("local") / "out"
    return out, score_batch(PLAN, [inbox], out, formats=("json", "md"), workers=2)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as lc,
        Cluster.connect(lc.scheduler_address) as c,
    ):
        yield c


def _same_files(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir() if not p.name.startswith("."))
    assert names == sorted(p.name for p in b.iterdir() if not p.name.startswith("."))
    assert len([n for n in names if n.endswith(".result.json")]) == GOOD
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_cluster_run_gives_what_a_local_run_gives(inbox, local, cluster, tmp_path):
    local_out, expected = local
    seen: list[FileOutcome] = []
    got = score_batch(
        PLAN, [inbox], tmp_path / "out", formats=("json", "md"), executor=cluster, on_file=seen.append
    )
    assert len(seen) == GOOD + len(BAD)
    assert got.rows == expected.rows and len(got.rows) == GOOD
    assert got.failures == expected.failures
    assert sorted(Path(f.file).name for f in got.failures) == sorted(BAD)
    _same_files(local_out, tmp_path / "out")
    again = score_batch(PLAN, [inbox], tmp_path / "out", formats=("json", "md"), executor=cluster)
    assert (again.reused, len(again.rows), len(again.failures)) == (GOOD, GOOD, 3)


def test_a_worker_killed_mid_batch_loses_no_unit(inbox, local, cluster, tmp_path):
    local_out, expected = local
    client = cluster.client
    address, victim = next(iter(client.run(os.getpid).items()))
    killed: list[int] = []

    def on_file(outcome: FileOutcome) -> None:
        if not killed and len(on_file.seen) == 40:  # type: ignore[attr-defined]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
        on_file.seen.append(outcome)  # type: ignore[attr-defined]

    on_file.seen = []  # type: ignore[attr-defined]
    got = score_batch(
        PLAN, [inbox], tmp_path / "out", formats=("json", "md"), executor=cluster, on_file=on_file
    )
    assert killed and victim not in client.run(os.getpid).values()
    [removed] = [e for _, e in client.get_events(address) if e.get("action") == "remove-worker"]
    assert removed["processing-tasks"] and not removed["lost-scattered-tasks"]  # its files went elsewhere
    assert len(on_file.seen) == GOOD + len(BAD)  # type: ignore[attr-defined]
    assert got.rows == expected.rows and got.failures == expected.failures
    assert len(all_records(tmp_path / "out")) == GOOD
    # every unit written, once, under its own name, as the local run wrote it; no temporary file left
    _same_files(local_out, tmp_path / "out")
    assert not [p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the tests after


def test_the_command_on_a_cluster_prints_what_it_prints_locally(inbox, cluster, tmp_path):
    address = cluster.client.scheduler.address
    args = ["score", "demo-school", str(inbox), "--format", "json"]
    here = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "a")])
    there = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "b"), "--scheduler", address])
    assert here.exit_code == there.exit_code == 1
    assert there.output.startswith(f"集群 {address}：2 个工作线程\n")
    lines = sorted(here.output.replace(str(tmp_path / "a"), "OUT").splitlines())
    assert sorted(there.output.replace(str(tmp_path / "b"), "OUT").splitlines()[1:]) == lines
    assert f"共 {GOOD + 3} 份：评分 {GOOD} 份，失败 3 份" in there.output


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ClusterError) as err:
        Cluster.connect("tcp://127.0.0.1:9", timeout=1)
    [problem] = err.value.problems
    assert problem.code == "cluster-unreachable"
    assert problem.message_zh.startswith("无法连接 Dask 调度器 tcp://127.0.0.1:9（")


def test_a_scheduler_without_workers_is_a_clear_error():
    with (
        distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as empty,
        pytest.raises(ClusterError) as err,
    ):
        Cluster.connect(empty.scheduler_address, timeout=1)
    [problem] = err.value.problems
    assert problem.code == "cluster-no-workers"
    assert problem.message_zh == (
        f"Dask 调度器 {empty.scheduler_address} 上没有工作节点（等了 1 秒）：请在各台电脑上启动"
        f"（dask worker {empty.scheduler_address} --nworkers 2 --nthreads 1）"
    )


def test_cohort_reads_a_folder_on_the_cluster_as_it_does_here(cluster, tmp_path):
    from ..engine.test_cohort import COUNTY, S8, UNIT

    (tmp_path / "unit.yaml").write_text(UNIT, "utf-8")
    (tmp_path / "county.yaml").write_text(COUNTY, "utf-8")
    folder = tmp_path / "schools"
    folder.mkdir()
    for n, p, b in S8:
        (folder / f"{n}.yaml").write_text(
            f"unit: {{name: {n}, type: 小学}}\nvalues: {{pupils: {p}, books: {b}}}\n", "utf-8"
        )
    (folder / "坏.yaml").write_text("unit: {name: 坏}\nvalues: {pupils: 很多}\n", "utf-8")
    args = ["cohort", str(tmp_path / "county.yaml"), str(folder), "--format", "json,md"]
    here = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "a")])
    address = cluster.client.scheduler.address
    there = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "b"), "--scheduler", address])
    assert here.exit_code == there.exit_code == 1 and "应填数值" in there.output
    assert there.output.replace(str(tmp_path / "b"), "OUT") == f"集群 {address}：2 个工作线程\n" + (
        here.output.replace(str(tmp_path / "a"), "OUT")
    )
    for name in ("县域评估.json", "县域评估.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    table = CliRunner().invoke(
        main,
        ["cohort", "ysjh-2017", str(ROOT / "examples" / "ysjh-2017" / "schools.csv"), "--scheduler", address],
    )
    assert table.exit_code == 2 and "--scheduler 只用于学校自评表所在的文件夹" in table.output
