from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.brokers import SpawnedMosquitto, container_mosquitto, docker_available, mosquitto


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
    with mosquitto(tmp_path / "broker" if (tmp_path / "broker").mkdir() is None else tmp_path) as b:
        yield b
