"""The first user, and the demo: a store with no user gets a 管理员 named ``admin``, or nobody could sign in.
The demo is a project whose two units are already scored, from the example workbooks, so a newcomer sees results
at once; its second round, where one school has uploaded again (the dashboard compares the rounds); and a county
of 17 schools on the 优质均衡 framework (its county page, 表Ⅱ-2 and 表Ⅲ)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..engine.plan import Plan
from .access import actor_of
from .audit import record
from .errors import ApiError
from .models import ADMIN, INSPECTOR, SCHOOL, Project, Submission, Unit, User
from .state import Service

DEMO_PROJECT = "演示评估（2026 年第 1 轮）"
DEMO_ROUND2 = "演示评估（2026 年第 2 轮）"
DEMO_COUNTY = "演示县域评估（优质均衡）"
DEMO_ROUND2_FILE = ("3201010001", "strong-round2.xlsx", "binjiang")  # 滨江实验小学 uploads again
COUNTY_CODE = "32090000"  # the county's schools are coded 3209000001 … in the order of schools.csv
# code, name, type, 学段, 区域, the example workbook, who uploads it
DEMO_UNITS = (
    ("3201010001", "滨江实验小学", "小学", "小学", "示范区", "strong.xlsx", "binjiang"),
    ("3201020007", "北山中学", "初中", "初中", "示范区", "weak.xlsx", "dux"),
)
_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # scoring/


def examples_dir(name: str = "demo-school") -> Path | None:
    """The demo's example files: inside the wheel (``scoring/_examples/<name>``) or the checkout's
    ``examples/<name>``; None when neither is there."""
    for folder in (
        _PACKAGE_DIR / "_examples" / name,
        _PACKAGE_DIR.parent / "examples" / name,
    ):
        if folder.is_dir():
            return folder
    return None


def first_admin(svc: Service, password: str | None = None) -> str | None:
    """Create ``admin`` when the store has no user; its password (given, or a random one) is returned to be shown
    once. None when there are users already."""
    with svc.transaction() as session:
        if session.scalar(select(func.count(User.id))):
            return None
        password = password or secrets.token_urlsafe(12)
        user = User(
            name="admin", display_name="管理员", role=ADMIN, password_hash=svc.passwords.hash(password)
        )
        session.add(user)
        session.flush()
        record(
            session, None, "create", "user", user.id, new={"name": "admin", "role": ADMIN}, reason="首次启动"
        )
    return password


def demo(svc: Service) -> list[tuple[str, str]]:
    """A demo store: a project on demo-school with two units, a 督学 and a 学校 user, each password the same as
    the name, and each unit's example workbook uploaded and scored. For trying the API; never for a real office.
    The (name, password) pairs made.

    Made once: a store that has any project gets no demo project, and a demo unit that has a submission gets no
    second one, so starting again with ``--demo`` changes nothing (and completes a demo an earlier start left
    without submissions)."""
    made = _demo_project(svc)
    _demo_submissions(svc)
    _demo_round2(svc)
    _demo_county(svc)
    return made


def _demo_project(svc: Service) -> list[tuple[str, str]]:
    made: list[tuple[str, str]] = []
    plan = svc.plan("demo-school")
    with svc.transaction() as session:
        if session.scalar(select(func.count(Project.id))):
            return made
        project = _new_project(session, DEMO_PROJECT, plan)
        for code, name, kind, phase, region, _, _ in DEMO_UNITS:
            session.add(
                Unit(project_id=project.id, code=code, name=name, type=kind, phase=phase, region=region)
            )
        for name, role, unit_code in (("dux", INSPECTOR, None), ("binjiang", SCHOOL, DEMO_UNITS[0][0])):
            if session.scalars(select(User).where(User.name == name)).first() is None:
                session.add(
                    User(name=name, role=role, unit_code=unit_code, password_hash=svc.passwords.hash(name))
                )
                made.append((name, name))
        session.flush()
        record(
            session,
            None,
            "create",
            "demo",
            project.id,
            new={"users": [n for n, _ in made]},
            reason="演示数据",
        )
    return made


def _new_project(session: Session, name: str, plan: Plan) -> Project:
    """A demo project on ``plan``'s framework (2026, round 1), with its audit row."""
    project = Project(
        name=name,
        framework_id=plan.framework.id,
        framework_version=plan.framework.version,
        framework_hash=plan.hash,
        year=2026,
        round=1,
    )
    session.add(project)
    session.flush()
    record(session, None, "create", "project", project.id, new={"name": project.name}, reason="演示数据")
    return project


def _demo_submissions(svc: Service) -> None:
    """Each demo unit without a submission gets its example workbook, uploaded as an upload is stored (kept
    with its hash, scored, results, 整改 items, audit rows) by its school user or the 督学."""
    from .submitting import store_upload

    folder = examples_dir()
    if folder is None:
        return
    with svc.sessions() as session:
        project = session.scalars(
            select(Project)
            .where(Project.name == DEMO_PROJECT, Project.framework_id == "demo-school")
            .order_by(Project.id)
        ).first()
        if project is None:
            return
        todo = []
        for code, _, _, _, _, file, who in DEMO_UNITS:
            unit = session.scalars(
                select(Unit).where(Unit.project_id == project.id, Unit.code == code)
            ).first()
            user = session.scalars(select(User).where(User.name == who)).first()
            if unit is None or user is None or not (folder / file).is_file():
                continue
            if session.scalar(select(func.count(Submission.id)).where(Submission.unit_id == unit.id)):
                continue
            todo.append((code, file, actor_of(user, 0)))
        project_id = project.id
    for code, file, actor in todo:
        store_upload(svc, actor, project_id, code, (folder / file).read_bytes(), file, "演示数据")


def _demo_first(session: Session) -> Project | None:
    return session.scalars(
        select(Project)
        .where(Project.name == DEMO_PROJECT, Project.framework_id == "demo-school")
        .order_by(Project.id)
    ).first()


def _named(session: Session, name: str) -> bool:
    return session.scalars(select(Project.id).where(Project.name == name)).first() is not None


def _demo_round2(svc: Service) -> None:
    """The demo's next round (``rounds.next_round``: the units copied, round 1 closed), in which 滨江实验小学 has
    uploaded its second-round workbook and 北山中学 not yet; made once, and only in a store holding the demo."""
    from .rounds import next_round
    from .submitting import store_upload

    folder = examples_dir()
    code, file, who = DEMO_ROUND2_FILE
    with svc.sessions() as session:
        first = _demo_first(session)
        admin = session.scalars(select(User).where(User.role == ADMIN).order_by(User.id)).first()
        school = session.scalars(select(User).where(User.name == who)).first()
        if first is None or admin is None or school is None or _named(session, DEMO_ROUND2):
            return
    if folder is None or not (folder / file).is_file():
        return
    made = next_round(svc, actor_of(admin, 0), first.id, DEMO_ROUND2, "演示数据")
    store_upload(svc, actor_of(school, 0), made.id, code, (folder / file).read_bytes(), file, "演示数据")


def _demo_county(svc: Service) -> None:
    """A county's 17 schools on ysjh-2017-school (examples/ysjh-2017/schools.csv), each uploaded by the 督学 as
    its own submission, so the project has a county page (ysjh-2017 aggregates it), and the county's own data
    (county.yaml); made once, and only in a store holding the demo."""
    from ..io.table import read_table
    from .submitting import store_upload

    folder = examples_dir("ysjh-2017")
    with svc.sessions() as session:
        first = _demo_first(session)
        dux = session.scalars(select(User).where(User.name == "dux")).first()
        if first is None or dux is None or _named(session, DEMO_COUNTY):
            return
    if folder is None or not (folder / "schools.csv").is_file():
        return
    plan = svc.plan("ysjh-2017-school")
    schools, _ = read_table(folder / "schools.csv", plan)
    with svc.transaction() as session:
        project = _new_project(session, DEMO_COUNTY, plan)
        for i, sub in enumerate(schools, 1):
            session.add(
                Unit(
                    project_id=project.id,
                    code=f"{COUNTY_CODE}{i:02d}",
                    name=sub.unit.name,
                    type=sub.unit.type,
                )
            )
        project_id = project.id
    actor = actor_of(dux, 0)
    for i, sub in enumerate(schools, 1):
        data = sub.model_dump(mode="json", exclude_none=True, exclude={"source"})
        data["unit"]["code"] = f"{COUNTY_CODE}{i:02d}"
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        try:
            store_upload(
                svc, actor, project_id, f"{COUNTY_CODE}{i:02d}", body, f"{sub.unit.name}.json", "演示数据"
            )
        except (
            ApiError
        ) as err:  # 南山教学点 (under 50 pupils): kept as 未通过, listed as 不参评 on the county page
            if err.status != 422:
                raise
    county = folder / "county.yaml"
    if county.is_file():  # the county's own data: the verdict is final (不予认定), not 暂定
        from .county_data import store_county

        store_county(svc, actor, project_id, county.read_bytes(), county.name, "演示数据")
