"""The registry of shipped frameworks: entries from the folder's index while each file is as indexed, else read
safely from the file; nothing run or expanded; and start-up.

These tests hold the entries to what loading the whole file reads, the shipped index to the shipped files, a
changed or added file to being read from itself, and ``import scoring``, ``import scoring.cli``, ``scoring --help``
and ``scoring frameworks`` to importing no model, engine, reader or PyYAML.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import scoring
from scoring.framework import registry
from scoring.framework.load import load_framework
from scoring.framework.source import load_yaml_text, read_text
from scoring.problems import FrameworkError

from ..conftest import FRAMEWORKS, ROOT


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A private copy of the shipped frameworks as the registry's only directory, with an empty cache."""
    d = tmp_path / "frameworks"
    shutil.copytree(FRAMEWORKS, d)
    monkeypatch.setattr(registry, "framework_dirs", lambda: [d])
    return d


@pytest.fixture
def reads(monkeypatch):
    """The files ``entries()`` reads with the YAML reader (not from the index), in order."""
    seen: list[str] = []
    real = registry._read

    def counting(path: Path):
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(registry, "_read", counting)
    return seen


HEAD = """\
id: tiny
name: 小框架
version: "1"
"""
BODY = """\
scoring: {total: 10}
inputs:
  a: {label: A, type: integer, min: 0}
indicators:
  - {code: A1, name: 一, points: 10, rule: {threshold: {value: a, at_least: 1}}}
"""


def _entry(d: Path, name: str) -> registry.Entry | None:
    return next((e for e in registry.entries() if e.path == d / name), None)


# ------------------------------------------------------------------------------ what the listing says


def test_every_shipped_framework_is_listed_as_loading_it_reads():
    files = sorted(FRAMEWORKS.glob("*.yaml"))
    listed = {e.path.resolve(): e for e in registry.entries()}
    assert set(listed) == {f.resolve() for f in files}
    for f in files:
        e = listed[f.resolve()]
        fw = load_framework(e.id)
        assert (e.id, e.name, e.version, e.extends) == (fw.id, fw.name, fw.version, fw.extends)
        first = fw.source[0] if fw.source else None
        assert e.source == (" ".join(x for x in (first.title, first.number) if x) if first else "")
        # the index gives what the safe reader gives for the whole file
        data, _ = load_yaml_text(read_text(f), str(f))
        assert (e.id, e.name, e.version, e.extends) == (
            data["id"],
            data["name"],
            str(data["version"]),
            data.get("extends"),
        )
        assert registry.find(e.id) == e.path


def test_the_shipped_index_is_current():
    """``python -m scoring.framework.registry`` after adding or changing a shipped framework."""
    written = json.loads((FRAMEWORKS / registry.INDEX_NAME).read_text(encoding="utf-8"))
    assert written == registry.index_of(FRAMEWORKS), "run: python -m scoring.framework.registry"
    assert set(written["frameworks"]) == {f.name for f in FRAMEWORKS.glob("*.yaml")}


def test_an_index_written_and_read_back_lists_the_same(shipped, tmp_path):
    before = registry.entries()
    (shipped / registry.INDEX_NAME).unlink()
    assert registry.entries() == before  # without an index every file is read
    registry.write_index(shipped)
    assert registry.entries() == before
    assert not list(shipped.glob(".*.tmp"))


def test_the_command_lists_what_entries_gives():
    from click.testing import CliRunner

    from scoring.cli import main

    out = CliRunner().invoke(main, ["frameworks", "--format", "json"])
    assert out.exit_code == 0, out.output
    listed = json.loads(out.output)
    assert [r["id"] for r in listed] == [e.id for e in registry.entries()]
    assert {r["id"]: (r["name"], r["version"], r["extends"]) for r in listed} == {
        e.id: (e.name, e.version, e.extends) for e in registry.entries()
    }


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(HEAD + BODY + "extends: demo-school\n", id="key after the body"),
        pytest.param(HEAD + BODY + '"extends": demo-school\n', id="quoted key after the body"),
        pytest.param(HEAD + BODY + '"ext\\x65nds": demo-school\n', id="escaped key after the body"),
        pytest.param(HEAD + BODY + "? extends\n: demo-school\n", id="explicit key after the body"),
        pytest.param(HEAD.replace("\n", "\r\n") + "extends: demo-school\r\n" + BODY, id="CRLF"),
        pytest.param(HEAD + BODY.replace("\n", "\r") + "extends: demo-school\r", id="CR only"),
    ],
)
def test_identity_keys_anywhere_are_found(shipped, text):
    (shipped / "t.yaml").write_text(text, encoding="utf-8")
    e = _entry(shipped, "t.yaml")
    assert e is not None
    assert (e.id, e.name, e.version, e.extends) == ("tiny", "小框架", "1", "demo-school")


def test_a_top_level_looking_line_inside_a_string_is_not_a_key(shipped):
    text = HEAD + 'description: "first line\nextends: not-a-key\n  last"\n' + BODY
    (shipped / "t.yaml").write_text(text, encoding="utf-8")
    e = _entry(shipped, "t.yaml")
    assert e is not None and e.extends is None
    assert load_framework(shipped / "t.yaml").description == "first line extends: not-a-key last"


def test_numbers_read_as_the_model_reads_them(shipped):
    (shipped / "t.yaml").write_text(HEAD.replace('"1"', "2.10") + BODY, encoding="utf-8")
    e = _entry(shipped, "t.yaml")
    assert e is not None and e.version == "2.10" == load_framework(shipped / "t.yaml").version


def test_a_file_the_safe_reader_refuses_is_not_listed(shipped):
    # a duplicate id below the body: the safe reader refuses the file, so the listing must see it too
    (shipped / "dup.yaml").write_text(HEAD + BODY + "id: other\n", encoding="utf-8")
    (shipped / "noid.yaml").write_text(BODY, encoding="utf-8")
    (shipped / "latin1.yaml").write_bytes("id: latin\nname: caf\xe9\nversion: '1'\n".encode("latin-1"))
    ids = {e.path.name for e in registry.entries()}
    assert not {"dup.yaml", "noid.yaml", "latin1.yaml"} & ids
    with pytest.raises(FrameworkError) as info:
        load_framework(shipped / "dup.yaml")
    assert info.value.problems[0].code == "yaml-duplicate-key"


# ------------------------------------------------------------------------------ nothing is run or expanded


def test_a_python_tag_is_never_constructed(shipped, tmp_path):
    marker = tmp_path / "ran"
    payload = f'!!python/object/apply:os.system ["touch {marker}"]'
    (shipped / "in-head.yaml").write_text(
        f"id: evil\nname: {payload}\nversion: '1'\n" + BODY, encoding="utf-8"
    )
    (shipped / "in-body.yaml").write_text(
        "id: evil-body\nname: x\nversion: '1'\n" + BODY + f"notes: [{payload}]\n", encoding="utf-8"
    )
    listed = {e.id for e in registry.entries()}
    assert not {"evil", "evil-body"} & listed  # not in the index: read by the safe reader, which refuses them
    with pytest.raises(FrameworkError) as info:
        load_framework(shipped / "in-body.yaml")
    assert info.value.problems[0].code == "yaml-unsafe-tag"
    assert not marker.exists()


BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_an_alias_bomb_is_never_expanded(shipped):
    # 10^9 strings if expanded: the safe reader refuses it before expanding anything, wherever it stands.
    (shipped / "bomb-head.yaml").write_text(
        "id: bomb\nname: x\n" + BOMB + "version: '1'\n" + BODY, encoding="utf-8"
    )
    (shipped / "bomb-body.yaml").write_text(
        "id: bomb-body\nname: x\nversion: '1'\n" + BODY + "notes:\n" + textwrap.indent(BOMB, "  "),
        encoding="utf-8",
    )
    listed = {e.id for e in registry.entries()}
    assert not {"bomb", "bomb-body"} & listed
    with pytest.raises(FrameworkError) as info:
        load_framework(shipped / "bomb-body.yaml")
    assert info.value.problems[0].code == "yaml-too-large"


# ------------------------------------------------------------------------------ the cache


def test_files_as_indexed_are_not_parsed(shipped, reads):
    first = registry.entries()
    assert reads == []
    assert registry.find("demo-school") == shipped / "demo-school.yaml"
    assert [e.id for e in first] == sorted(e.id for e in first)


def test_a_changed_file_is_read_from_itself(shipped, reads):
    demo = shipped / "demo-school.yaml"
    assert _entry(shipped, "demo-school.yaml").name == "中小学办学质量考评（演示）"
    text = demo.read_text(encoding="utf-8")
    demo.write_text(text.replace("name: 中小学办学质量考评（演示）", "name: 改过的名字"), encoding="utf-8")
    assert _entry(shipped, "demo-school.yaml").name == "改过的名字"
    assert reads == ["demo-school.yaml"]


def test_a_wrong_or_foreign_index_cannot_change_the_listing(shipped):
    before = registry.entries()
    index = json.loads((shipped / registry.INDEX_NAME).read_text(encoding="utf-8"))
    index["frameworks"]["demo-school.yaml"]["name"] = "索引里的假名字"
    index["frameworks"]["demo-school.yaml"]["sha256"] = "0" * 64
    (shipped / registry.INDEX_NAME).write_text(json.dumps(index), encoding="utf-8")
    assert registry.entries() == before
    (shipped / registry.INDEX_NAME).write_text("{not json", encoding="utf-8")
    assert registry.entries() == before
    (shipped / registry.INDEX_NAME).write_text(json.dumps({"format": 99, "frameworks": {}}), encoding="utf-8")
    assert registry.entries() == before


def test_added_and_removed_files_are_seen(shipped):
    assert registry.find("tiny") is None
    (shipped / "sub").mkdir()
    (shipped / "sub" / "tiny.yaml").write_text(HEAD + BODY, encoding="utf-8")
    assert registry.find("tiny") == shipped / "sub" / "tiny.yaml"
    (shipped / "sub" / "tiny.yaml").unlink()
    (shipped / "demo-school.yaml").unlink()
    ids = {e.id for e in registry.entries()}
    assert "tiny" not in ids and "demo-school" not in ids
    assert len(ids) == len(list(FRAMEWORKS.glob("*.yaml"))) - 1


# ------------------------------------------------------------------------------ start-up stays lazy

HEAVY = (
    "pydantic",
    "scoring.engine",
    "scoring.framework.model",
    "scoring.framework.load",
    "scoring.framework.source",
    "scoring.io",
)


def _modules_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import scoring", id="import scoring"),
        pytest.param("import scoring.cli", id="import scoring.cli"),
        pytest.param("from scoring.cli import main\nmain(['--help'], standalone_mode=False)", id="--help"),
        pytest.param(
            "from scoring.cli import main\nmain(['--version'], standalone_mode=False)", id="--version"
        ),
        pytest.param(
            "from scoring.cli import main\nmain(['frameworks'], standalone_mode=False)", id="frameworks"
        ),
    ],
)
def test_start_up_imports_no_model_engine_reader_or_yaml(code):
    heavy = [m for m in _modules_after(code) if m.startswith(HEAVY) or m == "yaml"]
    assert heavy == []


def test_the_public_names_are_all_there():
    assert set(scoring._PUBLIC) | {"__version__"} == set(scoring.__all__)
    assert set(scoring.__all__) <= set(dir(scoring))
    for name in scoring.__all__:
        assert getattr(scoring, name) is not None
    assert scoring.score is __import__("scoring.engine.score", fromlist=["score"]).score
    with pytest.raises(AttributeError, match="no_such_name"):
        scoring.no_such_name  # noqa: B018
