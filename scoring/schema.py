"""Published JSON Schemas (draft 2020-12) of the file formats, generated from the models."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://duping-scoring.invalid/schema/"


def _models() -> dict[str, tuple[type[BaseModel], str]]:
    from .model import Framework

    out: dict[str, tuple[type[BaseModel], str]] = {"framework": (Framework, "督评 scoring 指标体系框架文件")}
    try:
        from .submission import Submission

        out["submission"] = (Submission, "督评 scoring 填报数据（自评 / 督评）")
    except ImportError:  # pragma: no cover - during early development only
        pass
    try:
        from .result import Result

        out["result"] = (Result, "督评 scoring 评分结果")
    except ImportError:  # pragma: no cover
        pass
    return out


def names() -> list[str]:
    return list(_models())


def json_schema(name: str = "framework") -> dict[str, Any]:
    """The JSON Schema of one format: ``framework``, ``submission`` or ``result``."""
    model, title = _models()[name]
    mode = "serialization" if name == "result" else "validation"
    schema = model.model_json_schema(mode=mode)
    return {"$schema": DRAFT, "$id": f"{BASE_ID}{name}.schema.json", **schema, "title": title}


def dumps(name: str = "framework") -> str:
    return json.dumps(json_schema(name), ensure_ascii=False, indent=2) + "\n"
