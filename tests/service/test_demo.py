"""``serve --demo``: a demo project whose two units are already scored from the example workbooks, uploaded as an
upload is stored (the bytes and their hash, results, 整改 items, audit rows); its second round, where 滨江实验小学
has uploaded again (the dashboard compares the rounds); a county of 17 schools with its county result; starting
again adds nothing."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from scoring.service.bootstrap import demo
from scoring.service.models import AuditEntry, Rectification, Submission

from .conftest import EXAMPLES, A, B, login, service_of


def _counts(c: TestClient) -> tuple[int, int, int]:
    with service_of(c).sessions() as s:
        return (
            s.scalar(select(func.count(Submission.id))) or 0,
            s.scalar(select(func.count(Rectification.id))) or 0,
            s.scalar(select(func.count(AuditEntry.id))) or 0,
        )


def test_the_demo_units_are_scored_at_once_and_a_restart_adds_nothing(client: TestClient) -> None:
    svc = service_of(client)
    assert demo(svc) == [("dux", "dux"), ("binjiang", "binjiang")]
    dux = login(client, "dux", "dux")
    projects = {p["name"]: p for p in client.get("/api/v1/projects", headers=dux).json()}
    assert list(projects) == [
        "演示评估（2026 年第 1 轮）",
        "演示评估（2026 年第 2 轮）",
        "演示县域评估（优质均衡）",
    ]
    project = projects["演示评估（2026 年第 1 轮）"]
    for code, file, who in ((A, "strong.xlsx", "binjiang"), (B, "weak.xlsx", "dux")):
        unit = f"/api/v1/projects/{project['id']}/units/{code}"
        (sub,) = client.get(unit + "/submissions", headers=dux).json()
        data = (EXAMPLES / file).read_bytes()
        assert (sub["version"], sub["status"], sub["filename"], sub["uploaded_by"]) == (
            1,
            "已评分",
            file,
            who,
        )
        assert sub["sha256"] == hashlib.sha256(data).hexdigest() and sub["size"] == len(data)
        assert client.get(unit + "/submissions/1/file", headers=dux).content == data
        (result,) = client.get(unit + "/result", headers=dux).json()["results"]
        assert result["unit"]["code"] == code and result["source"] == file
    items = client.get(f"/api/v1/projects/{project['id']}/units/{B}/rectifications", headers=dux).json()
    assert items and all(i["status"] == "待整改" for i in items)  # 北山中学 falls short: its 整改 items
    admin_audit = client.get(
        "/api/v1/audit?entity=submission", headers=login(client, "admin", "admin-secret-1")
    )
    assert [(e["action"], e["reason"]) for e in admin_audit.json()] == [("upload", "演示数据")] * (2 + 1 + 17)
    # the school user sees its own scored unit at once
    school = login(client, "binjiang", "binjiang")
    assert client.get(f"/api/v1/projects/{project['id']}/units/{A}/result", headers=school).status_code == 200
    # the second round: round 1 closed, 滨江实验小学 uploaded again, 北山中学 not yet
    second = projects["演示评估（2026 年第 2 轮）"]
    assert (project["state"], second["state"], second["previous_id"], second["round"]) == (
        "已关闭",
        "填报中",
        project["id"],
        2,
    )
    path = f"/api/v1/projects/{second['id']}/units"
    (again,) = client.get(f"{path}/{A}/submissions", headers=dux).json()
    assert (again["filename"], again["uploaded_by"], again["status"]) == (
        "strong-round2.xlsx",
        "binjiang",
        "已评分",
    )
    assert client.get(f"{path}/{B}/submissions", headers=dux).json() == []
    # the county: 17 schools, 16 scored and the 教学点 kept as 未通过; its county result as scoring cohort gives it
    county = projects["演示县域评估（优质均衡）"]
    assert len(client.get(f"/api/v1/projects/{county['id']}/units", headers=dux).json()) == 17
    result = client.get(f"/api/v1/projects/{county['id']}/cohort", headers=dux).json()
    assert [e["name"] for e in result["excluded"]] == ["南山教学点"] and result["failures"] == []
    assert len(result["units"]) == 19  # two 一贯制 schools count once per 学段
    # … with the county's own data (county.yaml) uploaded: the verdict is final, 不予认定 (R3), not 暂定
    (data,) = client.get(f"/api/v1/projects/{county['id']}/county-data", headers=dux).json()
    assert (data["filename"], data["status"], data["current"]) == ("county.yaml", "已读取", True)
    assert result["passed"] is False and result["county"]["unit"]["name"] == "某县"
    before = _counts(client)
    assert demo(svc) == [] and _counts(client) == before  # a restart with --demo: no second copy


def test_a_demo_made_before_the_demo_was_scored_is_completed_once(client: TestClient) -> None:
    from scoring.service.bootstrap import _demo_project

    svc = service_of(client)
    _demo_project(svc)  # as an earlier version left it: units, no submissions
    assert _counts(client)[0] == 0
    assert demo(svc) == []  # the users are there already
    assert _counts(client)[0] == 2 + 1 + 17
    before = _counts(client)
    demo(svc)
    assert _counts(client) == before
