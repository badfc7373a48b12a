"""Published JSON Schemas (draft 2020-12) of the file formats, generated from the models."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://duping-scoring.invalid/schema/"


TITLES = {
    "framework": "督评 scoring 指标体系框架文件",
    "submission": "督评 scoring 填报数据（自评 / 督评）",
    "result": "督评 scoring 评分结果",
}


def names() -> list[str]:
    return list(TITLES)


def json_schema(name: str = "framework") -> dict[str, Any]:
    """The JSON Schema of one format: ``framework``, ``submission`` or ``result``."""
    from ..engine.result import result_schema
    from ..engine.submission import Submission
    from ..framework.model import Framework

    title = TITLES[name]
    models: dict[str, type[BaseModel]] = {"framework": Framework, "submission": Submission}
    schema = result_schema() if name == "result" else models[name].model_json_schema()
    return {"$schema": DRAFT, "$id": f"{BASE_ID}{name}.schema.json", **schema, "title": title}


def dumps(name: str = "framework") -> str:
    return json.dumps(json_schema(name), ensure_ascii=False, indent=2) + "\n"
