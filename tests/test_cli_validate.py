"""``scoring validate``, ``scoring frameworks`` and ``scoring schema`` as CI and editors use them."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from click.testing import CliRunner

from scoring.cli import main

from .conftest import FRAMEWORKS
from .positions import line_col

BAD = """\
id: bad
name: 坏框架
version: "1"
scoring: {total: 10}
inputs:
  teachers: {label: 教师数, type: integer, minn: 0}
  students: {label: 学生数, type: integer, min: 1}
derived:
  ratio: {label: 师生比, expr: teacher / students * 100}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: ratio, at_least: 5}}}
"""

WARN_ONLY = """\
id: warn
name: 只有警告
version: "1"
inputs:
  a: {label: A, type: number}
  spare: {label: 备用, type: number}
indicators:
  - {code: A1, name: 一, points: 1, rule: {threshold: {value: a, at_least: 1}}}
"""


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    return path


@pytest.fixture
def warn(tmp_path):
    path = tmp_path / "warn.yaml"
    path.write_text(WARN_ONLY, encoding="utf-8")
    return path


def test_shipped_frameworks_validate_clean():
    r = invoke("validate", str(FRAMEWORKS))
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert re.fullmatch(r"检查了 \d+ 个框架：0 个错误，0 个警告\n", r.stderr)
    r = invoke("validate", str(FRAMEWORKS), "--strict")
    assert r.exit_code == 0, r.output
    r = invoke("validate", "demo-school")  # a shipped id
    assert r.exit_code == 0, r.output
    assert r.stderr == "检查了 1 个框架：0 个错误，0 个警告\n"


def test_problems_exit_1_with_file_line_column(bad):
    r = invoke("validate", str(bad))
    assert r.exit_code == 1
    line, col = line_col(BAD, "minn")
    expr_line, expr_col = line_col(BAD, "teacher /")
    assert r.stdout.splitlines() == [
        f"{bad}:{line}:{col}: 错误 [schema-unknown-key] (inputs.teachers.minn): 未知的键 “minn”，是不是 “min”？",
        f"{bad}:{expr_line}:{expr_col}: 错误 [expr-unknown-name] (derived.ratio.expr): "
        "表达式错误：未知名称 “teacher”；是不是 “teachers”？（检查输入项和计算项的 id）",
        "    teacher / students * 100",
        "    ^",
    ]
    assert r.stderr == "检查了 1 个框架：2 个错误，0 个警告\n"


def test_lang_en(bad):
    r = invoke("validate", str(bad), "--lang", "en")
    assert r.exit_code == 1
    assert r.stdout.splitlines()[0] == (
        f"{bad}:6:41: error [schema-unknown-key] (inputs.teachers.minn): unknown key 'minn'; did you mean 'min'?"
    )
    assert "expression error: unknown name 'teacher'; did you mean 'teachers'?" in r.stdout
    assert "错误" not in r.stdout
    assert r.stderr == "checked 1 framework(s): 2 error(s), 0 warning(s)\n"


def test_nonexistent_path_exits_2(tmp_path):
    missing = tmp_path / "nope.yaml"
    r = invoke("validate", str(missing))
    assert r.exit_code == 2
    assert r.stdout.startswith(f"{missing}: 错误 [not-found]: 找不到框架文件或框架 id")
    r = invoke("validate", "no-such-id", "--lang", "en")
    assert r.exit_code == 2
    assert "no framework file or shipped id 'no-such-id' (shipped: demo-school" in r.stdout


def test_io_problem_wins_over_findings(bad, tmp_path):
    r = invoke("validate", str(bad), str(tmp_path / "nope.yaml"))
    assert r.exit_code == 2
    assert "[schema-unknown-key]" in r.stdout and "[not-found]" in r.stdout


def test_no_paths_is_a_usage_error():
    r = invoke("validate")
    assert r.exit_code == 2
    assert "Missing argument" in r.output


def test_json_format(bad, warn):
    r = invoke("validate", str(warn), str(bad), "--format", "json")
    assert r.exit_code == 1
    assert r.stderr == ""  # no summary line in machine formats
    data = json.loads(r.stdout)
    assert (data["errors"], data["warnings"]) == (2, 1)
    rows = [(p["file"], p["line"], p["column"], p["severity"], p["code"]) for p in data["problems"]]
    assert rows == [
        (str(bad), 6, 41, "error", "schema-unknown-key"),
        (str(bad), 9, 29, "error", "expr-unknown-name"),
        (str(warn), 6, 3, "warning", "unused-input"),
    ]
    first = data["problems"][0]
    assert first["path"] == "inputs.teachers.minn"
    assert first["message"] == "未知的键 “minn”，是不是 “min”？"
    assert first["detail"] is None
    assert data["problems"][1]["detail"] == "teacher / students * 100\n^"
    en = json.loads(invoke("validate", str(bad), "--format", "json", "--lang", "en").stdout)
    assert en["problems"][0]["message"] == "unknown key 'minn'; did you mean 'min'?"


def test_json_format_when_clean():
    r = invoke("validate", "demo-school", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == {"errors": 0, "warnings": 0, "problems": []}


def test_github_format(bad, warn):
    r = invoke("validate", str(bad), str(warn), "--format", "github")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert len(lines) == 3  # one line per problem: details are escaped
    errors = [x for x in lines if x.startswith("::error ")]
    assert len(errors) == 2
    for x in errors:
        assert x.startswith("::error file=")
        assert re.search(r",line=\d+,col=\d+,", x)
    assert errors[0] == (
        f"::error file={bad},line=6,col=41,title=schema-unknown-key::"
        "inputs.teachers.minn: 未知的键 “minn”，是不是 “min”？"
    )
    assert errors[1].endswith("%0Ateacher / students * 100%0A^")
    [warning] = [x for x in lines if x.startswith("::warning ")]
    assert warning.startswith(f"::warning file={warn},line=6,col=3,title=unused-input::inputs.spare: ")


def test_github_format_escapes_properties(tmp_path):
    folder = tmp_path / "a,b:c"
    folder.mkdir()
    path = folder / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    r = invoke("validate", str(path), "--format", "github")
    escaped = str(path).replace(":", "%3A").replace(",", "%2C")
    assert r.stdout.splitlines()[0].startswith(f"::error file={escaped},line=6,col=41,")


def test_strict_turns_warnings_into_failure(warn):
    r = invoke("validate", str(warn))
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        f"{warn}:6:3: 警告 [unused-input] (inputs.spare): 输入项 “spare”（备用）没有被任何计算项、规则、否决项或数据核查使用"
    ]
    assert r.stderr == "检查了 1 个框架：0 个错误，1 个警告\n"
    r = invoke("validate", str(warn), "--strict")
    assert r.exit_code == 1
    r = invoke("validate", str(warn), "--strict", "--lang", "en")
    assert r.exit_code == 1
    assert r.stdout.startswith(f"{warn}:6:3: warning [unused-input] (inputs.spare): input 'spare' (备用)")


def test_folders_are_searched_and_hidden_folders_skipped(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ok.yml").write_text(
        WARN_ONLY.replace("  spare: {label: 备用, type: number}\n", ""), "utf-8"
    )
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "bad.yaml").write_text(BAD, encoding="utf-8")
    r = invoke("validate", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert r.stderr == "检查了 1 个框架：0 个错误，0 个警告\n"


def test_problems_of_several_files_in_one_run(tmp_path, bad):
    other = tmp_path / "other.yaml"
    other.write_text("id: o\nname: 二\nname: 重复\n", encoding="utf-8")
    r = invoke("validate", str(tmp_path))
    assert r.exit_code == 1
    assert r.stderr == "检查了 2 个框架：3 个错误，0 个警告\n"
    assert f"{other}:3:1: 错误 [yaml-duplicate-key] (name): 重复的键 “name”（第 2 行已出现）" in r.stdout


def test_frameworks_lists_shipped_ids():
    r = invoke("frameworks")
    assert r.exit_code == 0
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    demo = next(row for row in rows if row[0] == "demo-school")
    assert demo[1:4] == ["中小学办学质量考评（演示）", "1.0", "演示方案（非官方）"]
    r = invoke("frameworks", "--format", "json")
    assert r.exit_code == 0
    entry = next(e for e in json.loads(r.stdout) if e["id"] == "demo-school")
    assert entry == {
        "id": "demo-school",
        "name": "中小学办学质量考评（演示）",
        "version": "1.0",
        "source": "演示方案（非官方）",
        "extends": None,
    }


def test_schema_prints_draft_2020_12():
    r = invoke("schema")
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {"id", "name", "version"} <= set(schema["required"])
    assert "indicators" in schema["properties"]
    assert json.loads(invoke("schema", "framework").stdout) == schema
    assert invoke("schema", "nonsense").exit_code == 2
