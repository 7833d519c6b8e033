"""A private Mosquitto on a free port, for the demo, the benchmarks and the tests.

It runs with its own config: persistence on (it survives a restart with its queues),
no limit on queued messages (Mosquitto's default of 1000 drops a consumer's backlog),
and whatever ``extra_conf`` adds (password files, ACLs); or, given ``config_file``, that
file instead (the production config rendered for this port by `stridewatch.broker.config`).
"""

from __future__ import annotations

import contextlib
import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO_HINT = (
    "no `mosquitto` binary and no Docker engine: install Mosquitto "
    "(Debian/Ubuntu: `apt-get install mosquitto mosquitto-clients`; macOS: `brew install mosquitto`), "
    "or run the README's test command, which installs it"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:g} s")


@dataclass
class SpawnedMosquitto:
    """A mosquitto process on a free port; restartable with its persistence kept."""

    workdir: Path
    port: int
    extra_conf: str = ""
    persistence: bool = True
    config_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    # Its other listeners' ports (TLS): mosquitto opens them one after the other, so the first
    # accepting says nothing of the rest.
    other_ports: tuple[int, ...] = ()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        binary = shutil.which("mosquitto") or next(
            (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
        )
        if binary is None:
            raise RuntimeError(MOSQUITTO_HINT)
        conf = self.config_file or self._write_own_config()
        stderr = self.workdir / "mosquitto.stderr"
        with stderr.open("ab") as err:
            self.process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=err)
        try:
            for port in (self.port, *self.other_ports):
                wait_for_port(self.host, port)
        except TimeoutError:
            self.process.kill()
            raise RuntimeError(
                f"mosquitto did not start on ports {self.port} {self.other_ports}: {stderr.read_text()}"
            ) from None

    def _write_own_config(self) -> Path:
        conf = self.workdir / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true" if "password_file" not in self.extra_conf else "allow_anonymous false",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            # a backlog of a million steps must fit while the consumer is down
            "max_queued_messages 0",
            "max_inflight_messages 0",
            "message_size_limit 0",
            f"log_dest file {self.workdir}/mosquitto.log",
            # run as root, mosquitto would switch to its own user and fail to write the workdir
            f"user {getpass.getuser()}",
            self.extra_conf,
        ]
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: mosquitto saves its persistence file on the way out
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def mosquitto(workdir: Path, extra_conf: str = "", persistence: bool = True) -> Iterator[SpawnedMosquitto]:
    broker = SpawnedMosquitto(workdir=workdir, port=free_port(), extra_conf=extra_conf, persistence=persistence)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
