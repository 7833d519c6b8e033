"""docker-compose.yml and the Dockerfile, kept correct without a Docker engine.

Every `stridewatch` command is parsed by the real command line, every mounted file exists in
the repo or is made by `stridewatch provision` / `stridewatch dev-certs` (run here into a
temporary folder), and the broker config finds each file it names through the mounts.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml

from stridewatch.broker.certs import make_dev_certs
from stridewatch.broker.provision import provision
from stridewatch.cli import app
from stridewatch.teams import TeamsConfig

ROOT = Path(__file__).parents[3]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
STRIDEWATCH_SERVICES = [name for name, s in SERVICES.items() if s.get("image", "").startswith("stridewatch")]
PRODUCED = ("deploy/mosquitto/generated", "deploy/mosquitto/certs", "deploy/secrets")  # made, never committed
_DEFAULTED = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


def interpolate(text: str) -> str:
    """Compose's ``${VAR:-default}`` with the default, as on a host that sets nothing."""
    return _DEFAULTED.sub(lambda m: m[1], text)


@pytest.fixture
def produced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_env: None) -> dict[str, Path]:
    """What the README's deploy steps make, made in ``tmp_path``: repo path -> where it is here."""
    for name in ("STRIDEWATCH_SECRET_STRIDEWATCH", "STRIDEWATCH_SECRET_SIMULATOR"):
        monkeypatch.delenv(name, raising=False)
    made = {path: tmp_path / path for path in PRODUCED}
    provision(
        TeamsConfig.load(ROOT / "examples" / "teams.toml"),
        passwords=made["deploy/mosquitto/generated"] / "passwords",
        acl=made["deploy/mosquitto/generated"] / "acl",
        secrets_dir=made["deploy/secrets"],
        simulator_teams=["team-00", "team-01"],
    )
    make_dev_certs(made["deploy/mosquitto/certs"], ["mosquitto"], days=1)
    return made


def host_path(source: str, produced: dict[str, Path]) -> Path:
    relative = Path(interpolate(source)).as_posix().removeprefix("./")
    for root, here in produced.items():
        if relative == root or relative.startswith(root + "/"):
            return here / Path(relative).relative_to(root)
    return ROOT / relative


def mounts(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for volume in service.get("volumes", []):
        source, target = interpolate(volume).split(":")[:2]
        if source.startswith((".", "/")):  # a bind mount; the rest are named volumes
            yield source, target


def test_every_stridewatch_command_parses_with_the_real_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    cli = typer.main.get_command(app)  # typer's own (vendored) click group
    assert STRIDEWATCH_SERVICES, "no service runs the stridewatch image"
    for name in STRIDEWATCH_SERVICES:
        service = SERVICES[name]
        for variable, value in service.get("environment", {}).items():
            monkeypatch.setenv(variable, str(value))  # options such as --mqtt-url come from there
        args = [str(a) for a in service["command"]]
        root = cli.make_context("stridewatch", list(args), resilient_parsing=False)
        command = cli.get_command(root, args[0])  # type: ignore[attr-defined]
        assert command is not None, f"{name}: `stridewatch {args[0]}` is not a command"
        command.make_context(args[0], args[1:], parent=root, resilient_parsing=False)
        for variable in service.get("environment", {}):
            monkeypatch.delenv(variable)


def test_a_wrong_option_would_be_caught() -> None:
    cli = typer.main.get_command(app)
    command = cli.get_command(cli.make_context("stridewatch", ["ingest"]), "ingest")  # type: ignore[attr-defined]
    assert command is not None
    with pytest.raises(Exception, match="No such option: --shared-group"):
        command.make_context("ingest", ["--mqtt-url", "mqtt://x", "--shared-group", "g"], resilient_parsing=False)


def test_ingest_replicas_share_the_device_stream_under_their_own_stable_client_ids() -> None:
    replicas = [s["command"] for name, s in SERVICES.items() if s.get("command", [None])[0] == "ingest"]
    assert len(replicas) >= 2
    assert all(args[args.index("--share-group") + 1] == "ingest" for args in replicas)
    client_ids = [args[args.index("--client-id") + 1] for args in replicas]
    assert len(set(client_ids)) == len(client_ids), "replicas need distinct persistent sessions"
    assert not any("{" in cid or "$" in cid for cid in client_ids), "a client id must survive a container's recreation"


def test_every_mounted_file_exists_or_is_made_by_the_deploy_steps(produced: dict[str, Path]) -> None:
    for name, service in SERVICES.items():
        for source, _ in mounts(service):
            assert host_path(source, produced).exists(), f"{name}: {source} is neither in the repo nor made"
        env_files = service.get("env_file", [])
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = env_file if isinstance(env_file, str) else env_file["path"]
            assert path.startswith("deploy/secrets/"), f"{name}: {path} must live in the git-ignored deploy/secrets/"
    for name, secret in COMPOSE["secrets"].items():
        assert host_path(secret["file"], produced).is_file(), f"secret {name}: {secret['file']} is not made"


def test_the_broker_finds_every_file_its_config_names(produced: dict[str, Path]) -> None:
    mounted = {target: host_path(source, produced) for source, target in mounts(SERVICES["mosquitto"])}
    config = SERVICES["mosquitto"]["command"][-1]
    assert config in mounted
    for line in mounted[config].read_text().splitlines():
        words = line.split()
        if len(words) == 2 and words[1].startswith("/mosquitto/"):
            folder = next((t for t in mounted if words[1].startswith(t + "/")), None)
            assert folder is not None, f"{words[1]} is in no mounted folder"
            assert (mounted[folder] / words[1].removeprefix(folder + "/")).exists(), f"{words[1]} is not there"


def test_services_have_health_checks_and_no_inline_secrets() -> None:
    for name, service in SERVICES.items():
        if "simulator" not in service.get("profiles", []):
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for variable, value in service.get("environment", {}).items():
            assert not re.search(r"PASSWORD$|SECRET|TOKEN", variable), f"{name}: {variable} is set inline"
            assert urlsplit(str(value)).password is None, f"{name}: {variable} holds a password"
    assert SERVICES["postgres"]["healthcheck"]["test"][1] == "pg_isready"


def test_the_image_runs_the_stridewatch_console_script() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    entrypoint = re.search(r"^ENTRYPOINT\s+(.+)$", dockerfile, re.MULTILINE)
    assert entrypoint is not None
    assert yaml.safe_load(entrypoint[1]) == ["stridewatch"]  # exec form: signals reach stridewatch
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["stridewatch"] == "stridewatch.cli:app"
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = {shlex.split(line)[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    assert set(packages) <= copied, "the image must hold every package the wheel ships"
