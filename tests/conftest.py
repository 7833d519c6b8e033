from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.consumer import Consumer, ConsumerConfig
from stridewatch.broker.local import SpawnedMosquitto, mosquitto
from tests.brokers import container_mosquitto, docker_available
from tests.databases import postgres_database


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real Mosquitto shared by the session: a container where Docker runs, else a spawned process."""
    if docker_available():
        with container_mosquitto() as b:
            yield b
    else:
        with mosquitto(tmp_path_factory.mktemp("mosquitto")) as b:
            yield b


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[SpawnedMosquitto]:
    """A broker of this test's own (persistent, restartable), for restart and config tests."""
    workdir = tmp_path / "broker"
    workdir.mkdir()
    with mosquitto(workdir) as b:
        yield b


@pytest.fixture(scope="session")
def dev_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`stridewatch dev-certs` output (CA, server certificate for 127.0.0.1 and localhost), made once."""
    from stridewatch.broker.certs import make_dev_certs

    out = tmp_path_factory.mktemp("certs")
    make_dev_certs(out, ["127.0.0.1", "localhost"], days=2)
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage backend in turn: the embedded default and PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/stridewatch.db"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def consumer(broker: object, db_url: str) -> Iterator[Consumer]:
    """A running ingest consumer on the shared broker, into each storage backend in turn."""
    c = Consumer(ConsumerConfig(mqtt_url=broker.url, db_url=db_url, client_id=f"consumer-{time.time_ns()}"))  # type: ignore[attr-defined]
    c.start()
    yield c
    c.stop()
