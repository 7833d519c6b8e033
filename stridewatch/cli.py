"""The ``stridewatch`` command line: one entry point for every part of the system."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

app = typer.Typer(
    name="stridewatch",
    help="Catch running and jumping injuries before they happen: ingest wearable streams over MQTT, "
    "score each athlete's injury risk, and alert coaches.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-v info, -vv debug).")
    ] = 0,
    log_json: Annotated[bool, typer.Option(help="Log one JSON object per line (for log collectors).")] = False,
) -> None:
    """Logs go to stderr, structured (key=value or JSON), warnings only unless -v."""
    from stridewatch.logs import configure

    configure(verbose=verbose, as_json=log_json)


@app.command()
def schema(
    out: Annotated[Path, typer.Option(help="Folder for one JSON Schema file per payload.")] = Path("schemas"),
    asyncapi: Annotated[
        Path | None, typer.Option(help="Also write the AsyncAPI 3.0 document here (e.g. docs/asyncapi.yaml).")
    ] = None,
) -> None:
    """Write the wire contract's JSON Schemas (and optionally its AsyncAPI document)."""
    from ingest.schema import asyncapi_document, json_schemas

    out.mkdir(parents=True, exist_ok=True)
    for name, doc in json_schemas().items():
        (out / f"{name}.schema.json").write_text(json.dumps(doc, indent=2) + "\n")
    typer.echo(f"wrote {len(json_schemas())} JSON Schemas to {out}/")
    if asyncapi:
        asyncapi.parent.mkdir(parents=True, exist_ok=True)
        asyncapi.write_text(yaml.safe_dump(asyncapi_document(), sort_keys=False, allow_unicode=True))
        typer.echo(f"wrote the AsyncAPI document to {asyncapi}")
