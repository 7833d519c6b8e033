"""docs/asyncapi.yaml and the JSON Schemas are what the models generate: they cannot drift."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from ingest.schema import PAYLOADS, asyncapi_document, json_schemas
from stridewatch.cli import app

ROOT = Path(__file__).resolve().parents[3]


def test_committed_asyncapi_document_is_generated_from_the_models() -> None:
    committed = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    assert committed == asyncapi_document(), "regenerate: stridewatch schema --asyncapi docs/asyncapi.yaml"


def test_asyncapi_payload_schemas_equal_the_models() -> None:
    doc = asyncapi_document()
    schemas = doc["components"]["schemas"]
    for name, model in PAYLOADS.items():
        ref = doc["components"]["messages"][name]["payload"]["$ref"]
        own = model.model_json_schema(ref_template="#/components/schemas/{model}")
        nested = own.pop("$defs", {})
        assert schemas[ref.rsplit("/", 1)[1]] == own
        for sub, schema in nested.items():
            assert schemas[sub] == schema


def test_every_channel_has_qos1_and_the_retained_ones_are_alert_ack_and_status() -> None:
    doc = asyncapi_document()
    retained = {
        op["channel"]["$ref"].rsplit("/", 1)[1] for op in doc["operations"].values() if op["bindings"]["mqtt"]["retain"]
    }
    assert retained == {"alert", "ack", "status"}
    assert all(op["bindings"]["mqtt"]["qos"] == 1 for op in doc["operations"].values())
    assert set(doc["channels"]) == set(PAYLOADS)


def test_schema_command_writes_what_the_models_generate(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema", "--out", str(tmp_path / "s"), "--asyncapi", str(tmp_path / "a.yaml")])
    assert result.exit_code == 0, result.output
    for name, schema in json_schemas().items():
        assert json.loads((tmp_path / "s" / f"{name}.schema.json").read_text()) == schema
    assert yaml.safe_load((tmp_path / "a.yaml").read_text()) == asyncapi_document()
