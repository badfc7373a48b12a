"""Frameworks a 管理员 uploads: a district's own scheme, or its tailoring of a shipped framework (``extends`` by
id). The file is validated exactly as ``scoring validate`` validates it (every problem with its line and column)
and kept as its bytes only when it has no error; then a project can be made from it like from a shipped one, and
``Service.plan`` compiles it from the store. Its id may not be a shipped framework's (a project names its
framework by id); the same file uploaded again is the row already kept; a changed file is a new row, so projects
made earlier keep the hash they were made with and are told when the framework has changed, as for a shipped file.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..engine.plan import Plan, compile_plan
from ..framework import registry
from ..framework.load import load_text
from .access import Actor
from .audit import record
from .errors import ApiError
from .models import FrameworkFile
from .state import Service
from .work import framework_name, validate_bytes


def store_framework(
    svc: Service, actor: Actor, data: bytes, filename: str | None, reason: str | None
) -> FrameworkFile:
    """Validate and keep an uploaded framework (管理员): 422 with every problem when it has an error, 409 when its
    id is a shipped framework's."""
    actor.require("manage-projects")
    plan, name = checked_plan(data, filename)
    with svc.transaction() as session:
        return keep(session, plan, data, name, actor.id, reason)


def checked_plan(data: bytes, filename: str | None) -> tuple[Plan, str]:
    """The plan of a framework file that ``scoring validate`` finds no error in, and the name it was checked
    under; else 422 with every problem (409 for a shipped framework's id)."""
    name = framework_name(filename)
    report = validate_bytes(data, name)
    if report.errors:
        raise ApiError(
            422,
            "framework-invalid",
            f"框架文件 {name} 有 {len(report.errors)} 个错误，未保存；请按所列位置（行、列）修改后重新上传",
            f"{name} has {len(report.errors)} errors; nothing stored",
            report.sorted(),
        )
    plan = compile_plan(load_text(data.decode("utf-8-sig"), name))
    fw = plan.framework
    if registry.find(fw.id) is not None:
        raise ApiError(
            409,
            "framework-shipped",
            f"框架 id “{fw.id}” 与内置框架相同；请在文件中改用本地的 id（如 “{fw.id}-本区”），"
            "或以 extends: " + fw.id + " 在内置框架上修改",
            f"'{fw.id}' is a shipped framework's id",
        )
    return plan, name


def keep(
    session: Session, plan: Plan, data: bytes, name: str, user_id: int | None, reason: str | None
) -> FrameworkFile:
    """The row of this framework file: the one kept already (same id and content hash), or a new one, audited."""
    fw = plan.framework
    kept = session.scalars(
        select(FrameworkFile).where(FrameworkFile.framework_id == fw.id, FrameworkFile.hash == plan.hash)
    ).first()
    if kept is not None:
        return kept
    row = FrameworkFile(
        framework_id=fw.id,
        name=fw.name,
        version=fw.version,
        hash=plan.hash,
        filename=name,
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=user_id,
    )
    session.add(row)
    session.flush()
    new = {"framework": fw.id, "version": fw.version, "hash": plan.hash, "file": name}
    record(session, user_id, "create", "framework", row.id, new=new, reason=reason)
    return row


def stored_file(session: Session, framework_id: str, framework_hash: str) -> FrameworkFile | None:
    """The kept file of a framework at a content hash, if it was uploaded (not shipped)."""
    return session.scalars(
        select(FrameworkFile).where(
            FrameworkFile.framework_id == framework_id, FrameworkFile.hash == framework_hash
        )
    ).first()


def uploaded(session: Session) -> list[FrameworkFile]:
    """The newest upload of each framework id, by id."""
    newest = select(func.max(FrameworkFile.id)).group_by(FrameworkFile.framework_id)
    return list(
        session.scalars(
            select(FrameworkFile).where(FrameworkFile.id.in_(newest)).order_by(FrameworkFile.framework_id)
        )
    )
