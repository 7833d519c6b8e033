"""Machine-readable forms of the contract, generated from the payload models.

`json_schemas` gives one JSON Schema per payload; `asyncapi_document` the AsyncAPI 3.0
description of every channel, from stridewatch's side (it receives device streams and
sends alerts, coaches' acknowledgements of them, and dead letters). ``docs/asyncapi.yaml``
is this document written out; a test regenerates it and compares, so the document cannot
drift from the models.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ingest.payloads import Ack, Alert, DeadLetter, ImuBatch, SessionEvent, Status, StepsBatch, Wellness
from ingest.topics import PREFIX

PAYLOADS: dict[str, type[BaseModel]] = {
    "steps": StepsBatch,
    "session": SessionEvent,
    "wellness": Wellness,
    "status": Status,
    "imu": ImuBatch,
    "alert": Alert,
    "ack": Ack,
    "deadletter": DeadLetter,
}
_ID_PARAM = "1-64 characters of A-Z, a-z, 0-9, _ or -"


def json_schemas() -> dict[str, dict[str, Any]]:
    """``{payload name: JSON Schema}``, each self-contained."""
    return {name: model.model_json_schema() for name, model in PAYLOADS.items()}


def _channel(address: str, summary: str, params: list[str], message: str) -> dict[str, Any]:
    return {
        "address": address,
        "summary": summary,
        "parameters": {p: {"description": f"the {p} id: {_ID_PARAM}"} for p in params},
        "messages": {message: {"$ref": f"#/components/messages/{message}"}},
    }


# (channel, address, summary, topic parameters, our action, retained)
_CHANNELS: list[tuple[str, str, str, list[str], str, bool]] = [
    ("steps", f"{PREFIX}/{{team}}/{{athlete}}/{{device}}/steps",
     "Per-step samples from a foot or shin pod or a watch, batched.", ["team", "athlete", "device"], "receive", False),
    ("session", f"{PREFIX}/{{team}}/{{athlete}}/{{device}}/session",
     "Session start and end.", ["team", "athlete", "device"], "receive", False),
    ("wellness", f"{PREFIX}/{{team}}/{{athlete}}/{{device}}/wellness",
     "The athlete's self-reported pain.", ["team", "athlete", "device"], "receive", False),
    ("status", f"{PREFIX}/{{team}}/{{athlete}}/{{device}}/status",
     "Device status; retained, and the device's last will.", ["team", "athlete", "device"], "receive", True),
    ("imu", f"{PREFIX}/{{team}}/{{athlete}}/{{device}}/imu",
     "Raw 3-axis acceleration from a pod or phone that detects no steps; stridewatch detects them.",
     ["team", "athlete", "device"], "receive", False),
    ("alert", f"{PREFIX}/{{team}}/alerts/{{athlete}}",
     "The athlete's current injury risk, retained: a coach app sees it on connect.", ["team", "athlete"], "send", True),
    ("ack", f"{PREFIX}/{{team}}/acks/{{athlete}}",
     "A coach acknowledged the athlete's alert (the dashboard); the latest one, retained.", ["team", "athlete"], "send", True),
    ("deadletter", f"{PREFIX}/{{team}}/deadletter",
     "Input that broke the contract, and why.", ["team"], "send", False),
]  # fmt: skip


def asyncapi_document() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Literal["validation"]]] = [(model, "validation") for model in PAYLOADS.values()]
    refs, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas = defs["$defs"]
    channels, operations, messages = {}, {}, {}
    for name, address, summary, params, action, retained in _CHANNELS:
        channels[name] = _channel(address, summary, params, name)
        mqtt = {"qos": 1, "retain": retained, "bindingVersion": "0.2.0"}
        operations[f"{action}_{name}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{name}"},
            "bindings": {"mqtt": mqtt},
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
        model = PAYLOADS[name]
        messages[name] = {
            "name": name,
            "title": model.__name__,
            "contentType": "application/json",
            "payload": refs[(model, "validation")],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "stridewatch wire contract",
            "version": "1.0.0",
            "description": (
                "Wearables publish steps (or raw acceleration), sessions, wellness and status; stridewatch publishes each "
                "athlete's injury risk (retained), coaches' acknowledgements of alerts (retained) and dead "
                "letters. Payloads are UTF-8 JSON objects of at most 256 KiB; unknown fields are ignored; NaN and Infinity are rejected."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "localhost:1883",
                "protocol": "mqtt",
                "protocolVersion": "5.0",
                "description": "Any MQTT 3.1.1 or 5.0 broker; devices publish with QoS 1.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
