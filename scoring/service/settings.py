"""The service's settings: where the data lives, which database, and the limits on what a request may carry.

Read once at start-up from arguments or the environment (``SCORING_DATA_DIR``, ``SCORING_DATABASE_URL``,
``SCORING_REQUEST_SECONDS``); a
running app never reads the environment again, so two apps in one process (tests) do not share settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_DATA_DIR = Path("scoring-data")
DB_FILE = "scoring.db"


@dataclass(frozen=True)
class Limits:
    """What one request may carry. A 自评表 workbook is tens of KiB; a unit list a few hundred rows."""

    max_upload: int = 20 * MiB  # one file: a submission, a framework or a unit list (before any parser)
    max_body: int = 21 * MiB  # a whole request body, multipart framing included
    max_form_parts: int = 8  # fields and files in one multipart form (one file and a few fields)
    max_versions: int = 200  # submissions kept per unit: an upload past this is refused, nothing is dropped
    max_evidence: int = 20  # 佐证材料 kept per 整改 item, withdrawn ones included (each at most max_upload)
    max_units: int = 5_000  # rows in one unit list
    # seconds a request may take before its response starts (body upload included); 0 turns the limit off. A PDF
    # of a large 汇总 takes a few seconds; a slow client on an intranet sends 20 MiB in well under this
    request_seconds: float = 120.0
    # scoring processes for batch uploads (one driver per app runs batches in turn); a core is left to the server
    batch_workers: int = max(1, min(4, (os.cpu_count() or 2) - 1))
    # failed sign-ins within login_window_minutes after which a user name (login_failures) or a client address
    # (login_address_failures) is refused until enough of them are older than the window (service/throttle.py)
    login_failures: int = 5
    login_address_failures: int = 20
    login_window_minutes: int = 15


@dataclass(frozen=True)
class Settings:
    """``database_url`` overrides the embedded SQLite file ``data_dir/scoring.db`` (PostgreSQL for a shared
    server: ``postgresql+psycopg://user:password@host/dbname``). ``session_hours``: how long a login lasts."""

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    limits: Limits = field(default_factory=Limits)
    session_hours: int = 12

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))  # a str given for the folder

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / DB_FILE).resolve()}"

    @property
    def embedded(self) -> bool:
        return self.url.startswith("sqlite")

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
        """Arguments first, then ``SCORING_DATA_DIR`` and ``SCORING_DATABASE_URL``, then the defaults."""
        folder = data_dir or os.environ.get("SCORING_DATA_DIR") or DEFAULT_DATA_DIR
        url = database_url or os.environ.get("SCORING_DATABASE_URL") or None
        limits = Limits()
        seconds = os.environ.get("SCORING_REQUEST_SECONDS")
        if seconds:
            try:
                limits = replace(limits, request_seconds=max(0.0, float(seconds)))
            except ValueError:
                raise ValueError(f"SCORING_REQUEST_SECONDS 应为秒数（如 120），而不是 “{seconds}”") from None
        return cls(data_dir=Path(folder), database_url=url, limits=limits)
