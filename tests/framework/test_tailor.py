"""Tailoring (``extends``): a district's framework adapting another, checked as a whole, located per file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.framework.load import load_framework, validate_path
from scoring.problems import FrameworkError

from ..positions import at, by_code, line_col, located

PARENT = """\
id: parent
name: 上级框架
version: "1"
scoring: {total: 30}
params:
  标准: {value: 5.0, label: 标准值}
inputs:
  v: {label: 值, type: number}
  w: {label: 另一值, type: number}
indicators:
  - code: A
    name: 甲
    points: 20
    children:
      - {code: A.1, name: 一, points: 10, rule: {threshold: {value: v, at_least: 标准}}}
      - {code: A.2, name: 二, points: 10, rule: {threshold: {value: w, at_least: 1}}}
  - code: B
    name: 乙
    points: 10
    rule: {threshold: {value: v, at_least: 2}}
vetoes:
  - {code: V1, when: v < 0, effect: fail, reason: 负数}
"""


@pytest.fixture
def files(tmp_path):
    """Write the parent next to a child; return a function that writes a child and validates it."""
    (tmp_path / "parent.yaml").write_text(PARENT, encoding="utf-8")

    def _child(text: str, name: str = "child.yaml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        fw, problems = validate_path(path)
        return fw, problems, path

    return _child


def test_the_parent_is_clean(tmp_path, files):
    fw, problems = validate_path(tmp_path / "parent.yaml")
    assert problems == []
    assert fw.params["标准"].value == Decimal("5.0")


GOOD_CHILD = """\
id: district
name: 区县方案
version: "2"
extends: parent.yaml
scoring: {total: 25}
tailor:
  unselect: [B]
  params:
    标准: 6.5
  change:
    A: {points: 25}
    A.1: {points: 12, name: 一（本区）}
  add:
    - parent: A
      indicator: {code: A.3, name: 三, points: 3, rule: {threshold: {value: w, at_least: 2}}}
"""


def test_unselect_params_change_and_add(files):
    fw, problems, path = files(GOOD_CHILD)
    assert problems == []
    assert (fw.id, fw.name, fw.version, fw.extends) == ("district", "区县方案", "2", "parent.yaml")
    assert [i.code for i in fw.walk()] == ["A", "A.1", "A.2", "A.3"]
    a1 = next(i for i in fw.walk() if i.code == "A.1")
    assert (a1.points, a1.name) == (Decimal(12), "一（本区）")
    assert a1.rule.threshold.at_least == "标准"  # the rule itself is inherited
    assert fw.params["标准"].value == Decimal("6.5")
    assert fw.params["标准"].label == "标准值"  # the parameter keeps its description
    assert fw.settings.total == Decimal(25)
    assert [v.code for v in fw.vetoes] == ["V1"]
    assert load_framework(path).id == "district"


def test_what_a_district_changed_is_marked_local(files):
    """Reports mark local indicators （地方）: a tailoring's additions and whatever it scores differently — changed
    points, rule or applicability, or a rule reading a parameter it changed — unless it says ``local: false``."""
    fw, problems, _ = files(
        """\
id: district
name: 区县方案
version: "2"
extends: parent.yaml
scoring: {total: 33}
tailor:
  params: {标准: 6.5}
  change:
    A: {points: 23}
    A.2: {note: 本区说明}
    B: {rule: {threshold: {value: v, at_least: 3}}, local: false}
  add:
    - parent: A
      indicator: {code: A.3, name: 三, points: 3, rule: {threshold: {value: w, at_least: 2}}}
"""
    )
    assert [p for p in problems if p.severity == "error"] == []
    assert {i.code: i.local for i in fw.walk()} == {
        "A": True,  # its points changed
        "A.1": True,  # reads 标准, which the district changed
        "A.2": False,  # a note is no scoring change
        "A.3": True,  # added
        "B": False,  # changed, but said not to be marked
    }


def test_a_redefined_derived_value_marks_its_readers_local(files):
    parent = PARENT.replace(
        "indicators:",
        "derived:\n  per: {label: 比值, expr: v * 2}\n  per2: {label: 二倍, expr: per + 1}\nindicators:",
    ).replace("rule: {threshold: {value: w, at_least: 1}}", "rule: {threshold: {value: per2, at_least: 1}}")
    files(parent, "parent.yaml")
    fw, problems, _ = files(
        'id: d2\nname: 区县方案\nversion: "2"\nextends: parent.yaml\nderived:\n  per: {label: 比值, expr: v * 3}\n'
    )
    assert [p for p in problems if p.severity == "error"] == []
    assert {i.code: i.local for i in fw.walk()} == {"A": False, "A.1": False, "A.2": True, "B": False}


def test_the_parent_file_is_not_changed_by_a_child(tmp_path, files):
    files(GOOD_CHILD)
    parent = load_framework(tmp_path / "parent.yaml")
    assert [i.code for i in parent.walk()] == ["A", "A.1", "A.2", "B"]
    assert parent.params["标准"].value == Decimal("5.0")


def test_changed_points_break_the_parents_sum(tmp_path, files):
    child = GOOD_CHILD.replace("    A: {points: 25}\n", "")
    fw, problems, path = files(child)
    assert fw is None
    s = by_code(problems, "points-sum")
    # The sum stands in the parent's file, at A's points; the merged framework is what is checked.
    assert (s.file, (s.line, s.column)) == (str(tmp_path / "parent.yaml"), line_col(PARENT, "20"))
    assert s.message_zh == "A 甲 的分值为 20，但下级指标合计 25"
    t = by_code(problems, "points-total")
    assert (t.file, t.line, t.column) == (str(path), *line_col(child, "25}"))
    assert t.message_en == "total is 25 but first-level indicators add up to 20"
    with pytest.raises(FrameworkError):
        load_framework(path)


def test_unknown_code_in_change_is_located_in_the_child(tmp_path, files):
    a1 = "    A.1: {points: 12, name: 一（本区）}\n"
    child = GOOD_CHILD.replace(a1, a1 + "    Z9: {points: 1}\n")
    fw, problems, path = files(child)
    assert fw is None
    [p] = problems
    assert (p.code, p.file, p.line, p.column) == ("tailor-unknown-code", str(path), *line_col(child, "Z9"))
    assert p.path == ("tailor", "change", "Z9")
    assert p.message_zh == "没有编码为 “Z9” 的指标可以修改"
    assert p.message_en == "no indicator 'Z9' to change"


def test_every_unknown_reference_in_tailor(files):
    child = """\
id: bad
name: 错误引用
version: "1"
extends: parent.yaml
tailor:
  unselect: [B, Q1]
  params:
    不存在: 1.5
  change:
    Z9: {points: 1}
  add:
    - parent: Q3
      indicator: {code: N1, name: 新, points: 1, rule: {threshold: {value: v, at_least: 1}}}
    - parent: A.1
      indicator: {code: N2, name: 新二, points: 1, rule: {threshold: {value: v, at_least: 1}}}
    - parent: A
      indicator: {code: A.2, name: 重复, points: 1, rule: {threshold: {value: v, at_least: 1}}}
  remove_vetoes: [V7]
"""
    fw, problems, path = files(child)
    assert fw is None
    assert all(p.file == str(path) for p in problems)
    assert located(problems) == {
        at("tailor-unknown-code", child, "Q1"),
        at("tailor-unknown-param", child, "不存在"),
        at("tailor-unknown-code", child, "Z9"),
        at("tailor-unknown-code", child, "Q3"),
        at("tailor-leaf-parent", child, "A.1\n"),
        at("tailor-duplicate-code", child, "A.2"),
        at("tailor-unknown-code", child, "V7"),
    }
    msg = {p.code: p.message_zh for p in problems}
    assert msg["tailor-unknown-param"] == "被扩展的框架没有参数 “不存在”"
    assert msg["tailor-leaf-parent"] == "“A.1” 是末级指标，不能在其下添加"
    assert msg["tailor-duplicate-code"] == "新增指标的编码 “A.2” 已存在"


def test_select_keeps_ancestors_and_the_child_adds_its_own(tmp_path, files):
    child = """\
id: sel
name: 选用
version: "1"
extends: parent.yaml
scoring: {total: 10}
inputs:
  extra: {label: 额外, type: number}
tailor:
  select: [A.2]
  change:
    A: {points: 10}
indicators:
  - {code: C, name: 新增, points: 0, rule: {threshold: {value: extra + nope, at_least: 1}}}
"""
    fw, problems, path = files(child)
    assert fw is None
    assert [(p.code, p.file, p.line, p.column) for p in problems] == [
        ("expr-unknown-name", str(path), *line_col(child, "nope")),  # the child's own indicator
    ]
    fixed = child.replace("extra + nope", "extra")
    fw, problems, _ = files(fixed)
    assert [i.code for i in fw.walk()] == ["A", "A.2", "C"]  # A.1 and B are gone, A stays for A.2
    assert set(fw.inputs) == {"v", "w", "extra"}
    assert problems == []
    # Without the veto that reads it, the parent's v is unused: a warning located in the parent's file.
    fw, problems, _ = files(fixed.replace("  change:", "  remove_vetoes: [V1]\n  change:"))
    assert [(p.code, p.severity, p.file, p.line, p.column) for p in problems] == [
        ("unused-input", "warning", str(tmp_path / "parent.yaml"), *line_col(PARENT, "v:"))
    ]


def test_remove_vetoes(files):
    fw, problems, _ = files(
        GOOD_CHILD.replace("  unselect: [B]\n", "  unselect: [B]\n  remove_vetoes: [V1]\n")
    )
    assert problems == []
    assert fw.vetoes == []


def test_remove_checks_and_inputs_no_longer_collected(files):
    parent_checked = PARENT + "checks:\n  - {code: K1, when: w >= 0, message: 不能为负}\n"

    def child(tailor: str) -> str:
        return f'id: d\nname: 区县方案\nversion: "2"\nextends: parent.yaml\ntailor:\n{tailor}'

    files(parent_checked, "parent.yaml")
    fw, problems, _ = files(
        child("  unselect: [A.2]\n  change: {A: {points: 10}}\n  remove_checks: [K1]\n  remove_inputs: [w]\n")
        + "scoring: {total: 20}\n"
    )
    assert [p for p in problems if p.severity == "error"] == [] and "w" not in fw.inputs and fw.checks == []
    # still read by A.2's rule: an unknown name where it is used (in the parent file)
    fw, problems, _ = files(child("  remove_checks: [K1]\n  remove_inputs: [w]\n"))
    assert [(p.code, p.file.endswith("parent.yaml")) for p in problems if p.severity == "error"] == [
        ("expr-unknown-name", True)
    ]
    fw, problems, _ = files(child("  remove_checks: [K9]\n  remove_inputs: [x]\n"))
    assert sorted(p.message_zh for p in problems if p.code == "tailor-unknown-code") == [
        "没有名为 “x” 的填报项",
        "没有编码为 “K9” 的数据核查",
    ]


def test_extends_cycle(tmp_path):
    (tmp_path / "c1.yaml").write_text('id: c1\nname: 一\nversion: "1"\nextends: c2.yaml\n', encoding="utf-8")
    (tmp_path / "c2.yaml").write_text('id: c2\nname: 二\nversion: "1"\nextends: c1.yaml\n', encoding="utf-8")
    fw, problems = validate_path(tmp_path / "c1.yaml")
    assert fw is None
    # One problem, at the extends that closes the cycle (no "cannot load" wrappers around it).
    assert [(p.code, p.file, p.line, p.column) for p in problems] == [
        ("extends-cycle", str(tmp_path / "c1.yaml"), 4, 10)
    ]
    assert problems[0].message_zh == "extends 形成循环：c1 → c2 → c1"
    assert problems[0].message_en == "extends forms a cycle: c1 -> c2 -> c1"
    _, problems = validate_path(tmp_path / "c2.yaml")
    assert [(p.code, p.file, p.message_en) for p in problems] == [
        ("extends-cycle", str(tmp_path / "c2.yaml"), "extends forms a cycle: c2 -> c1 -> c2")
    ]


def test_extends_itself(tmp_path):
    (tmp_path / "s.yaml").write_text('id: s\nname: 自己\nversion: "1"\nextends: s.yaml\n', encoding="utf-8")
    _, problems = validate_path(tmp_path / "s.yaml")
    assert [(p.code, p.line, p.column, p.message_en) for p in problems] == [
        ("extends-cycle", 4, 10, "extends forms a cycle: s -> s")
    ]


def test_extends_a_shipped_id(files):
    child = """\
id: demo-district
name: 演示扩展
version: "1"
extends: demo-school
tailor:
  params:
    课后服务目标: 90.0
  change:
    A4.3: {name: 特色发展（本区）}
"""
    fw, problems, _ = files(child)
    assert problems == []
    assert (fw.id, fw.extends) == ("demo-district", "demo-school")
    assert fw.params["课后服务目标"].value == Decimal("90.0")
    assert next(i for i in fw.walk() if i.code == "A4.3").name == "特色发展（本区）"
    demo = load_framework("demo-school")
    assert [i.code for i in fw.walk()] == [i.code for i in demo.walk()]
    assert fw.settings.total == Decimal(100)


def test_extends_a_missing_framework(files):
    child = 'id: m\nname: 缺\nversion: "1"\nextends: nowhere.yaml\n'
    fw, problems, path = files(child)
    assert fw is None
    [p] = problems
    assert (p.code, p.file, p.line, p.column) == ("extends-invalid", str(path), 4, 10)
    assert p.message_zh.startswith("extends 引用的框架 “nowhere.yaml” 无法加载：找不到框架文件或框架 id")


def test_extends_a_framework_with_yaml_errors(tmp_path, files):
    (tmp_path / "broken.yaml").write_text("id: b\nname: 坏\nname: 重复\n", encoding="utf-8")
    fw, problems, path = files('id: c\nname: 子\nversion: "1"\nextends: broken.yaml\n')
    assert fw is None
    assert [(p.code, p.file, p.line) for p in problems] == [
        ("extends-invalid", str(path), 4),
        ("yaml-duplicate-key", str(tmp_path / "broken.yaml"), 3),
    ]


def test_a_parents_semantic_errors_are_reported_in_the_parent(tmp_path, files):
    parent = 'id: bp\nname: 坏\nversion: "1"\nindicators:\n  - {code: A, name: 甲, points: 1, rule: {manual: {}}}\n'
    parent += "vetoes:\n  - {code: V, when: nope, effect: fail, reason: x}\n"
    (tmp_path / "bp.yaml").write_text(parent, encoding="utf-8")
    fw, problems, _ = files('id: c\nname: 子\nversion: "1"\nextends: bp.yaml\n')
    assert fw is None
    assert [(p.code, p.file, p.line, p.column) for p in problems] == [
        ("expr-unknown-name", str(tmp_path / "bp.yaml"), *line_col(parent, "nope"))
    ]


def test_tailor_needs_extends(files):
    child = 'id: nt\nname: 无\nversion: "1"\ntailor:\n  unselect: [A]\nindicators:\n'
    child += "  - {code: A, name: 甲, points: 1, rule: {manual: {}}}\n"
    fw, problems, _ = files(child)
    assert fw is None
    assert [(p.code, p.line, p.column, p.message_zh) for p in problems] == [
        ("tailor-without-extends", 5, 3, "tailor 只能与 extends 一起使用")
    ]


def test_extends_a_framework_with_the_same_id(tmp_path):
    """Copying the parent's header is the usual slip: said as such, not as a cycle."""
    (tmp_path / "base.yaml").write_text(
        'id: same\nname: 上级\nversion: "1"\nscoring: {method: points}\ninputs:\n  x: {label: 数, type: number}\n'
        "indicators:\n  - {code: A, name: 甲, points: 10, rule: {threshold: {value: x, at_least: 1}}}\n",
        encoding="utf-8",
    )
    (tmp_path / "mid.yaml").write_text(
        'id: same\nname: 中间\nversion: "1"\nextends: base.yaml\n', encoding="utf-8"
    )
    (tmp_path / "top.yaml").write_text(
        'id: top\nname: 本地\nversion: "1"\nextends: mid.yaml\n', encoding="utf-8"
    )
    for name, file in (("mid.yaml", "mid.yaml"), ("top.yaml", "mid.yaml")):
        fw, problems = validate_path(tmp_path / name)
        assert fw is None
        assert [(p.code, p.line, p.column) for p in problems if p.code != "extends-invalid"] == [
            ("extends-same-id", 1, 5)
        ]
        assert next(p for p in problems if p.code == "extends-same-id").file == str(tmp_path / file)


GROUPED = """\
id: child
name: 分组裁剪
version: "1"
extends: parent.yaml
tailor:
  group:
    - {code: G1, name: 省级领域一, points: 30, members: [B, A]}
tests:
  - name: 分组后分数不变
    unit: {name: 某校}
    values: {v: 6, w: 0}
    expect: {total: 20, points: {G1: 20, A: 10, B: 10}}
"""


def test_a_group_takes_existing_indicators_as_they_are(files):
    fw, problems, _ = files(GROUPED)
    assert problems == []
    assert [(i.code, [c.code for c in i.children or []]) for i in fw.indicators] == [("G1", ["B", "A"])]
    assert fw.indicators[0].local and fw.indicators[0].children[1].children[0].code == "A.1"
    from scoring.jobs.cases import run_cases

    assert [o.failures for o in run_cases(fw)] == [[]]


def test_a_group_takes_the_place_of_its_first_member(files):
    fw, problems, _ = files(GROUPED.replace("points: 30, members: [B, A]", "points: 10, members: [B]"))
    assert problems == []
    assert [i.code for i in fw.indicators] == ["A", "G1"]  # B was second: G1 stands there


@pytest.mark.parametrize(
    ("members", "code", "marker"),
    [
        ("[A, X]", "tailor-unknown-code", "X]"),
        ("[A, A]", "tailor-group-twice", "A]"),
        ("[A, A.1]", "tailor-group-twice", "A.1]"),  # inside another member
        ("[A.1, A.2]", "tailor-empty-parent", "[A.1, A.2]"),  # A would be left without children
    ],
)
def test_group_members_are_checked_where_they_are_written(files, members, code, marker):
    text = GROUPED.replace("[B, A]", members).split("tests:")[0]
    _, problems, _ = files(text)
    assert at(code, text, marker) in located(problems)


def test_change_vetoes_replaces_the_fields_given(files):
    text = GROUPED.split("tests:")[0].replace(
        "tailor:\n",
        "tailor:\n  change_vetoes:\n    V1: {reason: 数据为负数（区县）, when: v < -1}\n",
    )
    fw, problems, _ = files(text)
    assert problems == []
    (v1,) = fw.vetoes
    assert (v1.reason, v1.effect.kind, v1.when, v1.local) == (
        "数据为负数（区县）",
        "fail",
        "v < -1",
        True,
    )


def test_change_vetoes_of_an_unknown_code_is_located(files):
    text = GROUPED.split("tests:")[0].replace(
        "tailor:\n", "tailor:\n  change_vetoes:\n    V9: {reason: 无}\n"
    )
    _, problems, _ = files(text)
    assert at("tailor-unknown-code", text, "V9") in located(problems)


def test_a_changed_rectify_keeps_the_keys_it_does_not_restate(tmp_path):
    (tmp_path / "base.yaml").write_text(
        PARENT.replace(
            "rule: {threshold: {value: v, at_least: 2}}",
            "rule: {threshold: {value: v, at_least: 2}}\n    rectify: {problem: 乙项不足, owner: 县教育局, within_days: 30}",
        ).replace("id: parent", "id: base"),
        encoding="utf-8",
    )
    child = tmp_path / "child.yaml"
    child.write_text(
        'id: child\nname: 子\nversion: "1"\nextends: base.yaml\ntailor:\n  change:\n    B: {rectify: {owner: 区县教委}}\n',
        encoding="utf-8",
    )
    fw, problems = validate_path(child)
    assert problems == []
    b = next(i for i in fw.indicators if i.code == "B")
    assert (b.rectify.problem, b.rectify.owner, b.rectify.within_days) == ("乙项不足", "区县教委", 30)
