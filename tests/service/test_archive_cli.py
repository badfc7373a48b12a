"""``scoring archive export|import``: the project archive from the command line (a district's backup by cron, or a
move from SQLite to PostgreSQL) — the same archive as the service's download, imported as the same project;
never over an existing file; a changed archive or an unknown project is refused in Chinese with nothing written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scoring.cli import main
from scoring.service.bootstrap import demo, first_admin
from scoring.service.settings import Settings
from scoring.service.state import Service

from .conftest import ADMIN_PASSWORD
from .test_archive import dump


def _store(folder: Path, url: str | None = None) -> Service:
    return Service(Settings(data_dir=folder, database_url=url))


def _demo(folder: Path) -> int:
    """A SQLite store with the demo projects; the id of the first (two scored units, 整改 items, audit rows)."""
    svc = _store(folder)
    try:
        first_admin(svc, ADMIN_PASSWORD)
        demo(svc)
    finally:
        svc.close()
    return 1


def _run(*argv: str) -> tuple[int, str]:
    ran = CliRunner().invoke(main, list(argv))
    return ran.exit_code, ran.output


def test_a_project_exported_and_imported_on_the_command_line_is_the_same_project(
    tmp_path: Path, database: str | None
) -> None:
    source = tmp_path / "source"
    project = _demo(source)
    backup = tmp_path / "备份.zip"
    code, said = _run("archive", "export", str(project), "-o", str(backup), "--data", str(source))
    assert code == 0, said
    assert said.startswith(f"已导出评估项目 {project} 到 {backup}：单位 2 个")
    target = tmp_path / "target"
    argv = ["archive", "import", str(backup), "--data", str(target), "--reason", "迁移"]
    code, said = _run(*argv, *(["--database-url", database] if database else []))
    assert code == 0, said
    assert said.startswith("已导入为评估项目 1：单位 2 个")
    assert "新建用户（停用、无密码" in said  # the demo's 督学 and school users, inactive in the new store
    old, new = _store(source), _store(target, database)
    try:
        before, after = dump(old, project), dump(new, 1)
        assert after.pop("audit")[:-1] == before.pop("audit") and after == before
    finally:
        old.close()
        new.close()


def test_an_archive_never_replaces_a_file_and_an_unknown_project_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "source"
    _demo(source)
    backup = tmp_path / "backup.zip"
    backup.write_bytes(b"yesterday's backup")
    code, said = _run("archive", "export", "1", "-o", str(backup), "--data", str(source))
    assert code == 2 and "已存在：档案不覆盖已有文件" in said
    assert backup.read_bytes() == b"yesterday's backup"
    code, said = _run("archive", "export", "99", "-o", str(tmp_path / "none.zip"), "--data", str(source))
    assert code == 1 and "找不到评估项目 99" in said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.zip", "source"]  # no part left behind


def test_a_changed_archive_is_refused_and_nothing_is_imported(tmp_path: Path) -> None:
    source = tmp_path / "source"
    _demo(source)
    backup = tmp_path / "backup.zip"
    assert _run("archive", "export", "1", "-o", str(backup), "--data", str(source))[0] == 0
    data = bytearray(backup.read_bytes())
    at = data.find(b"units.jsonl")  # the member's name in its local header: now a member the manifest lacks
    data[at : at + 5] = b"UNITS"
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(data))
    target = tmp_path / "target"
    code, said = _run("archive", "import", str(broken), "--data", str(target))
    assert code == 1 and said.startswith("评估项目档案无法导入："), said
    svc = _store(target)
    try:
        with svc.sessions() as session:
            from sqlalchemy import func, select

            from scoring.service.models import Project

            assert session.scalar(select(func.count(Project.id))) == 0
    finally:
        svc.close()
