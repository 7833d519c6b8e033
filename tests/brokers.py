"""Real Mosquitto brokers for integration tests.

A Docker engine runs the broker through testcontainers; without one (as on the CI
machine) the fixture spawns the ``mosquitto`` binary on a free port with its own
config (`stridewatch.broker.local`), which is also how the password, ACL and restart tests
get a broker they control. A test never gets a mocked broker: without either, it
fails and says why.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ContainerBroker:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


def docker_available() -> bool:
    """Whether a Docker engine answers (a bare client, as on CI here, does not count)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if host.startswith("unix://"):
            sock = socket.socket(socket.AF_UNIX)
            address: object = host.removeprefix("unix://")
        else:
            sock = socket.socket()
            hostname, _, port = host.split("://", 1)[-1].partition(":")
            address = (hostname, int(port or 2375))
        with sock:
            sock.settimeout(2)
            sock.connect(address)
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b"OK" in sock.recv(1024)
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def container_mosquitto() -> Iterator[ContainerBroker]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    container = DockerContainer("eclipse-mosquitto:2").with_exposed_ports(1883)
    container.with_command("mosquitto -c /mosquitto-no-auth.conf")
    with container:
        wait_for_logs(container, "running")
        yield ContainerBroker(container.get_container_host_ip(), int(container.get_exposed_port(1883)))
