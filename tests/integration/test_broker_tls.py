"""The production config's TLS listener, with `stridewatch dev-certs` certificates: trusted with the CA, refused without."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from ingest.mqtt import BrokerAddress, BrokerError, connect_blocking, make_client
from stridewatch.broker.config import spawn
from stridewatch.broker.provision import provision
from stridewatch.teams import TeamsConfig

pytestmark = pytest.mark.integration


@pytest.fixture
def tls_url(tmp_path: Path, dev_certs: Path) -> Iterator[str]:
    """``mqtts://`` with the service account's credentials, to the TLS listener of a deploy-config broker."""
    generated, secrets = tmp_path / "generated", tmp_path / "secrets"
    provision(
        TeamsConfig.default(), passwords=generated / "passwords", acl=generated / "acl", secrets_dir=secrets, environ={}
    )
    broker, tls_port = spawn(tmp_path / "broker", generated=generated, certs=dev_certs)
    broker.start()
    try:
        password = quote((secrets / "stridewatch").read_text().strip(), safe="")
        yield f"mqtts://stridewatch:{password}@127.0.0.1:{tls_port}"
    finally:
        broker.stop()


def connect(url: str, timeout: float = 10) -> None:
    address = BrokerAddress.parse(url)
    client = make_client(address)
    connect_blocking(client, address, timeout=timeout)
    client.disconnect()
    client.loop_stop()


def test_a_client_trusting_the_ca_connects(tls_url: str, dev_certs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIDEWATCH_MQTT_CAFILE", str(dev_certs / "ca.crt"))
    connect(tls_url)


def test_without_the_ca_the_broker_is_not_trusted(tls_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIDEWATCH_MQTT_CAFILE", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # paho leaves a failed handshake's socket to the GC
        with pytest.raises(BrokerError, match="certificate verify failed"):
            connect(tls_url)
        gc.collect()


def test_plain_mqtt_on_the_tls_port_gets_no_session(tls_url: str) -> None:
    with pytest.raises(BrokerError, match="no answer"):
        connect(tls_url.replace("mqtts://", "mqtt://"), timeout=2)
