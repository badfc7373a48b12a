"""Hand computation of the 优质均衡 county example, independent of the scoring engine.

    python examples/ysjh-2017/expected.py      # rewrites expected.json beside this file

Only the standard library's ``decimal`` and ``csv`` (plus ``json``/``pathlib`` to write the file); nothing from
``scoring`` is imported, so the numbers in expected.json are a second opinion on the engine, not a copy of it.
The rules are written out from DOMAIN.md §1 (教督〔2017〕6号 with the 2019 《规程》):

Resource allocation (资源配置), per evaluated unit = one phase (小学 / 初中) of one school:
  * split: 小学 and the 小学部 of 九年一贯制 / 十二年一贯制 schools are 小学 units; 初中, the 初中部 of 一贯制 schools
    and of 完全中学 are 初中 units; senior pupils form no unit but count in the split; a 教学点 under 50 pupils
    is left out.
  * L1–L3 (teachers, reported per phase): teachers ÷ phase pupils × 100.
  * L4–L7 (shared resources): R × w_phase ÷ (P + 1.1·J + 1.32·S), w = 1 (小学), 1.1 (初中); L7 × 100.
  * each value is rounded half-up to 2 decimals and compared with the standard (以上 = ≥);
  * a unit passes with ≥ 6 of 7 met and every unmet one at least 85 % of its standard, where
    value ÷ standard (the rounded value) is rounded half-up to 3 decimals before the comparison with 0.85.
County statistics, per indicator and phase, from the UNROUNDED unit values Xi and enrolments Pi (34 digits):
  X̄ = Σ Xi·Pi ÷ P,  S = √(Σ Pi/P·(Xi − X̄)²),  CV = S ÷ X̄;  mean reported to 2 decimals, CV to 3.
County verdict: every CV ≤ 0.50 (小学) / ≤ 0.45 (初中), every unit passes, and the county's own part
(county.yaml: 政府保障程度 15, 教育质量 9, 社会认可度 ≥ 85, no 一票否决) all met, each rule re-derived below.
"""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

HERE = Path(__file__).resolve().parent
D = Decimal

# The column headers of schools.csv (the input labels of ysjh-2017-school) → short names used here.
COLUMNS = {
    "学校名称": "name",
    "学校类型": "type",
    "小学在校生数": "P",
    "初中在校生数": "J",
    "高中在校生数": "S",
    "小学专任教师中专科及以上学历人数": "qual_p",
    "初中专任教师中本科及以上学历人数": "qual_j",
    "小学县级及以上骨干教师数": "backbone_p",
    "初中县级及以上骨干教师数": "backbone_j",
    "小学体育、艺术（美术、音乐）专任教师数": "pe_art_p",
    "初中体育、艺术（美术、音乐）专任教师数": "pe_art_j",
    "教学及辅助用房面积（不含室内体育用房）": "area",
    "体育运动场馆面积（室外运动场地 + 室内体育用房）": "sports",
    "教学仪器设备值": "equipment",
    "网络多媒体教室数": "rooms",
    "是否教学点": "teaching_point",
}
STANDARD = {
    "小学": {
        "L1": D("4.2"),
        "L2": D(1),
        "L3": D("0.9"),
        "L4": D("4.5"),
        "L5": D("7.5"),
        "L6": D(2000),
        "L7": D("2.3"),
    },
    "初中": {
        "L1": D("5.3"),
        "L2": D(1),
        "L3": D("0.9"),
        "L4": D("5.8"),
        "L5": D("10.2"),
        "L6": D(2500),
        "L7": D("2.4"),
    },
}
CV_LIMIT = {"小学": D("0.50"), "初中": D("0.45")}
CODES = ["L1", "L2", "L3", "L4", "L5", "L6", "L7"]
PRIMARY_TYPES = ("小学", "九年一贯制学校", "十二年一贯制学校")
JUNIOR_TYPES = ("初中", "九年一贯制学校", "十二年一贯制学校", "完全中学")


def half_up(x: Decimal, places: int) -> Decimal:
    return x.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def number(text: str) -> Decimal:
    return D(text.strip()) if text.strip() else D(0)


def read_schools(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = [COLUMNS[h] for h in rows[0]]
    schools = []
    for row in rows[1:]:
        cells = dict(zip(header, row, strict=True))
        school = {
            "name": cells["name"],
            "type": cells["type"],
            "teaching_point": cells["teaching_point"] == "是",
        }
        for key in header:
            if key not in school:
                school[key] = number(cells[key])
        schools.append(school)
    return schools


def units_of(school: dict) -> list[dict]:
    """The evaluated units of one school row: (phase, pupils, exact values)."""
    P, J, S = school["P"], school["J"], school["S"]
    weighted = P + D("1.1") * J + D("1.32") * S
    out = []
    phases = []
    if school["type"] in PRIMARY_TYPES and P > 0 and not (school["teaching_point"] and P < 50):
        phases.append(("小学", P, D(1), "_p"))
    if school["type"] in JUNIOR_TYPES and J > 0:
        phases.append(("初中", J, D("1.1"), "_j"))
    for phase, pupils, w, sfx in phases:
        exact = {
            "L1": school["qual" + sfx] * 100 / pupils,
            "L2": school["backbone" + sfx] * 100 / pupils,
            "L3": school["pe_art" + sfx] * 100 / pupils,
            "L4": school["area"] * w / weighted,
            "L5": school["sports"] * w / weighted,
            "L6": school["equipment"] * w / weighted,
            "L7": school["rooms"] * w * 100 / weighted,
        }
        out.append({"school": school["name"], "phase": phase, "pupils": pupils, "exact": exact})
    return out


def judge(unit: dict) -> None:
    std = STANDARD[unit["phase"]]
    unit["values"] = {c: half_up(unit["exact"][c], 2) for c in CODES}
    met = [c for c in CODES if unit["values"][c] >= std[c]]
    unmet = [c for c in CODES if c not in met]
    ratios = {c: half_up(unit["values"][c] / std[c], 3) for c in unmet}
    unit["met"] = len(met)
    unit["ratios"] = ratios
    unit["passed"] = len(met) >= 6 and all(r >= D("0.85") for r in ratios.values())


def stats(units: list[dict]) -> list[dict]:
    out = []
    for code in CODES:
        for phase in ("小学", "初中"):
            group = [u for u in units if u["phase"] == phase]
            total = sum((u["pupils"] for u in group), D(0))
            mean = sum((u["exact"][code] * u["pupils"] for u in group), D(0)) / total
            var = sum(((u["pupils"] / total) * (u["exact"][code] - mean) ** 2 for u in group), D(0))
            cv = var.sqrt() / mean
            out.append({"indicator": code, "phase": phase, "mean": half_up(mean, 2), "cv": half_up(cv, 3)})
    return out


# ---------------------------------------------------------------- the county's own part (county.yaml)


def read_county(path: Path) -> tuple[dict, dict]:
    """The flat ``values:`` and ``manual:`` mappings of county.yaml (key: value lines; # starts a comment)."""
    values: dict[str, str] = {}
    manual: dict[str, str] = {}
    section = None
    for line in path.read_text("utf-8").splitlines():
        text = line.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        if not text.startswith(" "):
            section = text.rstrip(":") if text.endswith(":") else None
            continue
        key, _, value = text.strip().partition(":")
        if section == "values":
            values[key.strip()] = value.strip()
        elif section == "manual":
            manual[key.strip()] = value.strip()
    return values, manual


def county_part(values: dict, manual: dict) -> list[str]:
    """Every county-level requirement that is not met (empty: all met). Rates to 1 decimal (申报表 表Ⅳ)."""
    yes = {k: v == "是" for k, v in values.items() if v in ("是", "否")}
    n = {k: D(v) for k, v in values.items() if v not in ("是", "否")}

    def rate(a: Decimal, b: Decimal) -> Decimal:
        return half_up(a * 100 / b, 1)

    checks = {
        "G1": yes["规划布局合理"],
        "G2": all(yes[k] for k in ("建设标准统一", "编制标准统一", "公用经费定额统一", "装备标准统一")),
        "G3": n["音乐教室达标学校数"] >= n["义务教育学校数"]
        and n["美术教室达标学校数"] >= n["义务教育学校数"],
        "G4": n["小学初中最大规模"] <= 2000
        and n.get("一贯制学校最大规模", D(0)) <= 2500
        and n.get("放宽小学初中最大规模", D(0)) <= 2400
        and n.get("放宽一贯制学校最大规模", D(0)) <= 3000,
        "G5": n["小学最大班额"] <= 45 and n["初中最大班额"] <= 50,
        "G6": n["按百人核定经费学校数"] >= n["不足百人学校数"],
        "G7": n["特教生均公用经费"] >= 6000,
        "G8": n["教师平均工资"] >= n["公务员平均工资"] and yes["绩效工资足额核定"],
        "G9": n["完成培训教师数"] >= n["应培训教师数"],
        "G10": yes["编制岗位统筹分配"],
        "G11": rate(n["交流轮岗教师数"], n["符合交流条件教师数"]) >= 10
        and rate(n["交流骨干教师数"], n["交流轮岗教师数"]) >= 20,
        "G12": n["持证专任教师数"] >= n["专任教师数"],
        "G13": n["小学划片入学数"] >= n["小学招生数"] and rate(n["初中划片入学数"], n["初中招生数"]) >= 95,
        "G14": rate(n["分配到校名额数"], n["优质高中招生数"]) >= 50 and yes["名额向农村初中倾斜"],
        "G15": yes["留守儿童关爱体系健全"] and rate(n["随迁子女公办就读数"], n["符合条件随迁子女数"]) >= 85,
        "Q1": rate(
            n["初中毕业生数"] - n["三年内转入学生数"] + n["三年内转出学生数"],
            n["三年前初一在校生数"] - n["三年内死亡学生数"],
        )
        >= 95,
        "Q2": rate(n["残疾儿童少年入学数"], n["适龄残疾儿童少年数"]) >= 95,
        "Q3": yes["学校均有章程"] and yes["管理教学信息化"],
        "Q4": n["最低培训经费占比"] >= 5,
        "Q5": manual.get("Q5") == "达到",
        "Q6": manual.get("Q6") == "达到",
        "Q7": yes["课程开齐开足"] and yes["教学秩序规范"] and yes["综合实践活动有效开展"],
        "Q8": manual.get("Q8") == "达到",
        "Q9": any(f"{s}学业水平" in n for s in ("语文", "数学", "科学", "体育", "艺术", "德育"))
        and all(
            n[f"{s}学业水平"] >= 3 and n[f"{s}校际差异率"] < D("0.15")
            for s in ("语文", "数学", "科学", "体育", "艺术", "德育")
            if f"{s}学业水平" in n
        ),
        # 社会认可度: a reported overall figure if given, else the two samples pooled
        # (the combination is UNVERIFIED, see the framework's S1 note)
        "S": half_up(n["社会认可度综合值"], 1) >= 85
        if "社会认可度综合值" in n
        else rate(
            n["满意问卷数"] + n.get("走访满意人数", D(0)), n["有效问卷数"] + n.get("实地走访人数", D(0))
        )
        >= 85,
    }
    vetoes = [
        "以考试方式招生",
        "违规择校",
        "重点学校重点班",
        "有编不补",
        "重大安全责任事故",
        "弄虚作假",
        "校外培训治理不力",
    ]
    return [k for k, ok in checks.items() if not ok] + [f"一票否决：{v}" for v in vetoes if yes[v]]


def compute() -> tuple[dict, dict]:
    """(expected.json's content, details for the printed summary)."""
    with localcontext() as ctx:
        ctx.prec = 34
        schools = read_schools(HERE / "schools.csv")
        units = [u for s in schools for u in units_of(s)]
        for u in units:
            judge(u)
        table = stats(units)
        cv_ok = all(s["cv"] <= CV_LIMIT[s["phase"]] for s in table)
        all_pass = all(u["passed"] for u in units)
        values, manual = read_county(HERE / "county.yaml")
        county_unmet = county_part(values, manual)
    result = {
        "units": [
            {
                "school": u["school"],
                "phase": u["phase"],
                "values": {c: str(u["values"][c]) for c in CODES},
                "met": u["met"],
                "passed": u["passed"],
            }
            for u in units
        ],
        "stats": [{**s, "mean": str(s["mean"]), "cv": str(s["cv"])} for s in table],
        "passed": cv_ok and all_pass and not county_unmet,
    }
    return result, {"schools": schools, "units": units, "table": table, "county_unmet": county_unmet}


def main() -> None:
    result, detail = compute()
    (HERE / "expected.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    schools, units, table, county_unmet = (detail[k] for k in ("schools", "units", "table", "county_unmet"))
    # A summary for the reader (not part of expected.json).
    print(f"{len(schools)} schools, {len(units)} evaluated units, {sum(u['passed'] for u in units)} pass")
    for u in units:
        if not u["passed"] or u["met"] < 7:
            floors = ", ".join(f"{c} {r}" for c, r in u["ratios"].items())
            print(
                f"  {u['school']}（{u['phase']}）: {u['met']} of 7 met; ratio to standard: {floors} → {'pass' if u['passed'] else 'FAIL'}"
            )
    for s in table:
        flag = "" if s["cv"] <= CV_LIMIT[s["phase"]] else "  > limit"
        print(f"  {s['indicator']} {s['phase']}: mean {s['mean']}, CV {s['cv']}{flag}")
    print(f"county part unmet: {county_unmet or 'none'}; county passes: {result['passed']}")


if __name__ == "__main__":
    main()
