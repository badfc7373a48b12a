"""A real server and a real Chromium for the workspace's tests.

The server is the app ``scoring serve`` runs (``create_app``), under uvicorn in a thread on a free port, with a
fresh store — every test runs twice, on the embedded SQLite file in a temporary folder and on a fresh PostgreSQL
database (``tests/service/conftest.py``'s cluster; skipped, saying why, where there is none): a project on demo-school with units A (滨江实验小学) and B (北山中学),
a 督学, and a 学校 user for each unit; B already has a scored upload (weak.xlsx, through the API).

The browser is Debian's ``chromium`` driven by Playwright from PyPI (no browser download). Every request the
page makes is routed through a guard: one to any host but the test server is refused and fails the test (the
workspace must run on an intranet, with every asset bundled). Without ``playwright`` or ``chromium`` the browser
tests are skipped, saying which is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session

from scoring.engine.plan import Plan
from scoring.service.app import create_app
from scoring.service.auth import Passwords
from scoring.service.bootstrap import first_admin
from scoring.service.models import INSPECTOR, SCHOOL, Project, Unit, User
from scoring.service.settings import Settings
from scoring.service.state import Service

from ..service.conftest import Postgres, postgres  # noqa: F401  (the session's PostgreSQL cluster, a fixture)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "demo-school"
FAST = Passwords(memory_kib=1024, time_cost=1, parallelism=1)
A, B = "3201010001", "3201020007"
ADMIN_PASSWORD = "admin-secret-1"
USERS = {"dux": (INSPECTOR, None), "school-a": (SCHOOL, A), "school-b": (SCHOOL, B)}


def password(name: str) -> str:
    return f"{name}-password"


def bad_workbook(folder: Path) -> Path:
    """strong.xlsx with 在校生数 (自评表!F13) typed as “很多”."""
    import openpyxl

    wb = openpyxl.load_workbook(EXAMPLES / "strong.xlsx")
    ws = wb["自评表"]
    assert ws["A13"].value == "students"
    ws["F13"] = "很多"
    path = folder / "滨江-有误.xlsx"
    wb.save(path)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def new_project(session: Session, plan: Plan, name: str, round: int = 1) -> Project:
    """A project of 2026 on ``plan``'s framework, flushed (so it has its id)."""
    project = Project(
        name=name,
        framework_id=plan.framework.id,
        framework_version=plan.framework.version,
        framework_hash=plan.hash,
        year=2026,
        round=round,
    )
    session.add(project)
    session.flush()
    return project


def seed(svc: Service) -> int:
    """The project, its two units and the users; the project's id."""
    first_admin(svc, ADMIN_PASSWORD)
    plan = svc.plan("demo-school")
    with svc.transaction() as session:
        project = new_project(session, plan, "2026 年春季督评")
        session.add(Unit(project_id=project.id, code=A, name="滨江实验小学", type="小学", region="示范区"))
        session.add(Unit(project_id=project.id, code=B, name="北山中学", type="初中", region="示范区"))
        for name, (role, unit) in USERS.items():
            session.add(User(name=name, role=role, unit_code=unit, password_hash=FAST.hash(password(name))))
        return project.id


@dataclass
class Live:
    base: str
    svc: Service
    project: int
    extra: dict[str, Any] = field(default_factory=dict)

    def unit(self, code: str, rest: str = "") -> str:
        return f"{self.base}/projects/{self.project}/units/{code}{rest}"

    def api(self, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.base}/api/v1{path}", data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=20) as r:
            found: dict[str, Any] = json.loads(r.read())
            return found


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: the embedded SQLite file; else a fresh PostgreSQL database's URL, dropped after the package."""
    if request.param == "sqlite":
        yield None
        return
    pg: Postgres = request.getfixturevalue("postgres")
    if pg.url is None:
        pytest.skip(pg.why)
    url = pg.create()
    yield url
    pg.drop(url)


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[Live]:
    import uvicorn

    folder = tmp_path_factory.mktemp("workspace")
    app = create_app(Settings(data_dir=folder / "data", database_url=database), FAST)
    svc: Service = app.state.service
    project = seed(svc)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    here = Live(f"http://127.0.0.1:{port}", svc, project)
    token = here.api(
        "/login",
        json.dumps({"name": "admin", "password": ADMIN_PASSWORD}).encode(),
        {"Content-Type": "application/json"},
    )["token"]
    stored = here.api(
        f"/projects/{project}/units/{B}/submissions",
        (EXAMPLES / "weak.xlsx").read_bytes(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
    )
    assert stored["status"] == "已评分"
    try:
        yield here
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        svc.close()


# ------------------------------------------------------------------------------------------------ the browser


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "没有安装 playwright（pip install playwright） / playwright is not installed"
    if shutil.which("chromium") is None:
        return "找不到 chromium（apt-get install chromium） / chromium is not on PATH"
    return None


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    why = _missing()
    if why:
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"))
        yield browser
        browser.close()


@dataclass
class Guard:
    """Every request the pages make: those to the test server go on, any other is refused and remembered."""

    host: str
    foreign: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what the pages' scripts complain of (CSP refusals, …)

    def console(self, message: Any) -> None:
        # a 404 or 422 page is meant: "Failed to load resource" is the browser noting its status
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def __call__(self, route: Any) -> None:
        url = route.request.url
        self.seen.append(url)
        if urlsplit(url).netloc == self.host:
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()


class Contexts:
    """Browser contexts (each its own cookies, as separate people) whose requests may reach the test server
    only; :meth:`check` fails on any request elsewhere, on a script error, or if htmx was never loaded."""

    def __init__(self, browser: Any, live: Live):
        self.browser, self.guard, self.opened = browser, Guard(urlsplit(live.base).netloc), list[Any]()

    def __call__(self) -> Any:
        context = self.browser.new_context(
            locale="zh-CN", viewport={"width": 1100, "height": 760}, accept_downloads=True
        )
        context.route("**/*", self.guard)
        context.on("console", self.guard.console)
        context.on("weberror", lambda e: self.guard.errors.append(str(e.error)))
        context.set_default_timeout(10_000)
        self.opened.append(context)
        return context

    def close(self) -> None:
        for context in self.opened:
            context.close()

    def check(self) -> None:
        guard = self.guard
        assert guard.foreign == [], f"requests to other hosts: {guard.foreign}"
        assert guard.seen, "the guard saw no request (is routing on?)"
        assert any(urlsplit(u).path.endswith("/htmx.min.js") for u in guard.seen)  # the bundled htmx loaded
        assert guard.errors == [], f"errors in the pages: {guard.errors}"


@pytest.fixture
def contexts(chromium: Any, live: Live) -> Iterator[Contexts]:
    made = Contexts(chromium, live)
    try:
        yield made
    finally:
        made.close()
    made.check()


@pytest.fixture
def browse(contexts: Contexts) -> Any:
    """A fresh browser context, guarded (see :class:`Contexts`)."""
    return contexts()


def shots() -> Path | None:
    """Where to save screenshots of the pages (``SCORING_SCREENSHOTS``, e.g. docs/), or None."""
    folder = os.environ.get("SCORING_SCREENSHOTS")
    return Path(folder) if folder else None
