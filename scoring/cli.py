"""The ``scoring`` command: a thin layer that parses arguments, calls the library and prints.

Exit codes: 0 ok; 1 findings (validation errors, failed tests, unreadable submissions); 2 usage or I/O error
(a path that does not exist, an output folder that cannot be written or is in use, an output of the wrong kind).
Text from submissions and results (names, files, reasons) is printed through ``problems.printable``: a control
character in it is shown as an escape, never sent to the terminal.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from .version import __version__

# Only click and the version are imported to build the command group (``scoring --help`` and ``--version`` stop
# there); each command imports what it uses when it runs.
if TYPE_CHECKING:
    from collections.abc import Callable

    from .engine.cohort import CohortResult
    from .engine.plan import Plan
    from .engine.result import Result, UnitRef
    from .engine.rows import FailureRow, UnitRow
    from .engine.score import Options
    from .engine.submission import Submission
    from .jobs.batch import BatchResult, FileOutcome, Inputs, Outputs
    from .jobs.cluster import Cluster
    from .jobs.storage import RemoteInputs
    from .problems import Lang, Problem, Report
    from .report.issuer import Issuer

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
IO_CODES = {"not-found", "io"}

LANG = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="消息语言 / message language",
)


def _t(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _p(text: object) -> str:
    """Untrusted text (a name, a file, a reason) for the terminal: control characters shown as escapes."""
    from .problems import printable

    return printable(str(text))


def _problem_lines(p: Problem, lang: Lang) -> list[str]:
    """A problem as printed: its message on one line, whatever it quotes; its detail (a caret line) below."""
    from dataclasses import replace

    head = replace(p, message_zh=_p(p.message_zh), message_en=_p(p.message_en), detail=None)
    head = replace(head, file=_p(p.file) if p.file else None, cell=_p(p.cell) if p.cell else None)
    return [head.format(lang), *("    " + _p(line) for line in (p.detail or "").splitlines())]


def _echo_problems(problems: list[Problem], lang: Lang, err: bool = True) -> None:
    for p in problems:
        for line in _problem_lines(p, lang):
            click.echo(line, err=err)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scoring")
def main() -> None:
    """督评 scoring：按指标体系为学校、幼儿园、县域评分。

    Score education-supervision self-assessments against indicator frameworks declared in YAML.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text：供人阅读；json：供程序读取；github：GitHub Actions 注释行",
)
@click.option("--strict", is_flag=True, help="警告也算错误 / treat warnings as errors")
@LANG
def validate(paths: tuple[str, ...], fmt: str, strict: bool, lang: Lang) -> None:
    """检查框架文件（文件、文件夹或内置框架 id），一次报告全部问题。

    Check framework files (files, folders or shipped ids); report every problem in one run.
    """
    from .framework.validate import validate as run

    report, count = run(paths)
    if count == 0:
        click.echo(
            _t(lang, "没有找到框架文件（.yaml / .yml）", "no framework files (.yaml / .yml) found"), err=True
        )
        sys.exit(EXIT_USAGE)
    io = [p for p in report.problems if p.code in IO_CODES]
    _print_report(report, fmt, lang)
    if fmt == "text":
        click.echo(
            _t(
                lang,
                f"检查了 {count} 个框架：{len(report.errors)} 个错误，{len(report.warnings)} 个警告",
                f"checked {count} framework(s): {len(report.errors)} error(s), {len(report.warnings)} warning(s)",
            ),
            err=True,
        )
    if io:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if report.ok(strict) else EXIT_FINDINGS)


def _print_report(report: Report, fmt: str, lang: Lang) -> None:
    if fmt == "json":
        click.echo(report.to_json(lang))
        return
    if fmt == "github":
        for p in report.sorted():
            click.echo(_p(p.github(lang)))
        return
    _echo_problems(report.sorted(), lang, err=False)


@main.command()
@click.argument("name", default="framework", type=click.Choice(["framework", "submission", "result"]))
def schema(name: str) -> None:
    """打印文件格式的 JSON Schema（draft 2020-12）。

    Print the JSON Schema (draft 2020-12) of the framework, submission or result format.
    """
    from .io.schema import dumps

    click.echo(dumps(name), nl=False)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def frameworks(fmt: str) -> None:
    """列出内置框架（id、名称、版本、来源）。 List shipped frameworks."""
    from .framework.registry import entries

    rows = entries()
    if fmt == "json":
        import json

        click.echo(
            json.dumps(
                [
                    {
                        "id": e.id,
                        "name": e.name,
                        "version": e.version,
                        "source": e.source,
                        "extends": e.extends,
                    }
                    for e in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for e in rows:
        extra = f"  （扩展 {_p(e.extends)}）" if e.extends else ""
        click.echo(f"{_p(e.id)}\t{_p(e.name)}\t{_p(e.version)}\t{_p(e.source)}{extra}")


def _load(framework: str, lang: Lang) -> Plan:
    """Load a framework for scoring, or print its problems and exit 1 (2 if it cannot be found)."""
    from .engine.plan import compile_plan
    from .framework.load import load_framework
    from .problems import FrameworkError

    try:
        return compile_plan(load_framework(framework))
    except FrameworkError as err:
        _echo_problems(err.problems, lang)
        sys.exit(EXIT_USAGE if any(p.code in IO_CODES for p in err.problems) else EXIT_FINDINGS)


@main.command()
@click.argument("framework")
@click.argument("submissions", nargs=-1, required=True)
@click.option("-o", "--output", "outdir", help="输出目录：每个单位的报告和批次汇总表（不存在时新建）")
@click.option(
    "--reports",
    "--format",
    "fmt",
    default="json,xlsx,md",
    show_default=True,
    help="输出哪些报告，逗号分隔：json, xlsx, md, pdf（单位报告和汇总）, docx（督导意见书和整改通知书）",
)
@click.option(
    "--issuer",
    "issuer_path",
    type=click.Path(dir_okay=False),
    help="发文机关设置（issuer.yaml：发文机关、文号、签发人……），用于 docx 公文；不给时发文机关留空待填",
)
@click.option("--explain", "explain_codes", multiple=True, help="打印某个指标的计算过程（可重复）")
@click.option(
    "--values",
    "which",
    type=click.Choice(["final", "self", "evaluator"]),
    default="final",
    show_default=True,
    help="按哪一方的数据评分：final（督评优先）、self（自评）、evaluator（督评）",
)
@click.option("--workers", type=int, default=None, help="并行进程数（默认：CPU 核数，最多 2）")
@click.option(
    "--force",
    is_flag=True,
    help="全部重新评分（默认：输出目录中输入与框架均未变、结果完整的文件跳过，只评其余的）",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="在 Dask 集群上评分，如 tcp://10.0.0.5:8786（输入和输出须是各节点都能访问的共享文件夹，或 s3:// 对象存储）",
)
@LANG
def score(
    framework: str,
    submissions: tuple[str, ...],
    outdir: str | None,
    fmt: str,
    issuer_path: str | None,
    explain_codes: tuple[str, ...],
    which: Literal["final", "self", "evaluator"],
    workers: int | None,
    force: bool,
    scheduler: str | None,
    lang: Lang,
) -> None:
    """为填报数据评分：SUBMISSIONS 是自评表（.xlsx/.xls/.ods）、.json、.yaml 文件或文件夹。

    Score submissions (workbooks, JSON, YAML, or folders of them). With -o DIR, writes per unit
    <name>.result.json, <name>.report.xlsx and <name>.report.md, and 汇总.xlsx for the batch; --reports pdf adds
    <name>.report.pdf and 汇总.pdf, --reports docx the 督导意见书 and 整改通知书 (<name>.督导意见书.docx …).
    A file that cannot be read is reported with every reason and skipped; the exit code is then 1.
    Files of other types in the folders are listed as skipped; a unit found in several files is ranked once.
    The output folder is held by one run at a time. A run into a folder holding earlier results resumes: files
    whose results are whole for the same input and framework are skipped (--force scores them again), and the
    summary covers every file. --scheduler ADDRESS scores on a Dask cluster (pip install '.[cluster]').
    """
    from .engine.score import Options
    from .jobs.batch import Outputs

    formats = Outputs.of(_formats(fmt, lang), _issuer(issuer_path, lang) if issuer_path else None)
    plan = _load(framework, lang)
    inputs = _submission_files(submissions, outdir, lang)
    unknown = [c for c in explain_codes if c not in plan.index]
    if unknown:
        raise click.UsageError(
            _t(lang, f"没有编码为 “{'、'.join(unknown)}” 的指标", f"no indicator {', '.join(unknown)}")
        )
    result = _run_batch(
        plan, inputs, outdir, formats, workers, Options(values=which), explain_codes, force, lang, scheduler
    )
    _print_end(result, len(inputs.files), lang)
    if result.failures:
        sys.exit(EXIT_FINDINGS)


def _issuer(path: str, lang: Lang) -> Issuer:
    """The issuing office's settings, or exit 2 naming each fault (file, line and column)."""
    from .report.issuer import IssuerError, load_issuer

    try:
        return load_issuer(path)
    except IssuerError as err:
        _echo_problems(err.problems, lang)
        sys.exit(EXIT_USAGE)


def _formats(fmt: str, lang: Lang) -> list[str]:
    from .jobs.batch import FORMATS

    formats = [f.strip() for f in fmt.split(",") if f.strip()]
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise click.UsageError(
            _t(
                lang,
                f"未知的输出格式：{', '.join(sorted(unknown))}",
                f"unknown format: {', '.join(sorted(unknown))}",
            )
        )
    return formats


def _submission_files(submissions: tuple[str, ...], outdir: str | None, lang: Lang) -> Inputs | RemoteInputs:
    """The files named or found in the folders named; a path that does not exist, or none found, is exit 2."""
    from .jobs import storage
    from .jobs.batch import collect

    remote = storage.is_url(outdir or "")  # object storage (docs/cluster.md): the objects under one prefix
    missing = [p for p in submissions if not (remote or Path(p).exists())]
    if missing:
        click.echo(
            _t(lang, f"找不到：{_p('、'.join(missing))}", f"not found: {_p(', '.join(missing))}"), err=True
        )
        sys.exit(EXIT_USAGE)
    inputs = (
        storage.collect(submissions[0], exclude=outdir)
        if remote and outdir
        else collect(submissions, exclude=Path(outdir) if outdir else None)
    )
    if not inputs.files:
        _print_skipped(inputs, lang)
        click.echo(
            _t(lang, "没有找到可评分的文件（.xlsx .xls .ods .json .yaml）", "no submission files found"),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    return inputs


def _run_batch(
    plan: Plan,
    inputs: Inputs | RemoteInputs,
    outdir: str | None,
    formats: Outputs,
    workers: int | None,
    options: Options,
    explain: tuple[str, ...],
    force: bool,
    lang: Lang,
    scheduler: str | None = None,
) -> BatchResult:
    """The batch, with a progress bar on a terminal (each unit's line after it) or a line per file as it ends.

    An output folder that cannot be made, written or held, or a cluster that cannot be reached (or Dask not
    installed), is exit 2 before any file is scored."""
    from contextlib import ExitStack

    from .jobs import storage
    from .jobs.batch import score_batch

    batch: Callable[..., BatchResult] = storage.score_batch if storage.is_url(outdir or "") else score_batch
    with ExitStack() as stack:
        cluster = stack.enter_context(_cluster(scheduler, lang)) if scheduler else None
        run = partial(
            batch,
            plan,
            inputs,
            outdir,
            formats=formats,
            workers=workers,
            options=options,
            explain=explain,
            force=force,
            on_start=partial(_print_start, folder=outdir or "", force=force, lang=lang),
            executor=cluster,
        )
        return _progress(run, inputs, lang)


def _cluster(scheduler: str, lang: Lang) -> Cluster:
    """The cluster at ``scheduler``, or exit 2 saying why not (Dask not installed, the scheduler unreachable)."""
    from .jobs.cluster import Cluster, ClusterError

    try:
        cluster = Cluster.connect(scheduler)
    except ClusterError as err:
        for p in err.problems:
            click.echo(_p(p.message(lang)), err=True)
        sys.exit(EXIT_USAGE)
    click.echo(
        _t(
            lang,
            f"集群 {_p(scheduler)}：{cluster.threads()} 个工作线程",
            f"cluster {_p(scheduler)}: {cluster.threads()} worker thread(s)",
        ),
        err=True,
    )
    return cluster


def _progress(run: Callable[..., BatchResult], inputs: Inputs | RemoteInputs, lang: Lang) -> BatchResult:
    """``run`` with a progress bar on a terminal (each unit's line after it), or a line per file as it ends."""
    from .io.files import OutputError

    show = partial(_print_outcome, lang=lang)
    try:
        if not (sys.stderr.isatty() and len(inputs.files) > 1):
            return run(on_file=show)
        done: list[FileOutcome] = []
        with click.progressbar(
            length=len(inputs.files), label=_t(lang, "评分中", "scoring"), file=sys.stderr
        ) as bar:

            def on_file(outcome: FileOutcome) -> None:
                bar.update(1)
                done.append(outcome)

            result = run(on_file=on_file)
    except OutputError as err:
        for p in err.problems:
            click.echo(_p(p.message(lang)), err=True)
        sys.exit(EXIT_USAGE)
    order = {str(f): i for i, f in enumerate(inputs.files)}
    for outcome in sorted(done, key=lambda o: order.get(o.file, 0)):
        if outcome.rows:
            show(outcome)
    return result


def _print_start(batch: BatchResult, folder: str, force: bool, lang: Lang) -> None:
    """What the output folder held: a lock left by a run that died (taken over), earlier results (skipped where
    still whole for the same input and framework, else replaced; a line for each input scored again because its
    results are not what its record says)."""
    if batch.taken_over is not None:
        click.echo(
            _t(
                lang,
                f"输出文件夹 {_p(folder)} 里有上次中断的评分留下的锁（{_p(batch.taken_over.text('zh'))}，"
                "该进程已不存在），本次已接管",
                f"the output folder {_p(folder)} held the lock of an interrupted run"
                f" ({_p(batch.taken_over.text('en'))}, no longer running); taken over",
            ),
            err=True,
        )
    if force and batch.earlier:
        click.echo(
            _t(
                lang,
                f"输出文件夹 {_p(folder)} 已有之前评分的结果（{len(batch.earlier)} 个文件）：--force，全部重新"
                "评分，覆盖同名文件",
                f"the output folder {_p(folder)} holds {len(batch.earlier)} result file(s) of an earlier run:"
                " --force, all scored again, those of the same name replaced",
            ),
            err=True,
        )
    if batch.reused:
        click.echo(
            _t(
                lang,
                f"已有结果 {batch.reused} 份（输入与框架均未变），跳过；--force 重新评分",
                f"{batch.reused} file(s) already scored (same input and framework): skipped; --force scores them"
                " again",
            ),
            err=True,
        )
    if batch.changed:
        click.echo(
            _t(
                lang,
                f"{batch.changed} 份的输入、框架或评分方式已变：重新评分，替换之前的结果",
                f"{batch.changed} file(s) changed (input, framework or options): scored again, earlier results"
                " replaced",
            ),
            err=True,
        )
    for file, names in batch.damaged:
        click.echo(
            _t(
                lang,
                f"{_p(file)}：上次的结果 {_p('、'.join(names))} 缺失或与记录不符（大小或校验和不同：被删改，或"
                "断电、死机时未写完）：重新评分",
                f"{_p(file)}: the earlier result(s) {_p(', '.join(names))} are missing or differ from the record"
                " (size or checksum: removed or edited, or not fully written at a power cut or crash): scored again",
            ),
            err=True,
        )


def _print_outcome(outcome: FileOutcome, lang: Lang = "zh") -> None:
    """A file's units, each with the arithmetic asked for; a file that failed is named (its reasons come last)."""
    for i, row in enumerate(outcome.rows):
        sep = "：" if lang == "zh" else ": "
        was = _t(lang, "（已有结果）", " (already scored)") if outcome.reused else ""
        click.echo(f"✓ {_p(outcome.file)}{sep}{_row_line(row, lang)}{was}")
        for line in outcome.explained[i] if outcome.explained else ():
            click.echo("  " + _p(line))
    if not outcome.rows:
        click.echo(f"✗ {_p(outcome.file)}", err=True)


def _row_line(row: UnitRow, lang: Lang = "zh") -> str:
    from .framework.text import fmt as show

    name = _p(row.name)
    if lang == "en":
        state = "passed" if row.passed else "not passed" if row.passed is False else "pending"
        head = f"{name}: {show(row.total)} points" if row.total is not None else f"{name}: {state}"
        grade = f", {_p(row.grade)}" if row.grade else ""
        veto = f", veto: {_p('; '.join(row.vetoes))}" if row.vetoes else ""
        prov = " (provisional: missing or pending items)" if row.provisional else ""
        return f"{head}{grade}{veto}{prov}"
    head = (
        f"{name}：{show(row.total)} 分"
        if row.total is not None
        else f"{name}：{'通过' if row.passed else '未通过' if row.passed is False else '待定'}"
    )
    grade = f"，{_p(row.grade)}" if row.grade else ""
    veto = f"，一票否决：{_p('；'.join(row.vetoes))}" if row.vetoes else ""
    prov = "（暂定：有缺报或待评项）" if row.provisional else ""
    return f"{head}{grade}{veto}{prov}"


def _print_skipped(inputs: Inputs | RemoteInputs | BatchResult, lang: Lang) -> None:
    for s in inputs.skipped:
        click.echo(
            _t(lang, f"○ 跳过 {_p(s.file)}：{_p(s.reason)}", f"○ skipped {_p(s.file)}: {_p(s.reason_en)}"),
            err=True,
        )


def _print_end(result: BatchResult, files: int, lang: Lang) -> None:
    """After the batch: every failure with its reasons, the files skipped, the units found twice, the count."""
    for failure in result.failures:
        click.echo(
            _t(lang, f"✗ {_p(failure.file)}：无法评分", f"✗ {_p(failure.file)}: cannot score"), err=True
        )
        for reason in failure.reasons_en if lang == "en" and failure.reasons_en else failure.reasons:
            click.echo("    " + _p(reason), err=True)
    _print_skipped(result, lang)
    for d in result.duplicates:
        code = d.code or d.type
        unit_zh = _p(d.name) + (f"（{_p(code)}）" if code else "")
        unit_en = _p(d.name) + (f" ({_p(code)})" if code else "")
        click.echo(
            _t(
                lang,
                f"⚠ 重复的单位：{unit_zh}见于 {len(d.files)} 个文件：{'、'.join(_p(f) for f in d.files)}；"
                f"只有最近修改的 {_p(d.ranked)} 计入排名和统计",
                f"⚠ duplicate unit: {unit_en} in {len(d.files)} files: {', '.join(_p(f) for f in d.files)};"
                f" only the most recently modified, {_p(d.ranked)}, is ranked and counted",
            ),
            err=True,
        )
    if result.kept:
        more = "…" if len(result.kept) > 10 else ""
        click.echo(
            _t(
                lang,
                f"注意：输出文件夹中之前评分留下的 {len(result.kept)} 个文件本次没有重写，不在本次汇总中："
                f"{'、'.join(_p(f) for f in result.kept[:10])}{more}",
                f"note: {len(result.kept)} file(s) of an earlier run in the output folder were not rewritten and"
                f" are not in this summary: {', '.join(_p(f) for f in result.kept[:10])}{more}",
            ),
            err=True,
        )
    repeated = sum(1 for row in result.rows if not row.ranked)
    summary = _p(result.summary) if result.summary else ""
    click.echo(
        _t(
            lang,
            f"共 {files} 份：评分 {len(result.rows)} 份"
            + (f"（其中已有结果 {result.reused} 个文件，未重新评分）" if result.reused else "")
            + f"，失败 {len(result.failures)} 份"
            + (f"，跳过 {len(result.skipped)} 个文件" if result.skipped else "")
            + (f"，重复 {repeated} 份（不计排名）" if repeated else "")
            + (f"；汇总表 {summary}" if summary else ""),
            f"{files} file(s): {len(result.rows)} scored"
            + (f" ({result.reused} file(s) of them already scored, not again)" if result.reused else "")
            + f", {len(result.failures)} failed"
            + (f", {len(result.skipped)} skipped" if result.skipped else "")
            + (f", {repeated} duplicate(s) not ranked" if repeated else "")
            + (f"; summary {summary}" if summary else ""),
        ),
        err=True,
    )


@main.command()
@click.argument("framework")
@click.argument("source")
@click.option(
    "--county",
    "county_path",
    type=click.Path(exists=True, dir_okay=False),
    help="县级填报数据：由县域框架生成的县级自评表（scoring template），或 .yaml / .json",
)
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), help="输出目录")
@click.option(
    "--format",
    "fmt",
    default="json,xlsx,md",
    show_default=True,
    help="输出格式，逗号分隔：json, xlsx, md, pdf",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="在 Dask 集群上读取学校自评表文件夹，如 tcp://10.0.0.5:8786（文件夹须是各节点都能访问的共享文件夹）",
)
@LANG
def cohort(
    framework: str,
    source: str,
    county_path: str | None,
    outdir: str | None,
    fmt: str,
    scheduler: str | None,
    lang: Lang,
) -> None:
    """县域汇总评估：SOURCE 是每校一行的统计表（.csv / .xlsx），或学校自评表所在的文件夹。

    County evaluation over a table with one row per school, or a folder of school submissions. Writes
    县域评估.json / .xlsx / .md (表Ⅱ-2, 表Ⅲ, the verdict with reasons, 整改清单 per school and for the county).
    Every row becomes evaluated units, or is listed with its row and why: 不参评 by the framework's rules
    (exit 0) or refused as a data error (exit 1; the verdict is then 暂定). A table the framework cannot be
    read from (a missing or unknown column, no rows, too many rows) is refused whole: exit 1. Usage errors: 2.
    --scheduler ADDRESS reads a folder of submissions on a Dask cluster (pip install '.[cluster]').
    """
    import gc

    from .engine.cohort import needed_inputs, score_cohort
    from .engine.plan import compile_plan
    from .framework.load import unit_framework
    from .io.read import read_submission
    from .io.table import MAX_ROWS, read_table
    from .problems import ScoringError, printable
    from .report.cohort import MAX_WORKBOOK_ROWS, write_all

    formats, src = _cohort_args(fmt, source, lang)
    workbook = bool(outdir) and "xlsx" in formats
    plan = _load(framework, lang)
    fw = plan.framework
    if fw.cohort is None:
        click.echo(
            _t(lang, f"框架 {fw.id} 没有 cohort（县域汇总）部分", f"framework {fw.id} has no cohort section"),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    if scheduler and not src.is_dir():
        click.echo(
            _t(
                lang,
                "--scheduler 只用于学校自评表所在的文件夹；统计表在本机一次读取，请去掉 --scheduler",
                "--scheduler is for a folder of submissions; a table is read here at once: leave it out",
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    failures: list[FailureRow] = []
    try:
        unit_plan = compile_plan(unit_framework(fw))
        if src.is_dir():
            submissions, failures = _cohort_folder(src, outdir, unit_plan, scheduler, lang)
        else:
            needed = needed_inputs(fw, unit_plan)
            limit = MAX_WORKBOOK_ROWS if workbook else MAX_ROWS
            submissions, failures = read_table(src, unit_plan, needed=needed, lang=lang, max_rows=limit)
            gc.freeze()  # the rows as read stay as they are: see below
        county_sub = read_submission(county_path, plan=plan) if county_path else None
        result = score_cohort(fw, submissions, county_sub, failures=failures, lang=lang)
    except ScoringError as err:
        _cohort_refused(err.problems, workbook, lang)
        sys.exit(EXIT_FINDINGS)
    # The result is final: the cyclic collector need not walk it again and again while the reports are built
    # (a 100,000-school county holds millions of objects; this saves about a tenth of the run).
    gc.freeze()
    _cohort_summary(result, lang)
    if outdir:
        try:
            for path in write_all(result, outdir, formats):
                click.echo(f"→ {path}")
        except OSError as err:
            click.echo(_t(lang, f"无法写出：{err}", f"cannot write: {err}"), err=True)
            sys.exit(EXIT_USAGE)
        except ScoringError as err:  # the PDF cannot be made here (no Chinese font, no Typst)
            _echo_problems(err.problems, lang)
            sys.exit(EXIT_USAGE)
    for row in result.excluded:
        click.echo(
            _t(lang, f"不参评：{row.where(lang)}：", f"not evaluated: {row.where(lang)}: ") + row.reason(lang)
        )
    for failure in result.failures:
        click.echo(f"✗ {printable(failure.file)}", err=True)
        for reason in failure.reasons:
            click.echo(f"    {printable(reason)}", err=True)
    sys.exit(EXIT_FINDINGS if result.failures else EXIT_OK)


def _cohort_folder(
    src: Path, outdir: str | None, plan: Plan, scheduler: str | None, lang: Lang
) -> tuple[list[Submission], list[FailureRow]]:
    """The schools' submissions in the folder, read here or on the cluster at ``scheduler``, and the files refused."""
    from contextlib import ExitStack

    from .engine.rows import FailureRow
    from .jobs.batch import expand, read_files

    files = expand([src], exclude=Path(outdir) if outdir else None)
    submissions: list[Submission] = []
    failures: list[FailureRow] = []
    with ExitStack() as stack:
        cluster = stack.enter_context(_cluster(scheduler, lang)) if scheduler else None
        for f, got in cluster.read(plan, files) if cluster else read_files(plan, files):
            if isinstance(got, list):
                failures.append(FailureRow(str(f), [p.format(lang) for p in got]))
            else:
                submissions.append(got)
    return submissions, failures


def _cohort_args(fmt: str, source: str, lang: Lang) -> tuple[tuple[str, ...], Path]:
    """The output formats and the source of ``scoring cohort``, or exit 2: an unknown format, a source that does
    not exist or is neither a table nor a folder."""
    from .io.table import TABLE_SUFFIXES
    from .problems import printable
    from .report.cohort import FORMATS

    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        click.echo(
            _t(
                lang,
                f"未知的输出格式：{'、'.join(printable(f) for f in unknown) or '（空）'}；可用：{', '.join(FORMATS)}",
                f"unknown output format: {', '.join(printable(f) for f in unknown) or '(none)'}; "
                f"use: {', '.join(FORMATS)}",
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    src = Path(source)
    if not src.exists():
        click.echo(_t(lang, f"找不到：{printable(source)}", f"not found: {printable(source)}"), err=True)
        sys.exit(EXIT_USAGE)
    if not src.is_dir() and src.suffix.lower() not in TABLE_SUFFIXES:
        click.echo(
            _t(
                lang,
                f"{printable(source)}：应为统计表（{' / '.join(TABLE_SUFFIXES)}）或学校自评表所在的文件夹",
                f"{printable(source)}: expected a table ({' / '.join(TABLE_SUFFIXES)}) or a folder of submissions",
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    return formats, src


def _cohort_refused(problems: list[Problem], workbook: bool, lang: Lang) -> None:
    """Why ``scoring cohort`` read nothing; for a table too long for a workbook, what can still be done."""
    from .io.table import MAX_ROWS
    from .report.cohort import MAX_WORKBOOK_ROWS

    for p in problems:
        click.echo(p.format(lang), err=True)
    if workbook and any(p.code == "table-too-long" for p in problems):
        click.echo(
            _t(
                lang,
                f"县域评估.xlsx 最多写 {MAX_WORKBOOK_ROWS:,} 所学校（Excel 工作簿写得慢：10 万所约需 40 秒）；"
                f"不写工作簿（--format json,md）时上限为 {MAX_ROWS:,} 行",
                f"县域评估.xlsx holds at most {MAX_WORKBOOK_ROWS:,} schools (a workbook is slow to write: about 40 s "
                f"for 100,000); without it (--format json,md) the limit is {MAX_ROWS:,} rows",
            ),
            err=True,
        )


def _cohort_summary(result: CohortResult, lang: Lang) -> None:
    """The county verdict, its reasons and 表Ⅲ in brief; how many rows became units, were left out, refused."""
    from .framework.text import fmt as show
    from .problems import printable

    county = printable(result.county.unit.name)
    passed = sum(1 for u in result.units if u.passed)
    units, left, bad = len(result.units), len(result.excluded), len(result.failures)
    if lang == "zh":
        verdict = (
            "通过认定"
            if result.passed
            else ("不予认定" if result.passed is False else "暂定（有缺报、待评项或未能评估的行）")
        )
        click.echo(
            f"{county}：{verdict}（评估单位 {units} 个，达标 {passed} 个；不参评 {left} 行，未能评估 {bad} 行）"
        )
    else:
        verdict = (
            "accredited"
            if result.passed
            else (
                "not accredited"
                if result.passed is False
                else "provisional (missing, pending or refused rows)"
            )
        )
        click.echo(
            f"{county}: {verdict} ({units} evaluated units, {passed} passed; {left} rows not evaluated, "
            f"{bad} refused)"
        )
    for reason in result.reasons:
        click.echo(f"  · {printable(reason)}")
    for st in result.stats:
        mean = show(st.mean) if st.mean is not None else "—"
        cv = show(st.cv) if st.cv is not None else "—"
        if lang == "zh":
            click.echo(f"  {st.indicator} {st.group}：全县平均值 {mean}，差异系数 {cv}（{st.units} 所）")
        else:
            click.echo(f"  {st.indicator} {st.group}: county mean {mean}, CV {cv} ({st.units} units)")


def _xlsx_target(out: str, what_zh: str, what_en: str, lang: Lang) -> None:  # what_zh: 自评表, 整改台账
    """An output written as an Excel workbook must be named ``….xlsx`` and not be a folder: else exit 2."""
    path = Path(out)
    if path.is_dir():
        click.echo(
            _t(
                lang,
                f"{what_zh}要写成一个 .xlsx 文件，而 {_p(out)} 是文件夹：请给出文件名，如 {_p(path / (what_zh + '.xlsx'))}",
                f"the {what_en} is written as an .xlsx file, but {_p(out)} is a folder: give a file name",
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    if path.suffix.lower() != ".xlsx":
        said = f"“{_p(path.suffix)}”" if path.suffix else "没有扩展名"
        click.echo(
            _t(
                lang,
                f"{what_zh}是 Excel 工作簿，文件名应以 .xlsx 结尾：{_p(out)} {'的扩展名是 ' if path.suffix else ''}"
                f"{said}",
                f"the {what_en} is an Excel workbook and its name must end in .xlsx: {_p(out)}"
                f" ends in '{_p(path.suffix)}'" + ("" if path.suffix else " (no extension)"),
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)


@main.command()
@click.argument("framework")
@click.option("-o", "--output", "out", required=True, help="输出文件（.xlsx），如 自评表.xlsx")
@click.option("--unit-type", help="只包含适用于该单位类型的填报项，如 小学")
@click.option("--evaluator", is_flag=True, help="加一列督评值（以及督学评定项）")
@LANG
def template(framework: str, out: str, unit_type: str | None, evaluator: bool, lang: Lang) -> None:
    """生成供学校填写的自评表（Excel）。 Write a self-assessment workbook template."""
    from .io.files import os_reason
    from .io.template import write_template
    from .problems import ScoringError

    _xlsx_target(out, "自评表", "template", lang)
    plan = _load(framework, lang)
    try:
        path = write_template(plan, out, unit_type, evaluator)
    except ScoringError as err:
        _echo_problems(err.problems, lang)
        sys.exit(EXIT_USAGE)
    except OSError as err:
        zh, en = os_reason(err)
        click.echo(_t(lang, f"无法写入 {_p(out)}：{zh}", f"cannot write {_p(out)}: {en}"), err=True)
        sys.exit(EXIT_USAGE)
    click.echo(_t(lang, f"已生成 {_p(path)}", f"wrote {_p(path)}"))


@main.command()
@click.argument("framework")
@click.argument("submission")
@click.argument("codes", nargs=-1, required=True)
@LANG
def explain(framework: str, submission: str, codes: tuple[str, ...], lang: Lang) -> None:
    """打印指定指标（及其下级）的计算过程。 Print the trace of chosen indicators."""
    from .engine.score import score as run
    from .io.read import read_submission
    from .problems import ScoringError
    from .report.explain import explanation_lines

    plan = _load(framework, lang)
    unknown = [c for c in codes if c not in plan.index]
    if unknown:
        click.echo(
            _t(lang, f"没有编码为 “{_p(unknown[0])}” 的指标", f"no indicator '{_p(unknown[0])}'"), err=True
        )
        sys.exit(EXIT_USAGE)
    try:
        result = run(plan, read_submission(submission, plan=plan))
    except ScoringError as err:
        _echo_problems(err.problems, lang)
        sys.exit(EXIT_FINDINGS)
    for code in codes:
        for line in explanation_lines(result, code):
            click.echo(_p(line))


@main.command("test")
@click.argument("paths", nargs=-1, required=True)
@LANG
def test_cmd(paths: tuple[str, ...], lang: Lang) -> None:
    """运行框架文件中声明的测试用例；任何失败时退出码为 1。 Run the test cases declared with frameworks."""
    from .framework.load import validate_path
    from .framework.validate import framework_paths
    from .jobs.cases import run_cases

    files, _ = framework_paths(paths)
    if not files:
        click.echo(_t(lang, "没有找到框架文件", "no framework files found"), err=True)
        sys.exit(EXIT_USAGE)
    passed = failed = 0
    broken = io_error = False
    for f in files:
        fw, problems = validate_path(f)
        if fw is None:
            broken = True
            io_error = io_error or any(p.code in IO_CODES for p in problems)
            _echo_problems([p for p in problems if p.severity == "error"], lang)
            continue
        for case in run_cases(fw):
            if case.ok:
                passed += 1
                click.echo(f"✓ {_p(fw.id)} · {_p(case.name)}")
            else:
                failed += 1
                click.echo(f"✗ {_p(fw.id)} · {_p(case.name)}")
                for line in case.failures:
                    click.echo(f"    {_p(line)}")
    click.echo(f"{passed} passed, {failed} failed")
    if io_error:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if failed or broken else EXIT_OK)


@main.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "-o",
    "--ledger",
    help="同时写出整改台账（.xlsx）。 Also write the 整改台账 workbook here.",
)
@click.option("--force", is_flag=True, help="两份结果不是同一单位时仍然比较（默认：拒绝，退出码 2）")
@LANG
def diff(old: str, new: str, fmt: str, ledger: str | None, force: bool, lang: Lang) -> None:
    """比较两轮评分结果（.result.json）：已销号、仍未整改（含逾期）、新增问题，以及一级指标得分变化。

    Compare two rounds' results of one unit. Results of two different units (another 单位代码, or without codes
    another name) are refused (exit 2) unless --force, which compares them with a warning.
    """
    import dataclasses
    import json

    from .engine.diff import diff as compare
    from .engine.diff import same_unit

    a, b = _result(old, lang), _result(new, lang)
    if ledger:
        _xlsx_target(ledger, "整改台账", "ledger", lang)
    if not same_unit(a.unit, b.unit):
        _different_units(old, new, a.unit, b.unit, force, lang)
    d = compare(a, b)
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(d), ensure_ascii=False, indent=2, default=str))
    else:
        for line in d.lines():
            click.echo(_p(line))
    if ledger:
        from .io.files import os_reason
        from .report.ledger import write_ledger

        try:
            path = write_ledger(a, b, ledger, d)
        except OSError as err:
            zh, en = os_reason(err)
            click.echo(_t(lang, f"无法写入 {_p(ledger)}：{zh}", f"cannot write {_p(ledger)}: {en}"), err=True)
            sys.exit(EXIT_USAGE)
        click.echo(_t(lang, f"整改台账：{_p(path)}", f"ledger: {_p(path)}"), err=fmt == "json")


def _result(path: str, lang: Lang) -> Result:
    """A result read from ``path``, or exit 2 saying why not."""
    from pydantic import ValidationError

    from .engine.result import result_from_json

    p = Path(path)
    if not p.exists():
        click.echo(_t(lang, f"找不到：{_p(path)}", f"not found: {_p(path)}"), err=True)
        sys.exit(EXIT_USAGE)
    if p.is_dir():
        click.echo(
            _t(
                lang,
                f"{_p(path)} 是文件夹，应给出评分结果文件（.result.json）",
                f"{_p(path)} is a folder, not a result file",
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    try:
        return result_from_json(p.read_bytes())
    except (ValidationError, OSError, ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        click.echo(
            _t(
                lang,
                f"无法读取评分结果 {_p(path)}：{_p(first)}",
                f"cannot read the result {_p(path)}: {_p(first)}",
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)


def _different_units(old: str, new: str, a: UnitRef, b: UnitRef, force: bool, lang: Lang) -> None:
    """Two results of different units: refused (exit 2) unless ``--force``, which only warns."""

    def unit(u: UnitRef) -> str:
        extra = "，".join(x for x in (f"代码 {u.code}" if u.code else "", u.type or "") if x)
        return _p(f"{u.name}（{extra}）" if extra else u.name)

    zh = f"两份结果不是同一单位：{_p(old)} 是 {unit(a)}，{_p(new)} 是 {unit(b)}"
    en = f"the two results are of different units: {_p(old)} is {unit(a)}, {_p(new)} is {unit(b)}"
    if not force:
        click.echo(
            _t(
                lang,
                f"{zh}。请确认文件；确需比较时加 --force",
                f"{en}. Check the files; add --force to compare anyway",
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    click.echo(
        _t(lang, f"警告：{zh}（--force：仍然比较）", f"warning: {en} (--force: compared anyway)"), err=True
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（默认只接受本机访问）")
@click.option("--port", type=int, default=8000, show_default=True, help="端口")
@click.option(
    "--data", "data_dir", help="数据目录（默认 SCORING_DATA_DIR 或 ./scoring-data），存放 SQLite 数据库"
)
@click.option("--database-url", help="数据库地址，如 postgresql+psycopg://用户:密码@主机/库名（默认 SQLite）")
@click.option(
    "--demo",
    is_flag=True,
    help="载入演示项目（demo-school 的两所学校两轮评估、一个优质均衡县）和演示用户 dux、binjiang",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="工作进程数：多核服务器可设为 CPU 核数（各进程共用同一个数据库）",
)
def serve(
    host: str, port: int, data_dir: str | None, database_url: str | None, demo: bool, workers: int
) -> None:
    """启动评估服务（HTTP API /api/v1）。 Start the scoring service.

    Needs the service extra: pip install -c constraints.txt '.[service]'. See docs/service.md."""
    _service_extra()
    from .service import serve as run

    run(host=host, port=port, data_dir=data_dir, database_url=database_url, demo=demo, workers=workers)


def _service_extra() -> None:
    """Exit with what to install when the service extra is missing (before anything starts)."""
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        click.echo(
            f"评估服务需要安装 service 扩展：pip install -c constraints.txt '.[service]'（缺少 {err.name}）",
            err=True,
        )
        sys.exit(EXIT_USAGE)


_STORE_OPTIONS = (
    click.option(
        "--data", "data_dir", help="数据目录（默认 SCORING_DATA_DIR 或 ./scoring-data），存放 SQLite 数据库"
    ),
    click.option(
        "--database-url", help="数据库地址，如 postgresql+psycopg://用户:密码@主机/库名（默认 SQLite）"
    ),
)


def _store_options(fn: Any) -> Any:
    for option in reversed(_STORE_OPTIONS):
        fn = option(fn)
    return fn


@main.group()
def archive() -> None:
    """评估项目档案：备份与迁移（如 SQLite → PostgreSQL）。 Project archives: export and import.

    The archive is the one zip the service's 档案 download and upload use (docs/service.md): the project, its
    units, every submission's bytes, results, 整改 items, 佐证材料, the county's data and the audit rows."""


@archive.command("export")
@click.argument("project", type=int)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="档案文件（.zip），已存在则不覆盖"
)
@_store_options
def archive_export(project: int, output: str, data_dir: str | None, database_url: str | None) -> None:
    """导出一个评估项目（按编号）为档案。 Export project PROJECT (its id) as an archive."""
    _service_extra()
    from .service.archive import export_path
    from .service.errors import ApiError

    path = Path(output)
    if path.exists():
        click.echo(f"{output} 已存在：档案不覆盖已有文件，请换一个文件名", err=True)
        sys.exit(EXIT_USAGE)
    if not path.parent.is_dir():
        click.echo(f"找不到文件夹 {path.parent}：请先创建", err=True)
        sys.exit(EXIT_USAGE)
    with _store(data_dir, database_url) as svc:
        try:
            manifest = export_path(svc, project, path, by="命令行")
        except ApiError as err:
            click.echo(err.zh, err=True)
            sys.exit(EXIT_FINDINGS)
        except FileExistsError:
            click.echo(f"{output} 已存在：档案不覆盖已有文件，请换一个文件名", err=True)
            sys.exit(EXIT_USAGE)
    counts = manifest.counts
    click.echo(
        f"已导出评估项目 {project} 到 {output}：单位 {counts.get('units', 0)} 个，填报数据 "
        f"{counts.get('submissions', 0)} 版，评分结果 {counts.get('results', 0)} 份，整改事项 "
        f"{counts.get('rectifications', 0)} 项，审计记录 {counts.get('audit', 0)} 条"
    )


@archive.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--reason", help="说明（记入审计日志）")
@_store_options
def archive_import(file: str, reason: str | None, data_dir: str | None, database_url: str | None) -> None:
    """把档案导入为一个新的评估项目。 Import an archive as a new project."""
    _service_extra()
    from .service.archive import import_project
    from .service.errors import ApiError

    with _store(data_dir, database_url) as svc:
        try:
            done = import_project(svc, Path(file), None, reason or "命令行导入")
        except ApiError as err:  # ArchiveError: what is wrong, nothing imported
            click.echo(err.zh, err=True)
            sys.exit(EXIT_FINDINGS)
    counts = done.counts
    click.echo(
        f"已导入为评估项目 {done.project_id}：单位 {counts.get('units', 0)} 个，填报数据 "
        f"{counts.get('submissions', 0)} 版，评分结果 {counts.get('results', 0)} 份，整改事项 "
        f"{counts.get('rectifications', 0)} 项，审计记录 {counts.get('audit', 0)} 条"
    )
    if done.users_created:
        click.echo(
            f"新建用户（停用、无密码，需管理员设置密码并启用）：{'、'.join(done.users_created)}", err=True
        )
    if not done.framework_current:
        click.echo("注意：内置框架已更新，此项目仍按档案中的框架版本保存，不能再上传新的填报数据", err=True)


@contextlib.contextmanager
def _store(data_dir: str | None, database_url: str | None) -> Iterator[Any]:
    """The service's store (migrated to the newest revision), closed afterwards."""
    from .service.settings import Settings
    from .service.state import Service

    try:
        settings = Settings.from_env(data_dir, database_url)
    except ValueError as err:
        click.echo(f"错误：{err}", err=True)
        sys.exit(EXIT_USAGE)
    svc = Service(settings)
    try:
        yield svc
    finally:
        svc.close()


if __name__ == "__main__":  # pragma: no cover
    main()
