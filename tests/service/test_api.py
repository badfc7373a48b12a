"""The stateless endpoints answer what the command line prints: ``POST /score`` the result JSON ``scoring score``
writes, ``POST /validate`` what ``scoring validate --format json`` prints, ``GET /frameworks`` what
``scoring frameworks --format json`` prints; errors are JSON with a Chinese message and the located problems.
Every case runs on SQLite and on PostgreSQL (the ``client`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from scoring.cli import main

from .conftest import ADMIN_PASSWORD, EXAMPLES, login

BAD_FRAMEWORK = """id: bad
name: 有错的框架
version: "1"
inputs:
  teachers: {label: 教师数, type: integer, minn: 0}
  students: {label: 学生数, type: integer}
derived:
  ratio: {label: 师生比, expr: teacher / students * 100}
indicators:
  - code: A1
    name: 师生比
    rule: {threshold: {value: ratio, at_least: 5}}
"""


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    return login(client, "admin", ADMIN_PASSWORD)


def _cli(*args: str) -> tuple[int, str]:
    ran = CliRunner().invoke(main, list(args))
    return ran.exit_code, ran.stdout


def _cli_results(tmp_path: Path, file: Path, *extra: str) -> list[dict[str, object]]:
    out = tmp_path / "cli"
    code, _ = _cli("score", "demo-school", str(file), "-o", str(out), "--format", "json", *extra)
    assert code == 0
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.result.json"))]


@pytest.mark.parametrize("name", ["strong.xlsx", "weak.json", "strong.yaml"])
def test_score_answers_the_result_json_the_cli_writes(
    client: TestClient, auth: dict[str, str], tmp_path: Path, name: str
) -> None:
    file = EXAMPLES / name
    r = client.post(
        "/api/v1/score?framework=demo-school", files={"file": (name, file.read_bytes())}, headers=auth
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"] == [d | {"source": name} for d in _cli_results(tmp_path, file)]


def test_score_takes_a_json_body_or_the_workbook_itself_and_the_values_to_use(
    client: TestClient, auth: dict[str, str], tmp_path: Path
) -> None:
    body = (EXAMPLES / "weak.json").read_bytes()
    r = client.post(
        "/api/v1/score?framework=demo-school&values=self",
        content=body,
        headers={**auth, "content-type": "application/json"},
    )
    assert r.status_code == 200
    cli = _cli_results(tmp_path, EXAMPLES / "weak.json", "--values", "self")
    assert r.json()["results"] == [d | {"source": "<上传的文件>"} for d in cli]
    raw = (EXAMPLES / "strong.xlsx").read_bytes()
    r = client.post(
        "/api/v1/score?framework=demo-school",
        content=raw,
        headers={**auth, "content-type": "application/octet-stream"},
    )
    assert r.status_code == 200 and r.json()["results"][0]["unit"]["name"] == "滨江实验小学"


def test_a_bad_submission_is_422_with_every_problem_and_its_place(
    client: TestClient, auth: dict[str, str]
) -> None:
    text = '{\n  "unit": {"name": "甲校"},\n  "values": {"students": 1, "students": 2}\n}\n'
    r = client.post(
        "/api/v1/score?framework=demo-school", files={"file": ("甲校.json", text.encode())}, headers=auth
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "problems" and body["message"].startswith("无法处理")
    (p,) = body["problems"]
    assert (p["file"], p["line"], p["column"]) == ("甲校.json", 3, 29) and "students" in p["message"]
    assert "Traceback" not in r.text


def test_a_workbook_of_another_framework_is_refused_with_the_reason(
    client: TestClient, auth: dict[str, str]
) -> None:
    data = (EXAMPLES / "strong.xlsx").read_bytes()
    r = client.post(
        "/api/v1/score?framework=ysjh-2017-school", files={"file": ("strong.xlsx", data)}, headers=auth
    )
    assert r.status_code == 422 and "demo-school" in r.json()["problems"][0]["message"]


def test_an_unknown_framework_is_404_in_chinese_and_a_path_is_not_a_framework(
    client: TestClient, auth: dict[str, str]
) -> None:
    for name in ("no-such", "/etc/passwd", "frameworks/demo-school.yaml"):
        r = client.post(
            f"/api/v1/score?framework={name}",
            content=b"{}",
            headers={**auth, "content-type": "application/json"},
        )
        assert (
            r.status_code == 404
            and r.json()["error"] == "framework-unknown"
            and "没有 id 为" in r.json()["message"]
        )


def test_a_missing_parameter_is_422_in_chinese(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post("/api/v1/score", content=b"{}", headers={**auth, "content-type": "application/json"})
    assert (
        r.status_code == 422
        and r.json()["message"].startswith("请求的参数或内容不正确")
        and "framework" in r.json()["message"]
    )
    r = client.post("/api/v1/projects", json={"name": "x"}, headers=auth)
    assert r.status_code == 422 and r.json()["error"] == "request-invalid"


def test_validate_answers_what_the_cli_prints(
    client: TestClient, auth: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "bad.yaml").write_text(BAD_FRAMEWORK, encoding="utf-8")
    r = client.post("/api/v1/validate", files={"file": ("bad.yaml", BAD_FRAMEWORK.encode())}, headers=auth)
    assert r.status_code == 200
    code, printed = _cli("validate", str(tmp_path / "bad.yaml"), "--format", "json")
    cli = json.loads(printed)
    for p in cli["problems"]:
        p["file"] = "bad.yaml"
    assert code == 1 and r.json() == cli
    where = {(p["code"], p["line"], p["column"]) for p in r.json()["problems"]}
    assert {("schema-unknown-key", 5, 41), ("expr-unknown-name", 8, 29)} <= where


def test_validate_a_clean_framework_and_one_that_extends_a_shipped_one(
    client: TestClient, auth: dict[str, str]
) -> None:
    shipped = (Path(__file__).resolve().parents[2] / "frameworks" / "demo-school.yaml").read_bytes()
    r = client.post("/api/v1/validate", content=shipped, headers={**auth, "content-type": "application/yaml"})
    assert r.json()["errors"] == 0
    tailored = b'id: demo-local\nname: local\nversion: "1"\nextends: demo-school\n'
    assert (
        client.post("/api/v1/validate", files={"file": ("local.yaml", tailored)}, headers=auth).json()[
            "errors"
        ]
        == 0
    )


def test_an_uploaded_framework_cannot_extend_a_file_on_the_server(
    client: TestClient, auth: dict[str, str]
) -> None:
    for target in ("/etc/passwd", "../frameworks/demo-school.yaml"):
        text = f'id: x\nname: x\nversion: "1"\nextends: {target}\n'.encode()
        body = client.post("/api/v1/validate", files={"file": ("x.yaml", text)}, headers=auth).json()
        (p,) = body["problems"]
        assert (p["code"], p["line"], p["file"]) == (
            "extends-not-shipped",
            4,
            "x.yaml",
        ) and "root:" not in json.dumps(body)


def test_frameworks_lists_what_the_cli_lists(client: TestClient, auth: dict[str, str]) -> None:
    _, printed = _cli("frameworks", "--format", "json")
    assert client.get("/api/v1/frameworks", headers=auth).json() == json.loads(printed)


def test_the_openapi_document_is_served(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "督评 scoring 服务"
    assert {
        "/api/v1/score",
        "/api/v1/validate",
        "/api/v1/projects/{project_id}/units/{code}/submissions",
    } <= set(doc["paths"])
    assert "multipart/form-data" in doc["paths"]["/api/v1/score"]["post"]["requestBody"]["content"]


def test_an_unknown_address_and_an_internal_fault_are_json_without_a_traceback(
    client: TestClient, auth: dict[str, str]
) -> None:
    r = client.get("/api/v1/nothing-here", headers=auth)
    assert r.status_code == 404 and r.json()["message"] == "找不到该地址"

    def broken() -> None:
        raise RuntimeError("secret detail")

    client.app.add_api_route("/api/v1/broken", broken)  # type: ignore[attr-defined]
    r = client.get("/api/v1/broken")
    assert r.status_code == 500 and r.json()["error"] == "internal"
    assert "secret detail" not in r.text and "Traceback" not in r.text
