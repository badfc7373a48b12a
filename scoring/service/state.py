"""What a running service holds: its settings, the database (migrated at start-up), the password hasher and
the compiled plans of the shipped frameworks it has used (a plan is immutable and thread-safe: compiled once)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.plan import Plan, compile_plan
from ..framework import registry
from ..framework.load import load_framework, load_text
from ..io.safety import FileLimits
from .auth import Passwords
from .db import make_engine, migrate, sessions
from .errors import ApiError
from .models import FrameworkFile, Project
from .settings import Settings


class Service:
    def __init__(self, settings: Settings, passwords: Passwords | None = None):
        self.settings = settings
        self.engine = make_engine(settings)
        migrate(self.engine)
        self.sessions = sessions(self.engine)
        self.passwords = passwords or Passwords()
        self.file_limits = FileLimits(max_file=settings.limits.max_upload)
        self._plans: dict[tuple[str, int], Plan] = {}
        self._stored: dict[tuple[str, str], Plan] = {}  # uploaded frameworks by (id, SHA-256 of the file)
        # where each shipped framework id was found: finding it reads and hashes every shipped file (0.5 ms a
        # request); a file since moved or given another id is looked up again (see plan)
        self._paths: dict[str, Path] = {}
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed at the end of the block (rolled back if it raises)."""
        with self.sessions() as session, session.begin():
            yield session

    def shipped_path(self, framework_id: str) -> Path | None:
        """A shipped framework's file by id, or None. Only ids: a request never names a file on the server."""
        with self._lock:
            cached = self._paths.get(framework_id)
        if cached is not None and cached.exists():
            return cached
        path = registry.find(framework_id)
        if path is not None:
            with self._lock:
                self._paths[framework_id] = path
        return path

    def plan(self, framework_id: str) -> Plan:
        """The compiled plan of a shipped framework, compiled again only when its file changes; else of the
        newest framework a 管理员 uploaded with that id (``service/frameworks.py``); else 404."""
        path = self.shipped_path(framework_id)
        if path is None:
            stored = self._stored_plan(framework_id)
            if stored is not None:
                return stored
            known = "、".join(e.id for e in registry.entries())
            raise ApiError(
                404,
                "framework-unknown",
                f"没有 id 为 “{framework_id}” 的内置框架（已内置：{known}）",
                f"no shipped framework '{framework_id}'",
            )
        key = (framework_id, path.stat().st_mtime_ns)
        with self._lock:
            plan = self._plans.get(key)
        if plan is None:
            plan = compile_plan(load_framework(path))
            if plan.framework.id != framework_id:
                # the file now holds another framework: look the id up again
                with self._lock:
                    self._paths.pop(framework_id, None)
                return self.plan(framework_id)
            with self._lock:
                self._plans[key] = plan
        return plan

    def project_plan(self, project: Project) -> Plan:
        """A project's framework exactly as it was when the project was made (its content hash): the shipped
        file if it still has that hash, else the uploaded file kept with that hash (an uploaded framework's
        every version is kept, so its projects score on after a newer one is uploaded); 409 when neither —
        an upload is refused rather than scored against another framework."""
        try:
            plan = self.plan(project.framework_id)
        except ApiError:
            plan = None
        if plan is not None and plan.hash == project.framework_hash:
            return plan
        pinned = self._stored_plan(project.framework_id, project.framework_hash)
        if pinned is not None:
            return pinned
        if plan is None:
            return self.plan(project.framework_id)  # raises its 404 again
        raise ApiError(
            409,
            "framework-changed",
            f"评估项目使用的框架 {project.framework_id}（{project.framework_version}，{project.framework_hash}）"
            f"已被更新为 {plan.framework.version}（{plan.hash}）：请管理员按新框架另建评估项目",
            "the project's framework has changed since the project was created",
        )

    def pinned_plan(self, project: Project) -> Plan | None:
        """The project's framework as ``project_plan`` finds it, or None where that would refuse: for what a page
        shows (a form, grade names, precision), which should not fail when the framework has changed."""
        try:
            return self.project_plan(project)
        except ApiError:
            return None

    def _stored_plan(self, framework_id: str, framework_hash: str | None = None) -> Plan | None:
        """An uploaded file of ``framework_id`` compiled (once per file: its SHA-256 is the key): the one with
        ``framework_hash``, else the newest."""
        with self.sessions() as session:
            query = select(FrameworkFile.sha256, FrameworkFile.filename).where(
                FrameworkFile.framework_id == framework_id
            )
            if framework_hash is not None:
                query = query.where(FrameworkFile.hash == framework_hash)
            row = session.execute(query.order_by(FrameworkFile.id.desc()).limit(1)).first()
            if row is None:
                return None
            key = (framework_id, row.sha256)
            with self._lock:
                plan = self._stored.get(key)
            if plan is None:
                content = session.scalars(
                    select(FrameworkFile.content).where(FrameworkFile.sha256 == row.sha256).limit(1)
                ).one()
                plan = compile_plan(load_text(content.decode("utf-8-sig"), row.filename))
                with self._lock:
                    self._stored[key] = plan
            return plan

    def close(self) -> None:
        self.engine.dispose()


def service(request: Request) -> Service:
    found: Service = request.app.state.service
    return found
