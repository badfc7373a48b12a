"""The first user, and the demo: a store with no user gets a 管理员 named ``admin``, or nobody could sign in.
The demo is a project whose two units are already scored, from the example workbooks, so a newcomer sees results
at once."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select

from .access import actor_of
from .audit import record
from .models import ADMIN, INSPECTOR, SCHOOL, Project, Submission, Unit, User
from .state import Service

DEMO_PROJECT = "演示评估（2026 年第 1 轮）"
# code, name, type, 学段, 区域, the example workbook, who uploads it
DEMO_UNITS = (
    ("3201010001", "滨江实验小学", "小学", "小学", "示范区", "strong.xlsx", "binjiang"),
    ("3201020007", "北山中学", "初中", "初中", "示范区", "weak.xlsx", "dux"),
)
_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # scoring/


def examples_dir() -> Path | None:
    """The demo's example workbooks: inside the wheel (``scoring/_examples/demo-school``) or the checkout's
    ``examples/demo-school``; None when neither is there."""
    for folder in (
        _PACKAGE_DIR / "_examples" / "demo-school",
        _PACKAGE_DIR.parent / "examples" / "demo-school",
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
    return made


def _demo_project(svc: Service) -> list[tuple[str, str]]:
    made: list[tuple[str, str]] = []
    plan = svc.plan("demo-school")
    with svc.transaction() as session:
        if session.scalar(select(func.count(Project.id))):
            return made
        project = Project(
            name=DEMO_PROJECT,
            framework_id=plan.framework.id,
            framework_version=plan.framework.version,
            framework_hash=plan.hash,
            year=2026,
            round=1,
        )
        session.add(project)
        session.flush()
        record(session, None, "create", "project", project.id, new={"name": project.name}, reason="演示数据")
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
