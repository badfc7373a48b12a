import json

import jsonschema
import yaml

from scoring.io.schema import json_schema

from ..conftest import FRAMEWORKS, ROOT


def test_committed_schema_is_current():
    committed = json.loads((ROOT / "schema" / "framework.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema("framework"), "run: scoring schema > schema/framework.schema.json"


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(json_schema("framework"))


def test_shipped_frameworks_match_schema_and_point_editors_at_it():
    validator = jsonschema.Draft202012Validator(json_schema("framework"))
    files = sorted(FRAMEWORKS.rglob("*.yaml"))
    assert files
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server: $schema="), f
        data = json.loads(json.dumps(yaml.safe_load(text), default=str))
        errors = list(validator.iter_errors(data))
        assert not errors, (f, [e.message for e in errors[:3]])
