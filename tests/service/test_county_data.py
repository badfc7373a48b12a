"""The county's own data (县级填报) of a county project (``service/county_data.py``), on SQLite and PostgreSQL:
with examples/ysjh-2017/county.yaml uploaded, ``GET …/cohort`` is what ``scoring cohort ysjh-2017 FOLDER --county
county.yaml`` writes, and the verdict is final (不予认定, as examples/ysjh-2017/expected.json says) instead of
暂定. Every upload is kept; one that cannot be read is 未通过 with its places and the version before still
counts; a 学校 user may not upload or read it; a closed round refuses it."""

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
from scoring.io.fill import fill_template
from scoring.io.read import read_submission
from scoring.io.template import write_template

from .conftest import ADMIN_PASSWORD, ROOT, login
from .test_cohort_api import county_project, school_files

COUNTY = ROOT / "examples" / "ysjh-2017" / "county.yaml"

Files = list[tuple[str, str, str, bytes]]


@pytest.fixture(scope="module")
def files() -> Files:
    return school_files()


def upload_county(c: TestClient, project: int, who: dict[str, str], name: str, data: bytes) -> Any:
    return c.post(f"/api/v1/projects/{project}/county-data", files={"file": (name, data)}, headers=who)


def cli_cohort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: Files) -> dict[str, Any]:
    folder = tmp_path / "cli"
    (folder / "in").mkdir(parents=True)
    for code, _, _, data in files:
        (folder / "in" / f"{code}.json").write_bytes(data)
    (folder / "county.yaml").write_bytes(COUNTY.read_bytes())
    monkeypatch.chdir(folder)
    argv = ["cohort", "ysjh-2017", "in", "--county", "county.yaml", "-o", "out", "--format", "json"]
    ran = CliRunner().invoke(main, argv)
    assert ran.exit_code == 0, ran.output
    text = (folder / "out" / "县域评估.json").read_text(encoding="utf-8").replace('"in/', '"')
    found: dict[str, Any] = json.loads(text)
    return found


def test_the_county_data_makes_the_verdict_final_as_scoring_cohort_gives_it(
    client: TestClient, files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, admin = county_project(client, files)
    before = client.get(f"/api/v1/projects/{project}/cohort", headers=admin).json()
    assert before["passed"] is None  # the county's own indicators are 缺报
    r = upload_county(client, project, admin, "county.yaml", COUNTY.read_bytes())
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["version"], out["status"], out["current"], out["filename"]) == (
        1,
        "已读取",
        True,
        "county.yaml",
    )
    got = client.get(f"/api/v1/projects/{project}/cohort", headers=admin).json()
    cli = cli_cohort(tmp_path, monkeypatch, files)
    cli["county"]["source"] = got["county"][
        "source"
    ]  # the CLI names the file by its path, the store by its name
    assert got == cli
    expected = json.loads((ROOT / "examples" / "ysjh-2017" / "expected.json").read_text(encoding="utf-8"))
    assert got["passed"] is expected["passed"] is False  # 不予认定: from the schools (R3) alone
    assert got["county"]["unit"]["name"] == "某县"
    assert not any("结论暂定" in reason for reason in got["reasons"])
    assert got["reasons"][0].startswith("R3 每所学校资源配置均达标：未达标")
    # the government indicators are scored from the county's values now, not 缺报
    statuses = {i["code"]: i["status"] for i in got["county"]["indicators"] if i["kind"] != "group"}
    assert "missing" not in statuses.values(), statuses


def test_a_county_workbook_made_from_the_county_framework_is_read_as_the_yaml(
    client: TestClient, files: Files, tmp_path: Path
) -> None:
    project, admin = county_project(client, files[:3])
    plan = compile_plan(load_framework(registry.find("ysjh-2017") or ""))
    # with the 督学评定 column: the county file carries the ratings 督学 give (manual), as county.yaml does
    template = write_template(plan, tmp_path / "县级自评表.xlsx", evaluator=True)
    filled = fill_template(template, read_submission(COUNTY), tmp_path / "某县.xlsx")
    r = upload_county(client, project, admin, "某县.xlsx", filled.read_bytes())
    assert r.status_code == 201, r.text
    from_book = client.get(f"/api/v1/projects/{project}/cohort", headers=admin).json()
    assert upload_county(client, project, admin, "county.yaml", COUNTY.read_bytes()).status_code == 201
    from_yaml = client.get(f"/api/v1/projects/{project}/cohort", headers=admin).json()
    assert from_book["county"]["indicators"] == from_yaml["county"]["indicators"]
    assert from_book["passed"] == from_yaml["passed"]


def test_a_county_file_that_cannot_be_read_is_kept_and_the_one_before_still_counts(
    client: TestClient, files: Files
) -> None:
    project, admin = county_project(client, files[:3])
    assert upload_county(client, project, admin, "county.yaml", COUNTY.read_bytes()).status_code == 201
    counted = client.get(f"/api/v1/projects/{project}/cohort", headers=admin).json()
    bad = COUNTY.read_text(encoding="utf-8").replace("教师平均工资: 98760", "教师平均工资: 很高")
    r = upload_county(client, project, admin, "county-2.yaml", bad.encode())
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"].startswith("第 2 版县级填报数据已保存，但无法读取")
    assert any("教师平均工资" in p["message"] for p in body["problems"]), body["problems"]
    other = "framework: demo-school\nunit: {name: 某县}\nvalues: {}\n"
    r = upload_county(client, project, admin, "other.yaml", other.encode())
    assert r.status_code == 422 and "framework" in json.dumps(r.json()["problems"], ensure_ascii=False)
    versions = client.get(f"/api/v1/projects/{project}/county-data", headers=admin).json()
    assert [(v["version"], v["status"], v["current"]) for v in versions] == [
        (3, "未通过", False),
        (2, "未通过", False),
        (1, "已读取", True),
    ]
    assert client.get(f"/api/v1/projects/{project}/cohort", headers=admin).json() == counted
    r = client.get(f"/api/v1/projects/{project}/county-data/2/file", headers=admin)
    assert r.status_code == 200 and r.content == bad.encode()
    assert client.get(f"/api/v1/projects/{project}/county-data/9/file", headers=admin).status_code == 404
    audit = client.get("/api/v1/audit", params={"entity": "county_submission"}, headers=admin)
    if audit.status_code == 200:  # every upload is an audit row
        rows = [a for a in audit.json() if a.get("entity") == "county_submission"]
        assert len(rows) == 3


def test_who_may_upload_and_read_the_county_data(client: TestClient, files: Files) -> None:
    project, admin = county_project(client, files[:2])
    code = files[0][0]
    for name, role, unit in (("dux", "督学", None), ("school", "学校", code)):
        body = {"name": name, "role": role, "unit_code": unit, "password": f"{name}-password"}
        assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    inspector, school = login(client, "dux", "dux-password"), login(client, "school", "school-password")
    assert upload_county(client, project, inspector, "county.yaml", COUNTY.read_bytes()).status_code == 201
    r = upload_county(client, project, school, "county.yaml", COUNTY.read_bytes())
    assert r.status_code == 403 and r.json()["message"] == "学校用户不能上传或查看县级填报数据"
    assert client.get(f"/api/v1/projects/{project}/county-data", headers=school).status_code == 403
    assert client.get(f"/api/v1/projects/{project}/county-data/1/file", headers=school).status_code == 403
    # a project the school does not see: 404, as if it did not exist
    assert upload_county(client, 999, school, "county.yaml", COUNTY.read_bytes()).status_code == 404
    assert client.get("/api/v1/projects/999/county-data", headers=school).status_code == 404
    assert [
        v["uploaded_by"] for v in client.get(f"/api/v1/projects/{project}/county-data", headers=admin).json()
    ] == ["dux"]


def test_a_project_without_a_county_framework_or_a_closed_round_refuses_county_data(
    client: TestClient, files: Files
) -> None:
    admin = login(client, "admin", ADMIN_PASSWORD)
    r = client.post(
        "/api/v1/projects", json={"name": "办学质量", "framework": "demo-school", "year": 2026}, headers=admin
    )
    other = r.json()["id"]
    r = upload_county(client, other, admin, "county.yaml", COUNTY.read_bytes())
    assert r.status_code == 404 and "没有县域汇总" in r.json()["message"]
    project, _ = county_project(client, files[:1])
    r = client.post(f"/api/v1/projects/{project}/state", json={"state": "已关闭"}, headers=admin)
    assert r.status_code == 200, r.text
    r = upload_county(client, project, admin, "county.yaml", COUNTY.read_bytes())
    assert r.status_code == 409 and r.json()["error"] == "round-closed"
    assert client.get(f"/api/v1/projects/{project}/county-data", headers=admin).json() == []


def test_a_hostile_county_file_is_refused_at_its_place_and_kept(client: TestClient, files: Files) -> None:
    """The county's data goes through the upload safety checks before any parser: a zip bomb named .xlsx is
    未通过 with the CLI's wording, kept as its bytes; an alias bomb in YAML likewise."""
    import io
    import zipfile

    project, admin = county_project(client, files[:1])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    r = upload_county(client, project, admin, "bomb.xlsx", buffer.getvalue())
    assert r.status_code == 422, r.text
    (p,) = r.json()["problems"]
    assert p["code"] == "workbook-unsafe" and "疑似压缩炸弹" in p["message"] and p["file"] == "bomb.xlsx"
    aliases = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    r = upload_county(client, project, admin, "aliases.yaml", aliases.encode())
    assert r.status_code == 422, r.text
    versions = client.get(f"/api/v1/projects/{project}/county-data", headers=admin).json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "未通过"), (1, "未通过")]


def test_the_county_data_keeps_at_most_the_versions_allowed_and_says_so(
    tmp_path: Path, database: str | None, files: Files
) -> None:
    from scoring.service.bootstrap import first_admin
    from scoring.service.settings import Limits

    from .conftest import make_client, service_of

    with make_client(tmp_path, database, Limits(max_versions=2)) as c:
        first_admin(service_of(c), ADMIN_PASSWORD)
        project, admin = county_project(c, files[:1])
        for _ in range(2):
            assert upload_county(c, project, admin, "county.yaml", COUNTY.read_bytes()).status_code == 201
        r = upload_county(c, project, admin, "county.yaml", COUNTY.read_bytes())
        assert r.status_code == 409 and r.json()["message"] == (
            "已有 2 版县级填报数据，达到 2 版的上限：已拒绝（已有的版本均保留）"
        )
        assert len(c.get(f"/api/v1/projects/{project}/county-data", headers=admin).json()) == 2
        service_of(c).close()
