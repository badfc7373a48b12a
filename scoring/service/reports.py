"""Reports from stored results: every file ``scoring score`` writes, made for a unit's current result or a
project's units, as bytes for a download — and the county (cohort) result over a project's units.

Nothing here decides a word or a number: a stored result is read back with ``result_from_json`` (the very
document the upload stored, so the reports are those of the result the unit page shows) and handed to the
library's renderers, as ``jobs.batch`` hands them the result it has just scored (``.result.json`` is the stored
document itself, byte for byte). The county result is ``engine.cohort.score_cohort`` over the stored bytes of
each unit's newest scored submission, as ``scoring cohort`` scores a folder of them.

Who may download what is decided by ``access.Actor`` as for every endpoint: a unit's reports go to whoever may
see the unit (a 学校 user: its own only, another unit is 404); a project's summary and its county result go to
管理员 and 督学 (a 学校 user: 404 for a project it does not see, 403 for one it does).

**The issuing office** of the two documents (督导意见书, 整改通知书): the file ``issuer.yaml`` in the service's
data folder (the format of ``scoring score --issuer``, docs/reports.md) when there is one, else
:data:`DEFAULT_ISSUER` (发文机关 教育督导室, no 文号 number: filled in by hand).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from ..engine.cohort import CohortResult, score_cohort
from ..engine.result import Result, result_from_json
from ..engine.rows import FailureRow, UnitRow
from ..engine.submission import Submission
from ..problems import ScoringError
from ..report.issuer import Issuer, load_issuer
from .access import Actor, overseer
from .county_data import county_framework, county_plan, current_county, no_county, read_county
from .errors import ApiError
from .models import CountySubmission, Project, ResultRow, Unit
from .models import Submission as Upload
from .state import Service
from .submitting import SCORED

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ISSUER_FILE = "issuer.yaml"  # in the service's data folder: the office that issues the documents
DEFAULT_ISSUER = Issuer(office="教育督导室")
# PDFs (Typst) cost a CPU each for a fraction of a second: at most this many are made at once per process, and a
# request that waits longer than RENDER_WAIT seconds for its turn is refused (503) rather than queued for ever
RENDER_SLOTS = 2
RENDER_WAIT = 30.0
_RENDERING = threading.BoundedSemaphore(RENDER_SLOTS)


@dataclass(frozen=True)
class Kind:
    """A report a unit's result is downloaded as: what the file is called after the unit, its media type, and
    what ``scoring score`` calls it (``--reports`` and the suffix of its file)."""

    label: str  # in the file name and on the page: 滨江实验小学-评估报告.xlsx
    suffix: str
    media_type: str
    cli: str  # the file scoring score writes: <name>.report.xlsx


UNIT_KINDS: dict[str, Kind] = {
    "json": Kind("评分结果", ".json", "application/json", ".result.json"),
    "md": Kind("评估报告", ".md", "text/markdown; charset=utf-8", ".report.md"),
    "xlsx": Kind("评估报告", ".xlsx", XLSX, ".report.xlsx"),
    "pdf": Kind("评估报告", ".pdf", "application/pdf", ".report.pdf"),
    "opinion.docx": Kind("督导意见书", ".docx", DOCX, ".督导意见书.docx"),
    "notice.docx": Kind("整改通知书", ".docx", DOCX, ".整改通知书.docx"),
}
SUMMARY_KINDS: dict[str, Kind] = {
    "summary.xlsx": Kind("汇总", ".xlsx", XLSX, "汇总.xlsx"),
    "summary.pdf": Kind("汇总", ".pdf", "application/pdf", "汇总.pdf"),
}
COHORT_FILE = "县域评估.json"


@dataclass(frozen=True)
class Download:
    data: bytes
    filename: str
    media_type: str

    def headers(self) -> dict[str, str]:
        """``Content-Disposition`` with the Chinese name (RFC 5987 ``filename*``) and an ASCII one for clients
        that read only ``filename``; never sniffed, never cached (a unit's data)."""
        ascii_name = "report" + Path(self.filename).suffix
        return {
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.filename, safe='')}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }


# ------------------------------------------------------------------------------------------- a unit's reports


def current_rows(session: Session, unit: Unit) -> tuple[Upload | None, list[ResultRow]]:
    """The unit's newest scored submission and its results (one per part), or (None, [])."""
    upload = session.scalars(
        select(Upload)
        .options(defer(Upload.content))  # the bytes are not needed: the stored result is
        .where(Upload.unit_id == unit.id, Upload.status == SCORED)
        .order_by(Upload.version.desc())
        .limit(1)
    ).first()
    if upload is None:
        return None, []
    rows = list(
        session.scalars(
            select(ResultRow).where(ResultRow.submission_id == upload.id).order_by(ResultRow.part)
        )
    )
    return upload, rows


def issuer(svc: Service) -> Issuer:
    """The office issuing the documents: ``issuer.yaml`` in the data folder, else :data:`DEFAULT_ISSUER`."""
    path = Path(svc.settings.data_dir) / ISSUER_FILE
    if not path.is_file():
        return DEFAULT_ISSUER
    return load_issuer(path)  # IssuerError names the line at fault (503 through unavailable())


def safe_name(text: str) -> str:
    from ..jobs.batch import safe_name as safe

    return safe(text)


def unit_file_name(unit_name: str, result: Result, parts: int, kind: Kind) -> str:
    """``滨江实验小学-评估报告.xlsx``; a unit scored as several parts names the part's type
    (``县实验学校-小学-评估报告.xlsx``)."""
    name = unit_name if parts <= 1 else f"{unit_name}-{result.unit.type or '单位'}"
    return f"{safe_name(name)}-{kind.label}{kind.suffix}"


def render_unit(result: Result, kind: str, office: Issuer) -> bytes:
    """The bytes ``scoring score --reports …`` writes for ``result`` in ``kind`` (all but json, which is the
    stored document itself)."""
    if kind == "json":
        return result.to_json().encode("utf-8")
    if kind == "md":
        from ..report.markdown import markdown

        return markdown(result).encode("utf-8")
    if kind == "xlsx":
        from ..report.unit_xlsx import unit_report_bytes

        return unit_report_bytes(result)
    if kind == "pdf":
        from ..report.pdf import unit_pdf

        with rendering():
            return unit_pdf(result)
    if kind == "opinion.docx":
        from ..report.docx_writer import opinion_docx

        return opinion_docx(result, office)
    if kind == "notice.docx":
        from ..report.docx_writer import notice_docx

        return notice_docx(result, office)
    raise unknown_kind(kind, UNIT_KINDS)


def unit_report(svc: Service, actor: Actor, project_id: int, code: str, kind: str, part: int = 0) -> Download:
    """A unit's current result as the report ``kind``; 404 for a unit not seen or one without a scored result."""
    if kind not in UNIT_KINDS:
        raise unknown_kind(kind, UNIT_KINDS)
    with svc.sessions() as session:
        unit = actor.unit(session, project_id, code)
        name = unit.name
        _, rows = current_rows(session, unit)
    if not rows:
        raise ApiError(
            404,
            "no-result",
            f"单位 {code}（{name}）还没有已评分的填报数据，没有可下载的报告",
            f"unit {code} has no scored submission: no report",
        )
    if not 0 <= part < len(rows):
        raise ApiError(
            404,
            "no-result",
            f"单位 {code}（{name}）的评分结果只有 {len(rows)} 部分（part 0–{len(rows) - 1}）",
            f"unit {code} has {len(rows)} part(s)",
        )
    row = rows[part]
    spec = UNIT_KINDS[kind]
    result = result_from_json(row.document)
    if kind == "json":
        data = row.document.encode("utf-8")  # exactly as stored: exactly as scoring score wrote it
    else:
        with unavailable():
            data = render_unit(result, kind, issuer(svc) if kind.endswith(".docx") else DEFAULT_ISSUER)
    return Download(data, unit_file_name(name, result, len(rows), spec), spec.media_type)


# ------------------------------------------------------------------------------------------ a project's summary


@dataclass
class Current:
    """A unit of a project with its newest scored submission (None: none yet) and that submission's results."""

    unit: Unit
    upload: Upload | None
    rows: list[ResultRow]
    refused: Upload | None = None  # its newest upload, when that could not be scored

    @property
    def cohort_upload(self) -> Upload | None:
        """What the county result reads for the unit: its current submission — or a newer one refused only
        because the framework evaluates no unit in it (a 教学点 under 50 pupils), which ``score_cohort`` then
        lists as 不参评 with the rule, as ``scoring cohort`` does for such a file."""
        last = self.refused
        if last is not None and last.problems and all(p.get("code") == "no-unit" for p in last.problems):
            return last
        return self.upload


def project_units(session: Session, actor: Actor, project_id: int, content: bool = False) -> list[Current]:
    """Every unit the caller sees in the project, in code order, with its current (newest scored) results;
    ``content``: with the submissions' bytes (else they are not loaded)."""
    units = list(session.scalars(actor.units(project_id)))
    lean = () if content else (defer(Upload.content),)
    mine = actor.units(project_id).with_only_columns(Unit.id).order_by(None)

    def newest(*where: Any) -> dict[int, Upload]:
        """Each unit's newest upload (of those ``where`` admits), by unit id."""
        last = (
            select(Upload.unit_id, func.max(Upload.version).label("v"))
            .where(Upload.unit_id.in_(mine), *where)
            .group_by(Upload.unit_id)
            .subquery()
        )
        query = select(Upload).options(*lean)
        query = query.join(last, (last.c.unit_id == Upload.unit_id) & (last.c.v == Upload.version))
        return {u.unit_id: u for u in session.scalars(query)}

    uploads = newest(Upload.status == SCORED)
    latest = newest()
    results: dict[int, list[ResultRow]] = {}
    ids = [u.id for u in uploads.values()]
    for r in session.scalars(
        select(ResultRow).where(ResultRow.submission_id.in_(ids)).order_by(ResultRow.part)
    ):
        results.setdefault(r.submission_id, []).append(r)
    out = []
    for unit in units:
        upload = uploads.get(unit.id)
        last = latest.get(unit.id)
        refused = last if last is not None and last.status != SCORED else None
        out.append(Current(unit, upload, results.get(upload.id, []) if upload else [], refused))
    return out


def summary_rows(found: list[Current]) -> tuple[list[UnitRow], list[FailureRow]]:
    """The summary's rows, as a batch makes them from the results it scored (one per part; the file is the
    submission's name as uploaded), and a failure per unit whose only uploads could not be scored."""
    rows: list[UnitRow] = []
    failures: list[FailureRow] = []
    for cur in found:
        if cur.upload is not None:
            rows += [UnitRow.of(cur.upload.filename, result_from_json(r.document)) for r in cur.rows]
        elif cur.refused is not None:
            reasons = [str(p.get("message", "")) for p in cur.refused.problems] or ["无法评分"]
            failures.append(FailureRow(f"{cur.unit.name}：{cur.refused.filename}", reasons))
    return rows, failures


def project_summary(svc: Service, actor: Actor, project_id: int, kind: str) -> Download:
    """The project's 汇总 over its units' current results, as ``scoring score`` writes 汇总.xlsx / 汇总.pdf."""
    if kind not in SUMMARY_KINDS:
        raise unknown_kind(kind, SUMMARY_KINDS)
    with svc.sessions() as session:
        project = actor.project(session, project_id)  # 404 for a project the caller does not see
        overseer(actor, "下载评估项目的汇总报告", "download a project's summary")
        found = project_units(session, actor, project_id)
        name = project.name
    framework = svc.project_plan(project).framework
    rows, failures = summary_rows(found)
    spec = SUMMARY_KINDS[kind]
    with unavailable():
        if kind == "summary.xlsx":
            from ..report.summary_xlsx import batch_summary_bytes

            data = batch_summary_bytes(
                rows, failures, framework_name=framework.name, precision=framework.settings.total_places
            )
        else:
            from ..report.pdf import summary_pdf

            with rendering():
                data = summary_pdf(
                    rows, failures, framework_name=framework.name, precision=framework.settings.total_places
                )
    return Download(data, f"{safe_name(name)}-{spec.label}{spec.suffix}", spec.media_type)


# ---------------------------------------------------------------------------------------------- county (cohort)


def project_county(svc: Service, actor: Actor, project_id: int) -> tuple[Project, CohortResult]:
    """The county result over the project's units: each unit's newest scored submission, read from its stored
    bytes and scored by ``score_cohort`` with the county framework that aggregates the project's framework.

    A unit without a scored submission is a row not evaluated (as a file ``scoring cohort`` cannot read): the
    statistics do not hold it and the verdict is 暂定 until it is. The county's own values are the version of its
    data that counts (``county_data``), as ``scoring cohort --county FILE`` reads them; without one they are 缺报."""
    with svc.sessions() as session:
        project = actor.project(session, project_id)
        overseer(actor, "查看县域评估", "see the county evaluation")
        found = project_units(session, actor, project_id, content=True)
        county_row = current_county(session, project_id)
    county = county_framework(project.framework_id)
    if county is None:
        raise no_county(project)
    plan = svc.project_plan(project)
    from ..io.read import read_submission

    submissions: list[Submission] = []
    failures: list[FailureRow] = []
    for cur in found:
        where = f"{cur.unit.code} {cur.unit.name}"
        upload = cur.cohort_upload
        if upload is None:
            failures.append(FailureRow(where, [f"{where}：没有已评分的填报数据，未计入县域统计"]))
            continue
        try:
            sub = read_submission(upload.content, filename=upload.filename, plan=plan, limits=svc.file_limits)
        except ScoringError as err:  # stored and scored once: only a changed reader could refuse it now
            failures.append(FailureRow(where, [p.format("zh") for p in err.problems]))
            continue
        submissions.append(sub)
    county_sub = county_submission(svc, project, county_row)
    return project, score_cohort(county, submissions, county_sub, failures=failures)


def county_submission(svc: Service, project: Project, row: CountySubmission | None) -> Submission | None:
    """The county's own data that counts, read again from its stored bytes (None: none uploaded yet, so the county
    indicators are 缺报 and the verdict 暂定)."""
    if row is None:
        return None
    plan = county_plan(project.framework_id)
    assert plan is not None  # the project has a county framework (project_county checked)
    sub, problems = read_county(plan, row.content, row.filename, svc)
    if sub is None:  # read once when it was uploaded: only a changed reader could refuse it now
        raise ApiError(
            409,
            "county-data-unreadable",
            f"第 {row.version} 版县级填报数据现在无法读取：" + "；".join(p.format("zh") for p in problems),
            f"version {row.version} of the county's data can no longer be read",
            problems,
        )
    return sub


COUNTY_KINDS: dict[str, Kind] = {
    "xlsx": Kind("县域评估", ".xlsx", XLSX, "县域评估.xlsx"),
    "md": Kind("县域评估", ".md", "text/markdown; charset=utf-8", "县域评估.md"),
    "pdf": Kind("县域评估", ".pdf", "application/pdf", "县域评估.pdf"),
    "json": Kind("县域评估", ".json", "application/json", "县域评估.json"),
}


def county_report(svc: Service, actor: Actor, project_id: int, kind: str) -> Download:
    """The county report over the project's units, as ``scoring cohort`` writes 县域评估.xlsx / .md / .pdf /
    .json: the same renderers of the same result (``project_county``)."""
    if kind not in COUNTY_KINDS:
        raise unknown_kind(kind, COUNTY_KINDS)
    project, result = project_county(svc, actor, project_id)
    spec = COUNTY_KINDS[kind]
    with unavailable():
        if kind == "json":
            data = result.to_json().encode("utf-8")
        elif kind == "md":
            from ..report.cohort import markdown

            data = markdown(result).encode("utf-8")
        elif kind == "xlsx":
            from ..report.cohort import workbook_bytes

            data = workbook_bytes(result)
        else:
            from ..report.pdf import cohort_pdf

            with rendering():
                data = cohort_pdf(result)
    return Download(data, f"{safe_name(project.name)}-{spec.label}{spec.suffix}", spec.media_type)


# ------------------------------------------------------------------------------------------------------ helpers


@contextmanager
def unavailable() -> Iterator[None]:
    """A report this server cannot make (no Chinese font or Typst for a PDF, no python-docx, an issuer.yaml
    that cannot be read) is the server's fault, not the request's: 503 with what to install or fix."""
    try:
        yield
    except ScoringError as err:
        first = err.problems[0] if err.problems else None
        raise ApiError(
            503,
            "report-unavailable",
            f"无法生成报告：{first.message_zh if first else err}",
            f"the report cannot be made: {first.message_en if first else err}",
            err.problems,
        ) from None


class rendering:
    """One of the :data:`RENDER_SLOTS` PDF renderings of this process, or 503 after :data:`RENDER_WAIT` s."""

    def __enter__(self) -> None:
        if not _RENDERING.acquire(timeout=RENDER_WAIT):
            raise ApiError(
                503,
                "busy",
                "正在生成的 PDF 报告较多，请稍后再试",
                "too many PDF reports are being made; try again later",
            )

    def __exit__(self, *_: object) -> None:
        _RENDERING.release()


def unknown_kind(kind: str, kinds: dict[str, Kind]) -> ApiError:
    known = "、".join(kinds)
    return ApiError(
        404, "not-found", f"没有 “{kind[:40]}” 这种报告（可下载：{known}）", f"no report kind {kind!r}"
    )
