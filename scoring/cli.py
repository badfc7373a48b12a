"""The ``scoring`` command: a thin layer that parses arguments, calls the library and prints.

Exit codes: 0 ok; 1 findings (validation errors, failed tests, unreadable submissions); 2 usage or I/O error.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from .version import __version__

# Only click and the version are imported to build the command group (``scoring --help`` and ``--version`` stop
# there); each command imports what it uses when it runs.
if TYPE_CHECKING:
    from .engine.plan import Plan
    from .engine.rows import UnitRow
    from .engine.score import Options
    from .jobs.batch import BatchResult, FileOutcome
    from .problems import Lang, Report

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
    for p in report.sorted():
        click.echo(p.github(lang) if fmt == "github" else p.format(lang))


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
        extra = f"  （扩展 {e.extends}）" if e.extends else ""
        click.echo(f"{e.id}\t{e.name}\t{e.version}\t{e.source}{extra}")


def _load(framework: str, lang: Lang) -> Plan:
    """Load a framework for scoring, or print its problems and exit 1 (2 if it cannot be found)."""
    from .engine.plan import compile_plan
    from .framework.load import load_framework
    from .problems import FrameworkError

    try:
        return compile_plan(load_framework(framework))
    except FrameworkError as err:
        for p in err.problems:
            click.echo(p.format(lang), err=True)
        sys.exit(EXIT_USAGE if any(p.code in IO_CODES for p in err.problems) else EXIT_FINDINGS)


@main.command()
@click.argument("framework")
@click.argument("submissions", nargs=-1, required=True)
@click.option(
    "-o", "--output", "outdir", type=click.Path(file_okay=False), help="输出目录：每个单位的报告和批次汇总表"
)
@click.option(
    "--format", "fmt", default="json,xlsx,md", show_default=True, help="输出格式，逗号分隔：json, xlsx, md"
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
@LANG
def score(
    framework: str,
    submissions: tuple[str, ...],
    outdir: str | None,
    fmt: str,
    explain_codes: tuple[str, ...],
    which: Literal["final", "self", "evaluator"],
    workers: int | None,
    lang: Lang,
) -> None:
    """为填报数据评分：SUBMISSIONS 是自评表（.xlsx/.xls/.ods）、.json、.yaml 文件或文件夹。

    Score submissions (workbooks, JSON, YAML, or folders of them). With -o DIR, writes per unit
    <name>.result.json, <name>.report.xlsx and <name>.report.md, and 汇总.xlsx for the batch.
    A file that cannot be read is reported with every reason and skipped; the exit code is then 1.
    """
    from .engine.score import Options

    formats = _formats(fmt, lang)
    plan = _load(framework, lang)
    files = _submission_files(submissions, outdir, lang)
    unknown = [c for c in explain_codes if c not in plan.index]
    if unknown:
        raise click.UsageError(
            _t(lang, f"没有编码为 “{'、'.join(unknown)}” 的指标", f"no indicator {', '.join(unknown)}")
        )
    result = _run_batch(plan, files, outdir, formats, workers, Options(values=which), explain_codes, lang)
    for failure in result.failures:
        click.echo(_t(lang, f"✗ {failure.file}：无法评分", f"✗ {failure.file}: cannot score"), err=True)
        for reason in failure.reasons:
            click.echo("    " + reason, err=True)
    click.echo(
        _t(
            lang,
            f"共 {len(files)} 份：评分 {len(result.rows)} 份，失败 {len(result.failures)} 份"
            + (f"；汇总表 {result.summary}" if result.summary else ""),
            f"{len(files)} file(s): {len(result.rows)} scored, {len(result.failures)} failed"
            + (f"; summary {result.summary}" if result.summary else ""),
        ),
        err=True,
    )
    if result.failures:
        sys.exit(EXIT_FINDINGS)


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


def _submission_files(submissions: tuple[str, ...], outdir: str | None, lang: Lang) -> list[Path]:
    """The files named or found in the folders named; a path that does not exist, or none found, is exit 2."""
    from .jobs.batch import expand

    missing = [p for p in submissions if not Path(p).exists()]
    if missing:
        click.echo(_t(lang, f"找不到：{'、'.join(missing)}", f"not found: {', '.join(missing)}"), err=True)
        sys.exit(EXIT_USAGE)
    files = expand(submissions, exclude=Path(outdir) if outdir else None)
    if not files:
        click.echo(
            _t(lang, "没有找到可评分的文件（.xlsx .xls .ods .json .yaml）", "no submission files found"),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    return files


def _run_batch(
    plan: Plan,
    files: list[Path],
    outdir: str | None,
    formats: list[str],
    workers: int | None,
    options: Options,
    explain: tuple[str, ...],
    lang: Lang,
) -> BatchResult:
    """The batch, with a progress bar on a terminal (each unit's line after it) or a line per file as it ends."""
    from .jobs.batch import score_batch

    run = partial(
        score_batch, plan.framework, files, outdir, formats=formats, workers=workers, options=options
    )
    if not (sys.stderr.isatty() and len(files) > 1):
        return run(on_file=_print_outcome, explain=explain)
    done: list[FileOutcome] = []
    with click.progressbar(length=len(files), label=_t(lang, "评分中", "scoring"), file=sys.stderr) as bar:

        def on_file(outcome: FileOutcome) -> None:
            bar.update(1)
            done.append(outcome)

        result = run(on_file=on_file, explain=explain)
    order = {str(f): i for i, f in enumerate(files)}
    for outcome in sorted(done, key=lambda o: order.get(o.file, 0)):
        if outcome.rows:
            _print_outcome(outcome)
    return result


def _print_outcome(outcome: FileOutcome) -> None:
    """A file's units, each with the arithmetic asked for; a file that failed is named (its reasons come last)."""
    for i, row in enumerate(outcome.rows):
        click.echo(f"✓ {outcome.file}：{_row_line(row)}")
        for line in outcome.explained[i] if outcome.explained else ():
            click.echo("  " + line)
    if not outcome.rows:
        click.echo(f"✗ {outcome.file}", err=True)


def _row_line(row: UnitRow) -> str:
    from .framework.text import fmt as show

    head = (
        f"{row.name}：{show(row.total)} 分"
        if row.total is not None
        else f"{row.name}：{'通过' if row.passed else '未通过' if row.passed is False else '待定'}"
    )
    grade = f"，{row.grade}" if row.grade else ""
    veto = f"，一票否决：{'；'.join(row.vetoes)}" if row.vetoes else ""
    prov = "（暂定：有缺报或待评项）" if row.provisional else ""
    return f"{head}{grade}{veto}{prov}"


@main.command()
@click.argument("framework")
@click.argument("source")
@click.option(
    "--county",
    "county_path",
    type=click.Path(exists=True, dir_okay=False),
    help="县级填报数据（.yaml / .json）",
)
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), help="输出目录")
@click.option(
    "--format", "fmt", default="json,xlsx,md", show_default=True, help="输出格式，逗号分隔：json, xlsx, md"
)
@LANG
def cohort(
    framework: str, source: str, county_path: str | None, outdir: str | None, fmt: str, lang: Lang
) -> None:
    """县域汇总评估：SOURCE 是每校一行的统计表（.csv / .xlsx），或学校自评表所在的文件夹。

    County evaluation over a table with one row per school, or a folder of school submissions. Writes
    县域评估.json / .xlsx / .md (表Ⅱ-2, 表Ⅲ, the verdict with reasons, 整改清单 per school and for the county).
    Exit 0 when every row was read (whatever the verdict), 1 when some could not be, 2 on usage errors.
    """
    from .engine.cohort import score_cohort
    from .engine.plan import compile_plan
    from .engine.rows import FailureRow
    from .framework.load import unit_framework
    from .framework.text import fmt as show
    from .io.read import read_submission
    from .io.table import read_table
    from .jobs.batch import expand
    from .problems import ScoringError
    from .report.cohort import write_all

    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    plan = _load(framework, lang)
    fw = plan.framework
    if fw.cohort is None:
        click.echo(
            _t(lang, f"框架 {fw.id} 没有 cohort（县域汇总）部分", f"framework {fw.id} has no cohort section"),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    src = Path(source)
    if not src.exists():
        click.echo(_t(lang, f"找不到：{source}", f"not found: {source}"), err=True)
        sys.exit(EXIT_USAGE)
    unit_plan = compile_plan(unit_framework(fw))
    failures: list[FailureRow] = []
    try:
        if src.is_dir():
            submissions = []
            for f in expand([src], exclude=Path(outdir) if outdir else None):
                try:
                    submissions.append(read_submission(f, plan=unit_plan))
                except ScoringError as err:
                    failures.append(FailureRow(str(f), [p.format(lang) for p in err.problems]))
        else:
            submissions, failures = read_table(src, unit_plan)
        county_sub = read_submission(county_path) if county_path else None
        result = score_cohort(fw, submissions, county_sub, failures=failures)
    except ScoringError as err:
        for p in err.problems:
            click.echo(p.format(lang), err=True)
        sys.exit(EXIT_FINDINGS)
    verdict = (
        "通过认定" if result.passed else ("不予认定" if result.passed is False else "暂定（有缺报或待评项）")
    )
    passed = sum(1 for u in result.units if u.passed)
    click.echo(f"{result.county.unit.name}：{verdict}（评估单位 {len(result.units)} 个，达标 {passed} 个）")
    for reason in result.reasons:
        click.echo(f"  · {reason}")
    for st in result.stats:
        mean = show(st.mean) if st.mean is not None else "—"
        cv = show(st.cv) if st.cv is not None else "—"
        click.echo(f"  {st.indicator} {st.group}：全县平均值 {mean}，差异系数 {cv}（{st.units} 所）")
    if outdir:
        for path in write_all(result, outdir, formats):
            click.echo(f"→ {path}")
    for failure in result.failures:
        click.echo(f"✗ {failure.file}", err=True)
        for reason in failure.reasons:
            click.echo(f"    {reason}", err=True)
    sys.exit(EXIT_FINDINGS if result.failures else EXIT_OK)


@main.command()
@click.argument("framework")
@click.option(
    "-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="输出文件，如 自评表.xlsx"
)
@click.option("--unit-type", help="只包含适用于该单位类型的填报项，如 小学")
@click.option("--evaluator", is_flag=True, help="加一列督评值（以及督学评定项）")
@LANG
def template(framework: str, out: str, unit_type: str | None, evaluator: bool, lang: Lang) -> None:
    """生成供学校填写的自评表（Excel）。 Write a self-assessment workbook template."""
    from .io.template import write_template
    from .problems import ScoringError

    plan = _load(framework, lang)
    try:
        path = write_template(plan, out, unit_type, evaluator)
    except ScoringError as err:
        for p in err.problems:
            click.echo(p.format(lang), err=True)
        sys.exit(EXIT_USAGE)
    except OSError as err:
        click.echo(_t(lang, f"无法写入 {out}：{err.strerror or err}", f"cannot write {out}: {err}"), err=True)
        sys.exit(EXIT_USAGE)
    click.echo(_t(lang, f"已生成 {path}", f"wrote {path}"))


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
        click.echo(_t(lang, f"没有编码为 “{unknown[0]}” 的指标", f"no indicator '{unknown[0]}'"), err=True)
        sys.exit(EXIT_USAGE)
    try:
        result = run(plan, read_submission(submission, plan=plan))
    except ScoringError as err:
        for p in err.problems:
            click.echo(p.format(lang), err=True)
        sys.exit(EXIT_FINDINGS)
    for code in codes:
        for line in explanation_lines(result, code):
            click.echo(line)


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
            for p in problems:
                if p.severity == "error":
                    click.echo(p.format(lang), err=True)
            continue
        for case in run_cases(fw):
            if case.ok:
                passed += 1
                click.echo(f"✓ {fw.id} · {case.name}")
            else:
                failed += 1
                click.echo(f"✗ {fw.id} · {case.name}")
                for line in case.failures:
                    click.echo(f"    {line}")
    click.echo(f"{passed} passed, {failed} failed")
    if io_error:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if failed or broken else EXIT_OK)


@main.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False))
@click.argument("new", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "-o",
    "--ledger",
    type=click.Path(dir_okay=False),
    help="同时写出整改台账（.xlsx）。 Also write the 整改台账 workbook here.",
)
def diff(old: str, new: str, fmt: str, ledger: str | None) -> None:
    """比较两轮评分结果（.result.json）：已销号、仍未整改（含逾期）、新增问题，以及一级指标得分变化。"""
    import dataclasses
    import json

    from pydantic import ValidationError

    from .engine.diff import diff as compare
    from .engine.result import result_from_json

    try:
        a = result_from_json(Path(old).read_bytes())
        b = result_from_json(Path(new).read_bytes())
    except (ValidationError, OSError) as err:
        click.echo(f"无法读取评分结果：{str(err).splitlines()[0]}", err=True)
        sys.exit(EXIT_USAGE)
    d = compare(a, b)
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(d), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(d.text())
    if ledger:
        from .report.ledger import write_ledger

        click.echo(f"整改台账：{write_ledger(a, b, ledger, d)}", err=fmt == "json")


if __name__ == "__main__":  # pragma: no cover
    main()
