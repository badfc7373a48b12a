"""Regenerate the filled example workbooks from the example submissions beside them.

A workbook records its framework's version and content hash, so after a framework changes, run:

    python examples/make_workbooks.py

Each examples/<framework>/<name>.yaml|.json gets a filled examples/<framework>/<name>.xlsx (with 督评 columns).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import scoring
from scoring.io.fill import fill_template
from scoring.io.template import write_template

HERE = Path(__file__).resolve().parent


def main() -> None:
    skip = ("tailoring", "ysjh-2017")  # a framework file, and a county's statistics table (no workbooks)
    for folder in sorted(p for p in HERE.iterdir() if p.is_dir() and p.name not in skip):
        subs = sorted([*folder.glob("*.yaml"), *folder.glob("*.json")])
        if not subs:
            continue
        for path in subs:
            sub = scoring.read_submission(path)
            plan = scoring.compile_plan(scoring.load_framework(sub.framework or folder.name))
            with tempfile.TemporaryDirectory() as tmp:
                template = write_template(plan, Path(tmp) / "template.xlsx", evaluator=True)
                out = fill_template(template, sub, path.with_suffix(".xlsx"))
            print(out.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
