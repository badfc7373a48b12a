"""The HTTP service (``scoring serve``): a store of projects, units, submissions and results with roles, over
the same library calls as the command line. Needs the ``service`` extra (``pip install 'duping-scoring[service]'``).

Layers inside: ``settings`` · ``models`` (tables) and ``migrations`` (Alembic) · ``db`` · ``auth`` (passwords,
tokens) · ``access`` (who may see and do what, in one place) · ``work`` (the library calls) · ``api/`` (routers)
· ``app`` (the FastAPI factory). See docs/service.md.
"""

from __future__ import annotations

import sys
from pathlib import Path


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: str | Path | None = None,
    database_url: str | None = None,
    demo: bool = False,
    admin_password: str | None = None,
    workers: int = 1,
) -> None:
    """Run the service with uvicorn until interrupted.

    ``data_dir`` (default ``SCORING_DATA_DIR`` or ``./scoring-data``) holds the SQLite file ``scoring.db`` unless
    ``database_url`` (or ``SCORING_DATABASE_URL``) names another database, such as
    ``postgresql+psycopg://user:password@host/dbname``. The database is migrated at start-up. A store without
    users gets a 管理员 ``admin`` whose password (``admin_password`` or ``SCORING_ADMIN_PASSWORD``, else a random
    one) is printed once. ``demo`` adds the demo projects (two units in two rounds, a county of 17 schools) and
    users ``dux`` (督学) and ``binjiang`` (学校), each with its name as password.

    ``workers`` > 1: that many uvicorn worker processes, each with its own app on the same database (migrated,
    given its first 管理员 and demo here, once, before they start; they read the settings from the environment).
    Nothing a request needs lives in one process's memory — sessions, CSRF and batches are in the database — so
    any worker may answer any request. A client's keep-alive connection stays with the worker that accepted it."""
    import os

    import uvicorn

    from .app import create_app
    from .bootstrap import demo as make_demo
    from .bootstrap import first_admin
    from .settings import Settings

    try:
        settings = Settings.from_env(data_dir, database_url)
    except ValueError as err:  # a setting from the environment that cannot be read: say which, no traceback
        print(f"错误：{err}", file=sys.stderr)
        raise SystemExit(2) from None
    app = create_app(settings)
    svc = app.state.service
    given = admin_password or os.environ.get("SCORING_ADMIN_PASSWORD")
    password = first_admin(svc, given)
    if password is not None:
        shown = "（已按设置）" if given else password
        print(f"已创建管理员 admin，密码：{shown}（请登录后妥善保管）", file=sys.stderr)
    if demo:
        for name, secret in make_demo(svc):
            print(f"演示用户 {name}，密码：{secret}", file=sys.stderr)
    print(
        f"督评工作台：http://{host}:{port}/ ；接口：http://{host}:{port}/api/v1/openapi.json"
        f"（数据：{svc.settings.url.split('@')[-1]}）",
        file=sys.stderr,
    )
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    svc.close()
    os.environ["SCORING_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    if settings.database_url:
        os.environ["SCORING_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "scoring.service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )
