"""The ``scoring`` command: a thin layer that parses arguments, calls the library and prints.

Exit codes: 0 ok; 1 findings (validation errors, failed tests, unreadable submissions); 2 usage or I/O error.
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .problems import Report

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
IO_CODES = {"not-found", "io"}

LANG = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="消息语言 / message language",
)


def _t(lang: str, zh: str, en: str) -> str:
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
def validate(paths: tuple[str, ...], fmt: str, strict: bool, lang: str) -> None:
    """检查框架文件（文件、文件夹或内置框架 id），一次报告全部问题。

    Check framework files (files, folders or shipped ids); report every problem in one run.
    """
    from .validate import validate as run

    report, count = run(paths)
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


def _print_report(report: Report, fmt: str, lang: str) -> None:
    if fmt == "json":
        click.echo(report.to_json(lang))  # type: ignore[arg-type]
        return
    for p in report.sorted():
        click.echo(p.github(lang) if fmt == "github" else p.format(lang))  # type: ignore[arg-type]


@main.command()
@click.argument("name", default="framework", type=click.Choice(["framework", "submission", "result"]))
def schema(name: str) -> None:
    """打印文件格式的 JSON Schema（draft 2020-12）。

    Print the JSON Schema (draft 2020-12) of the framework, submission or result format.
    """
    from .schema import dumps

    click.echo(dumps(name), nl=False)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def frameworks(fmt: str) -> None:
    """列出内置框架（id、名称、版本、来源）。 List shipped frameworks."""
    import json

    from .registry import entries

    rows = entries()
    if fmt == "json":
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


if __name__ == "__main__":  # pragma: no cover
    main()
