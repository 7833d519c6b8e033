"""A broker on the production config (deploy/mosquitto) with `stridewatch provision`'s accounts."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from stridewatch.broker.config import spawn
from stridewatch.broker.local import SpawnedMosquitto
from stridewatch.broker.provision import provision
from stridewatch.teams import TeamsConfig


@dataclass
class Deployment:
    broker: SpawnedMosquitto
    secrets: Path
    db_url: str

    def url(self, login: str | None, password: str | None = None) -> str:
        """The broker's URL as ``login`` (its provisioned password unless given), or anonymous."""
        if login is None:
            return self.broker.url
        secret = password if password is not None else (self.secrets / login).read_text().strip()
        return f"mqtt://{quote(login, safe='')}:{quote(secret, safe='')}@127.0.0.1:{self.broker.port}"


@contextlib.contextmanager
def deployed(
    root: Path, teams_toml: str, certs: Path, *, simulator_teams: Collection[str] = ()
) -> Iterator[Deployment]:
    """Provision ``teams_toml`` into ``root`` and run the deploy-config broker on free ports."""
    (root / "teams.toml").write_text(teams_toml)
    generated, secrets = root / "generated", root / "secrets"
    provision(
        TeamsConfig.load(root / "teams.toml"),
        passwords=generated / "passwords",
        acl=generated / "acl",
        secrets_dir=secrets,
        simulator_teams=simulator_teams,
        environ={},
    )
    broker, _tls_port = spawn(root / "broker", generated=generated, certs=certs)
    broker.start()
    try:
        yield Deployment(broker, secrets, f"sqlite:///{root}/stridewatch.db")
    finally:
        broker.stop()
