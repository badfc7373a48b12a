"""``scoring.service.serve`` — what ``scoring serve`` runs — starts uvicorn on a migrated store, with the first
管理员 and (``demo``) the demo users, and answers over a real socket."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .conftest import EXAMPLES, _free_port


def _call(
    url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _signed_in(base: str, name: str, password: str) -> dict[str, str]:
    """Once the server answers (up to 20 s): the headers of a user signed in."""
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/openapi.json", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    body = json.dumps({"name": name, "password": password}).encode()
    status, token = _call(f"{base}/login", body, {"Content-Type": "application/json"})
    assert status == 200
    return {"Authorization": f"Bearer {token['token']}", "Content-Type": "application/json"}


def test_serve_runs_the_service_with_its_first_admin_and_the_demo(tmp_path: Path) -> None:
    port = _free_port()
    code = (
        "from scoring.service import serve; "
        f"serve(port={port}, data_dir={str(tmp_path / 'data')!r}, demo=True, admin_password='first-admin-pw')"
    )
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        auth = _signed_in(base, "binjiang", "binjiang")
        status, projects = _call(f"{base}/projects", headers=auth)
        assert status == 200 and isinstance(projects, list)
        # the school's unit is in the demo's two rounds (the demo county's schools are other units)
        assert [p["round"] for p in projects] == [1, 2]
        path = f"{base}/projects/{projects[0]['id']}/units/3201010001/submissions"
        status, scored = _call(path.removesuffix("/submissions") + "/result", headers=auth)
        assert status == 200 and scored["results"][0]["source"] == "strong.xlsx"  # the demo comes scored
        status, _ = _call(path, (EXAMPLES / "strong.yaml").read_bytes(), auth)
        assert status == 409  # round 1 is closed: the demo has opened round 2
        path = f"{base}/projects/{projects[1]['id']}/units/3201010001/submissions"
        status, stored = _call(path, (EXAMPLES / "strong.yaml").read_bytes(), auth)
        assert status == 201 and stored["status"] == "已评分" and stored["version"] == 2
        status, _ = _call(f"{base}/projects/{projects[0]['id']}/units/3201020007", headers=auth)
        assert status == 404
        status, _ = _call(
            f"{base}/login",
            b'{"name": "admin", "password": "first-admin-pw"}',
            {"Content-Type": "application/json"},
        )
        assert status == 200
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert (tmp_path / "data" / "scoring.db").is_file()
    assert "已创建管理员 admin" in err.decode() and "演示用户 dux" in err.decode()


def test_a_request_time_limit_that_is_no_number_is_refused_before_the_server_starts(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scoring.cli import main

    env = {"SCORING_REQUEST_SECONDS": "两分钟", "SCORING_DATA_DIR": str(tmp_path)}
    ran = CliRunner().invoke(main, ["serve", "--port", "1"], env=env)
    assert ran.exit_code == 2
    assert "SCORING_REQUEST_SECONDS 应为秒数（如 120），而不是 “两分钟”" in ran.output
    assert not (tmp_path / "scoring.db").exists()  # nothing made


def test_serve_with_two_workers_answers_from_one_database(tmp_path: Path) -> None:
    """``scoring serve --workers 2``: the parent migrates the store and makes the first 管理员 once, then two worker
    processes answer; a token made through one worker is good on either (it is in the database)."""
    import os

    port = _free_port()
    argv = [sys.executable, "-m", "scoring.cli", "serve", "--port", str(port), "--workers", "2"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCORING_")}
    env |= {"SCORING_DATA_DIR": str(tmp_path / "data"), "SCORING_ADMIN_PASSWORD": "first-admin-pw"}
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        auth = _signed_in(base, "admin", "first-admin-pw")
        body = (EXAMPLES / "strong.yaml").read_bytes()
        for _ in range(20):  # a new connection each: the kernel hands them to either worker
            status, scored = _call(f"{base}/score?framework=demo-school", body, auth)
            assert status == 200 and scored["results"][0]["total"] == "97.85"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    said = err.decode()
    assert "已创建管理员 admin" in said
    assert said.count("Started server process") == 2, said  # uvicorn's line, once per worker
