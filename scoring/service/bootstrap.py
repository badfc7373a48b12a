"""The first user, and the demo: a store with no user gets a 管理员 named ``admin``, or nobody could sign in."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from .audit import record
from .models import ADMIN, INSPECTOR, SCHOOL, Project, Unit, User
from .state import Service

DEMO_UNITS = (
    ("3201010001", "滨江实验小学", "小学", "小学", "示范区"),
    ("3201020007", "北山中学", "初中", "初中", "示范区"),
)


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
    """A demo store (once): a project on demo-school with two units, a 督学 and a 学校 user, each password the
    same as the name. For trying the API; never for a real office. The (name, password) pairs made."""
    made: list[tuple[str, str]] = []
    plan = svc.plan("demo-school")
    with svc.transaction() as session:
        if session.scalar(select(func.count(Project.id))):
            return made
        project = Project(
            name="演示评估（2026 年第 1 轮）",
            framework_id=plan.framework.id,
            framework_version=plan.framework.version,
            framework_hash=plan.hash,
            year=2026,
            round=1,
        )
        session.add(project)
        session.flush()
        record(session, None, "create", "project", project.id, new={"name": project.name}, reason="演示数据")
        for code, name, kind, phase, region in DEMO_UNITS:
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
