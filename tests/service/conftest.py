"""Fixtures for the service: an app on a fresh database per test — SQLite (a file in tmp_path) and PostgreSQL.

PostgreSQL comes from ``SCORING_TEST_POSTGRES_URL`` (a server whose user may create databases), or else from a
throwaway cluster this session starts with ``initdb`` (on PATH, or Debian's /usr/lib/postgresql/<version>/bin) as
the ``postgres`` user, or ``nobody``, when the tests run as root (initdb refuses root); without either, the
PostgreSQL cases are skipped, saying why. A cluster that fails to start fails the tests, with its log.
Each test gets its own database, dropped afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scoring.service.app import create_app
from scoring.service.auth import Passwords
from scoring.service.bootstrap import first_admin
from scoring.service.settings import Limits, Settings
from scoring.service.state import Service

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "demo-school"
FAST = Passwords(memory_kib=1024, time_cost=1, parallelism=1)  # argon2id, cheap: tests hash many passwords
ADMIN_PASSWORD = "admin-secret-1"


# ------------------------------------------------------------------------------------------------ PostgreSQL


@dataclass
class Postgres:
    url: str | None  # the server, as a SQLAlchemy URL without a database name; None: not available
    why: str = ""

    def create(self) -> str:
        assert self.url is not None
        name = "t_" + uuid.uuid4().hex[:12]
        _admin(self.url, f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def drop(self, url: str) -> None:
        assert self.url is not None
        _admin(self.url, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(
        server.replace("postgresql+psycopg://", "postgresql://") + "/postgres", autocommit=True
    ) as c:
        c.execute(sql.encode())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as(user: str | None, argv: list[str]) -> list[str]:
    """``argv`` run as ``user`` (with util-linux's runuser, which root has on Debian), or as it is."""
    if user is None:
        return argv
    runuser = shutil.which("runuser") or next(
        (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists()), "runuser"
    )
    return [runuser, "-u", user, "--", *argv]


def _cluster_user() -> str | None:
    """Who runs the cluster: this user, or (as root) ``postgres`` or ``nobody``."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root without a postgres or nobody user to run initdb")


def _binary(name: str) -> str | None:
    """A PostgreSQL program: on PATH, or where Debian's postgresql package puts it (the newest version)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(candidates[-1]) if candidates else None


def _run(folder: Path, user: str | None, argv: list[str], log: Path | None = None) -> None:
    """Run a cluster command; when it fails, fail with its output (a broken setup is not a reason to skip)."""
    done = subprocess.run(_as(user, argv), capture_output=True, text=True, cwd=folder)
    if done.returncode != 0:
        server = log.read_text(errors="replace") if log and log.exists() else ""
        pytest.fail(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{server}")


def _server(url: str) -> str:
    """A server URL for SQLAlchemy with psycopg 3, without a database name."""
    url = url.rstrip("/")
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url.rsplit("/", 1)[0] if url.count("/") > 2 else url


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    given = os.environ.get("SCORING_TEST_POSTGRES_URL")
    if given:
        yield Postgres(_server(given))
        return
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        yield Postgres(
            None,
            "PostgreSQL 不可用：没有 SCORING_TEST_POSTGRES_URL，也找不到 initdb/pg_ctl（PATH 或 "
            "/usr/lib/postgresql/*/bin） / PostgreSQL not available: set SCORING_TEST_POSTGRES_URL or install it",
        )
        return
    user = _cluster_user()
    folder = Path(tempfile.mkdtemp(prefix="scoring-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, port, log = folder / "data", _free_port(), folder / "server.log"
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    try:
        _run(folder, user, [initdb, "-D", str(data), "-U", "scoring", "-A", "trust", "-E", "UTF8"])
        _run(folder, user, [pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], log)
        yield Postgres(f"postgresql+psycopg://scoring@127.0.0.1:{port}")
    finally:
        stop = [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as(user, stop), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- the app


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None: the embedded SQLite file under the test's data folder; else a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        yield None
        return
    pg: Postgres = request.getfixturevalue("postgres")
    if pg.url is None:
        pytest.skip(pg.why)
    url = pg.create()
    yield url
    pg.drop(url)


def make_client(tmp_path: Path, database_url: str | None, limits: Limits | None = None) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, limits=limits or Limits())
    return TestClient(create_app(settings, FAST), raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path, database: str | None) -> Iterator[TestClient]:
    """An app on a fresh database (each of SQLite and PostgreSQL) with a 管理员 ``admin``."""
    with make_client(tmp_path, database) as c:
        first_admin(service_of(c), ADMIN_PASSWORD)
        yield c
        service_of(c).close()


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[TestClient]:
    """The app on SQLite only: for what does not depend on the database (scoring, validating, limits)."""
    with make_client(tmp_path, None) as c:
        first_admin(service_of(c), ADMIN_PASSWORD)
        yield c
        service_of(c).close()


def service_of(c: TestClient) -> Service:
    svc: Service = c.app.state.service  # type: ignore[attr-defined]
    return svc


def login(c: TestClient, name: str, password: str) -> dict[str, str]:
    r = c.post("/api/v1/login", json={"name": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


# ----------------------------------------------------------------------------------------------- a small world

UNITS_CSV = "单位代码,单位名称,单位类型,学段,区域\n3201010001,滨江实验小学,小学,小学,示范区\n3201020007,北山中学,初中,初中,示范区\n"
A, B = "3201010001", "3201020007"  # 滨江实验小学 (strong.*), 北山中学 (weak.*)


@dataclass
class World:
    """A project on demo-school with units A and B; a 管理员, a 督学, and a 学校 user for each of A and B."""

    c: TestClient
    project: int
    admin: dict[str, str]
    inspector: dict[str, str]
    school_a: dict[str, str]
    school_b: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def unit_path(self, code: str, rest: str = "") -> str:
        return f"/api/v1/projects/{self.project}/units/{code}{rest}"


def make_world(c: TestClient) -> World:
    admin = login(c, "admin", ADMIN_PASSWORD)
    r = c.post(
        "/api/v1/projects",
        json={"name": "2026 年春季督评", "framework": "demo-school", "year": 2026},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    project = r.json()["id"]
    files = {"file": ("单位名单.csv", UNITS_CSV.encode("utf-8"), "text/csv")}
    r = c.post(f"/api/v1/projects/{project}/units/import", files=files, headers=admin)
    assert r.status_code == 200, r.text
    users = [("dux", "督学", None), ("school-a", "学校", A), ("school-b", "学校", B)]
    for name, role, unit in users:
        body = {"name": name, "role": role, "unit_code": unit, "password": f"{name}-password"}
        assert c.post("/api/v1/users", json=body, headers=admin).status_code == 201
    heads = [login(c, name, f"{name}-password") for name, _, _ in users]
    return World(c, project, admin, *heads)


@pytest.fixture
def world(client: TestClient) -> World:
    return make_world(client)
