"""The production Mosquitto config (``deploy/mosquitto/mosquitto.conf``), for a broker run elsewhere.

docker-compose runs the file as it is; the tests run the very same settings on free ports with
their own folders. Only ``listener`` ports and paths under ``/mosquitto/`` change, and every
such path must fall in a folder given here, so the file and its users cannot drift apart.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from pathlib import Path

from stridewatch.broker.local import SpawnedMosquitto, free_port

__all__ = ["DEPLOY_CONFIG", "render", "spawn"]

DEPLOY_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"
_CONTAINER_ROOT = "/mosquitto/"


def render(ports: Mapping[int, int], folders: Mapping[str, Path], *, source: Path = DEPLOY_CONFIG) -> str:
    """``source`` with each ``listener PORT`` moved to ``ports[PORT]`` on 127.0.0.1 and each
    ``/mosquitto/NAME/...`` path moved into ``folders[NAME]``; ValueError for one not mapped."""
    out = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split()
        if words[:1] == ["listener"]:
            port = int(words[1])
            if port not in ports:
                raise ValueError(f"{source}:{number}: no port given for listener {port}")
            line = f"listener {ports[port]} 127.0.0.1"
        elif len(words) == 2 and words[1].startswith(_CONTAINER_ROOT):
            folder, _, rest = words[1].removeprefix(_CONTAINER_ROOT).partition("/")
            if folder not in folders:
                raise ValueError(f"{source}:{number}: no folder given for {_CONTAINER_ROOT}{folder}/")
            line = f"{words[0]} {folders[folder] / rest}" + ("/" if words[1].endswith("/") else "")
        out.append(line)
    # Run as root, mosquitto would switch to the user `mosquitto`, who cannot read these folders.
    out.append(f"user {getpass.getuser()}")
    return "\n".join(out) + "\n"


def spawn(workdir: Path, *, generated: Path, certs: Path) -> tuple[SpawnedMosquitto, int]:
    """A broker (not started) on the deploy config, persisting in ``workdir/data``, and its TLS
    port (plain MQTT is on ``broker.port``)."""
    port, tls_port = free_port(), free_port()
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    conf = workdir / "mosquitto.conf"
    conf.write_text(render({1883: port, 8883: tls_port}, {"generated": generated, "certs": certs, "data": data}))
    return SpawnedMosquitto(workdir=workdir, port=port, config_file=conf, other_ports=(tls_port,)), tls_port
