"""Batches from and into object storage (issue 18, ``jobs.storage``) against a local S3-compatible server (moto's
ThreadedMotoServer on a free port): the same results as a local run, a re-run that skips them, the lock, and the
same batch on a Dask LocalCluster whose workers reach the store themselves."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import scoring
from scoring.io.files import OutputError
from scoring.jobs.batch import BatchResult, score_batch
from scoring.jobs.storage import is_url
from scoring.jobs.storage import score_batch as score_remote

from ..conftest import ROOT
from ..excel import PLAN, filled

s3fs = pytest.importorskip("s3fs", reason="object storage needs s3fs (pip install s3fs)")
moto_server = pytest.importorskip(
    "moto.server", reason="the local S3 server needs moto (pip install 'moto[server]')"
)

EX = ROOT / "examples" / "demo-school"
GOOD = 6
FORMATS = ("json", "md", "xlsx")


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    """A local S3 server with the bucket ``bkt``; fsspec (here and in worker processes started after) pointed at
    it through its own configuration (``FSSPEC_S3_ENDPOINT_URL``), with dummy credentials."""
    conf = importlib.import_module("fsspec.config").conf  # untyped: through importlib

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FSSPEC_S3_ENDPOINT_URL": endpoint,  # read by fsspec when imported: what cluster workers do
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        # this process imported fsspec before the variable was set
        mp.setitem(conf, "s3", {"endpoint_url": endpoint})
        fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
        fs.mkdir("bkt")
        yield fs
    server.stop()


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory, store: Any) -> Path:
    """Six filled 自评表 and a corrupt one, in a local folder and under ``s3://bkt/inbox/`` (with a note)."""
    tmp = tmp_path_factory.mktemp("s3")
    folder = tmp / "收件箱"
    folder.mkdir()
    bases = [scoring.read_submission(EX / "strong.yaml"), scoring.read_submission(EX / "weak.json")]
    for i in range(GOOD):
        sub = bases[i % 2].model_copy(deep=True)
        sub.unit.name = f"第{i + 1}学校"
        sub.unit.code = f"32{i:05d}"
        filled(tmp, sub, f"收件箱/school-{i}.xlsx")
    (folder / "corrupt.xlsx").write_bytes(b"this is not a workbook")
    for f in folder.iterdir():
        store.put_file(str(f), f"bkt/inbox/{f.name}")
    store.pipe_file("bkt/inbox/说明.txt", b"not a submission")
    return folder


@pytest.fixture(scope="module")
def local(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BatchResult]:
    out = tmp_path_factory.mktemp("local") / "out"
    return out, score_batch(PLAN, [inbox], out, formats=FORMATS, workers=1)


def _rows(batch: BatchResult) -> list[tuple[Any, ...]]:
    return [(Path(r.file).name, r.name, r.code, r.total, r.grade, r.passed, r.report) for r in batch.rows]


def _same_as_local(
    store: Any, prefix: str, inbox: Path, local: tuple[Path, BatchResult], got: BatchResult
) -> None:
    out, expected = local
    assert _rows(got) == _rows(expected)
    assert [Path(f.file).name for f in got.failures] == ["corrupt.xlsx"]
    assert [s.file for s in got.skipped] == ["s3://bkt/inbox/说明.txt"]
    store.invalidate_cache()
    names = sorted(
        n for k in store.ls(prefix, detail=False) if not (n := k.rsplit("/", 1)[-1]).startswith(".")
    )
    assert names == sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    for name in names:
        # the texts byte for byte (a workbook carries its time), but for the source each names: the URL read
        if name.endswith((".result.json", ".report.md")):
            want = (out / name).read_bytes().replace(str(inbox).encode(), b"s3://bkt/inbox")
            assert store.cat_file(f"{prefix}/{name}") == want, name
    records = store.ls(f"{prefix}/.scoring-done", detail=False)
    assert len(records) == GOOD
    assert json.loads(store.cat_file(records[0]))["input"].startswith("s3://bkt/inbox/school-")
    assert not store.exists(f"{prefix}/.scoring.lock")  # released


def test_urls_are_told_from_paths() -> None:
    assert is_url("s3://bkt/inbox/") and is_url("gs://b/x")
    assert not is_url("/mnt/督导/收件箱") and not is_url("file:///tmp/x") and not is_url("C:\\督导")


def test_a_batch_from_s3_into_s3_gives_what_a_local_run_gives_and_resumes(
    store: Any, inbox: Path, local: tuple[Path, BatchResult]
) -> None:
    got = score_remote(PLAN, "s3://bkt/inbox/", "s3://bkt/out/", formats=FORMATS)
    _same_as_local(store, "bkt/out", inbox, local, got)
    assert got.summary is not None and store.exists("bkt/out/汇总.xlsx")

    before = {k: store.info(k)["LastModified"] for k in store.find("bkt/out")}
    again = score_remote(PLAN, "s3://bkt/inbox/", "s3://bkt/out/", formats=FORMATS)
    assert again.reused == GOOD and again.changed == 0
    assert _rows(again) == _rows(got)
    store.invalidate_cache()
    after = {k: store.info(k)["LastModified"] for k in store.find("bkt/out")}
    assert {k: v for k, v in after.items() if "汇总" not in k} == {
        k: v for k, v in before.items() if "汇总" not in k
    }  # nothing written again but the summary

    # a school sends its workbook again, changed: that one is scored again, its outputs replaced
    store.put_file(str(inbox / "school-1.xlsx"), "bkt/inbox/school-0.xlsx")
    third = score_remote(PLAN, "s3://bkt/inbox/", "s3://bkt/out/", formats=FORMATS)
    assert (third.reused, third.changed) == (GOOD - 1, 1)
    store.put_file(str(inbox / "school-0.xlsx"), "bkt/inbox/school-0.xlsx")


def test_an_output_prefix_held_by_another_run_is_refused(store: Any, inbox: Path) -> None:
    store.pipe_file("bkt/held/.scoring.lock", json.dumps({"host": "机器甲", "pid": 4242}).encode())
    with pytest.raises(OutputError) as err:
        score_remote(PLAN, "s3://bkt/inbox/", "s3://bkt/held/", formats=("json",))
    text = err.value.problems[0].format("zh")
    assert "机器甲" in text and "s3://bkt/held/.scoring.lock" in text
    assert store.find("bkt/held") == ["bkt/held/.scoring.lock"]  # nothing scored, the lock left to its owner


def test_the_same_batch_on_a_dask_cluster(store: Any, inbox: Path, local: tuple[Path, BatchResult]) -> None:
    distributed = pytest.importorskip("distributed")
    from scoring.jobs.cluster import Cluster

    assert os.environ["FSSPEC_S3_ENDPOINT_URL"]  # the worker processes inherit it
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as lc,
        Cluster.connect(lc.scheduler_address) as cluster,
    ):
        got = score_remote(PLAN, "s3://bkt/inbox/", "s3://bkt/cl/", formats=FORMATS, executor=cluster)
        _same_as_local(store, "bkt/cl", inbox, local, got)
        again = score_remote(PLAN, "s3://bkt/inbox/", "s3://bkt/cl/", formats=FORMATS, executor=cluster)
        assert again.reused == GOOD
