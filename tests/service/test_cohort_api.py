"""The county (优质均衡) result of a project (issues #16, #17): a project on ysjh-2017-school holding the 17
schools of examples/ysjh-2017/schools.csv, each uploaded as its own JSON submission; ``GET …/cohort`` is what
``scoring cohort ysjh-2017 FOLDER`` writes as 县域评估.json for a folder of the same files — on SQLite and
PostgreSQL. A school gets 403; a unit not yet scored makes the verdict 暂定; a project on a framework no county
framework aggregates is 404. A school split into 小学 and 初中 downloads each part's report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from scoring.cli import main
from scoring.engine.plan import compile_plan
from scoring.framework import registry
from scoring.framework.load import load_framework
from scoring.io.table import read_table

from .conftest import ADMIN_PASSWORD, ROOT, login

SCHOOLS = ROOT / "examples" / "ysjh-2017" / "schools.csv"


def school_files() -> list[tuple[str, str, str, bytes]]:
    """(code, name, type, JSON submission) for every row of schools.csv, coded 3209000001 … in row order."""
    plan = compile_plan(load_framework(registry.find("ysjh-2017-school") or ""))
    subs, failures = read_table(SCHOOLS, plan)
    assert not failures
    out = []
    for i, sub in enumerate(subs, 1):
        code = f"32090000{i:02d}"
        data = sub.model_dump(mode="json", exclude_none=True, exclude={"source"})
        data["unit"]["code"] = code
        assert sub.unit.type is not None
        out.append((code, sub.unit.name, sub.unit.type, json.dumps(data, ensure_ascii=False).encode()))
    return out


@pytest.fixture(scope="module")
def files() -> list[tuple[str, str, str, bytes]]:
    return school_files()


def county_project(
    c: TestClient, files: list[tuple[str, str, str, bytes]], upload: int | None = None
) -> tuple[int, dict[str, str]]:
    """A project on ysjh-2017-school with the schools as units; the first ``upload`` (all) of them uploaded."""
    admin = login(c, "admin", ADMIN_PASSWORD)
    r = c.post(
        "/api/v1/projects",
        json={"name": "某县优质均衡 2026", "framework": "ysjh-2017-school", "year": 2026},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    project = r.json()["id"]
    lines = "单位代码,单位名称,单位类型\n" + "".join(f"{code},{name},{typ}\n" for code, name, typ, _ in files)
    r = c.post(
        f"/api/v1/projects/{project}/units/import",
        files={"file": ("名单.csv", lines.encode(), "text/csv")},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    for code, _, _, data in files[: len(files) if upload is None else upload]:
        r = c.post(
            f"/api/v1/projects/{project}/units/{code}/submissions",
            files={"file": (f"{code}.json", data)},
            headers=admin,
        )
        # 南山教学点 (28 pupils) is no unit the framework evaluates: kept as 未通过 with that one problem
        assert r.status_code in (201, 422), r.text
    return project, admin


def cli_cohort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: list[tuple[str, str, str, bytes]]
) -> dict[str, Any]:
    folder = tmp_path / "cli"
    (folder / "in").mkdir(parents=True)
    for code, _, _, data in files:
        (folder / "in" / f"{code}.json").write_bytes(data)
    monkeypatch.chdir(folder)
    ran = CliRunner().invoke(main, ["cohort", "ysjh-2017", "in", "-o", "out", "--format", "json"])
    assert ran.exit_code == 0, ran.output
    # the CLI names each file by its path in the folder; the store by the name it was uploaded as
    text = (folder / "out" / "县域评估.json").read_text(encoding="utf-8").replace('"in/', '"')
    found: dict[str, Any] = json.loads(text)
    return found


def test_the_county_result_is_what_scoring_cohort_writes(
    client: TestClient,
    files: list[tuple[str, str, str, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, admin = county_project(client, files)
    r = client.get(f"/api/v1/projects/{project}/cohort", headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    got = r.json()
    assert got == cli_cohort(tmp_path, monkeypatch, files)
    # the exact numbers of the example, computed without the engine (examples/ysjh-2017/expected.py)
    expected = json.loads((ROOT / "examples" / "ysjh-2017" / "expected.json").read_text(encoding="utf-8"))
    assert [
        {
            "school": u["school"],
            "phase": u["group"],
            "values": u["values"],
            "met": u["met"],
            "passed": u["passed"],
        }
        for u in got["units"]
    ] == expected["units"]
    assert [
        {"indicator": s["indicator"], "phase": s["group"], "mean": s["mean"], "cv": s["cv"]}
        for s in got["stats"]
    ] == expected["stats"]
    assert [e["name"] for e in got["excluded"]] == ["南山教学点"]
    assert got["failures"] == []
    # the schools fail R3; the county's own data (政府保障程度 …) is not uploaded yet (test_county_data.py): 暂定
    assert got["passed"] is None
    assert got["reasons"][0].startswith("R3 每所学校资源配置均达标：未达标")


def test_a_unit_not_scored_makes_the_verdict_provisional(
    client: TestClient, files: list[tuple[str, str, str, bytes]]
) -> None:
    project, admin = county_project(client, files, upload=len(files) - 1)  # 县实验学校 not yet uploaded
    got = client.get(f"/api/v1/projects/{project}/cohort", headers=admin).json()
    code, name = files[-1][0], files[-1][1]
    assert got["passed"] is None
    assert got["failures"] == [
        {
            "file": f"{code} {name}",
            "reasons": [f"{code} {name}：没有已评分的填报数据，未计入县域统计"],
            "reasons_en": [],
        }
    ]
    assert any("结论暂定" in reason for reason in got["reasons"])


def test_only_administrators_and_inspectors_see_the_county(
    client: TestClient, files: list[tuple[str, str, str, bytes]]
) -> None:
    project, admin = county_project(client, files[:2])
    code = files[0][0]
    for name, role, unit in (("dux", "督学", None), ("school", "学校", code)):
        body = {"name": name, "role": role, "unit_code": unit, "password": f"{name}-password"}
        assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    inspector, school = login(client, "dux", "dux-password"), login(client, "school", "school-password")
    assert client.get(f"/api/v1/projects/{project}/cohort", headers=inspector).status_code == 200
    r = client.get(f"/api/v1/projects/{project}/cohort", headers=school)
    assert r.status_code == 403 and r.json()["message"] == "学校用户不能查看县域评估"
    assert client.get("/api/v1/projects/999/cohort", headers=school).status_code == 404
    # the school still downloads its own unit's reports
    assert (
        client.get(f"/api/v1/projects/{project}/units/{code}/reports/md", headers=school).status_code == 200
    )


def test_a_project_no_county_framework_aggregates_is_404(client: TestClient) -> None:
    admin = login(client, "admin", ADMIN_PASSWORD)
    r = client.post(
        "/api/v1/projects", json={"name": "办学质量", "framework": "demo-school", "year": 2026}, headers=admin
    )
    r = client.get(f"/api/v1/projects/{r.json()['id']}/cohort", headers=admin)
    assert r.status_code == 404
    assert (
        r.json()["message"] == "评估项目使用的框架 demo-school 没有县域汇总（优质均衡等）框架，不能做县域评估"
    )


def test_a_school_scored_as_two_units_downloads_each_part(
    client: TestClient, files: list[tuple[str, str, str, bytes]]
) -> None:
    nine = [f for f in files if f[2] == "九年一贯制学校"][:1]
    project, admin = county_project(client, nine)
    code, name = nine[0][0], nine[0][1]
    path = f"/api/v1/projects/{project}/units/{code}/reports"
    first, second = (client.get(f"{path}/json?part={i}", headers=admin) for i in (0, 1))
    assert first.status_code == second.status_code == 200
    assert (
        json.loads(first.content)["unit"]["type"] == "小学"
        and json.loads(second.content)["unit"]["type"] == "初中"
    )
    assert "filename*=UTF-8''" in first.headers["content-disposition"]
    from urllib.parse import unquote

    assert unquote(first.headers["content-disposition"].split("''", 1)[1]) == f"{name}-小学-评分结果.json"
    assert client.get(f"{path}/json?part=2", headers=admin).status_code == 404


def test_the_county_reports_download_as_scoring_cohort_writes_them(
    client: TestClient,
    files: list[tuple[str, str, str, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """县域评估.md is the CLI's byte for byte (but for the folder name the CLI gives each file); the workbook holds
    the same sheets and cells; the PDF is a PDF with the county's verdict. A 学校 user: 403; an unknown kind 404."""
    import io

    import openpyxl
    from pypdf import PdfReader

    project, admin = county_project(client, files)
    got = {}
    for kind in ("md", "xlsx", "pdf", "json"):
        r = client.get(f"/api/v1/projects/{project}/cohort/{kind}", headers=admin)
        assert r.status_code == 200, r.text
        assert "filename*=UTF-8''" in r.headers["content-disposition"]
        got[kind] = r.content
    folder = tmp_path / "cli"
    (folder / "in").mkdir(parents=True)
    for code, _, _, data in files:
        (folder / "in" / f"{code}.json").write_bytes(data)
    monkeypatch.chdir(folder)
    ran = CliRunner().invoke(main, ["cohort", "ysjh-2017", "in", "-o", "out", "--format", "json,md,xlsx"])
    assert ran.exit_code == 0, ran.output
    out = folder / "out"
    assert got["md"].decode("utf-8") == (out / "县域评估.md").read_text(encoding="utf-8").replace("in/", "")
    mine = openpyxl.load_workbook(io.BytesIO(got["xlsx"]))
    theirs = openpyxl.load_workbook(out / "县域评估.xlsx")
    assert mine.sheetnames == theirs.sheetnames
    for name in mine.sheetnames:
        cells = [[str(v).replace("in/", "") for v in row] for row in theirs[name].iter_rows(values_only=True)]
        assert [[str(v) for v in row] for row in mine[name].iter_rows(values_only=True)] == cells, name
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(got["pdf"])).pages)
    assert got["pdf"].startswith(b"%PDF") and "暂定" in text
    assert json.loads(got["json"]) == client.get(f"/api/v1/projects/{project}/cohort", headers=admin).json()
    assert client.get(f"/api/v1/projects/{project}/cohort/docx", headers=admin).status_code == 404
