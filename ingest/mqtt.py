"""Broker addresses and paho-mqtt 2.x clients, shared by ingest, alerts and simulators.

An address is a URL: ``mqtt://[user[:password]@]host[:port]`` or ``mqtts://...`` for TLS.
The password may also come from ``STRIDEWATCH_MQTT_PASSWORD``, or the file named by
``STRIDEWATCH_MQTT_PASSWORD_FILE`` (a Docker secret), so it stays out of process listings;
it is kept as a `SecretStr` and never logged.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import SecretStr

from ingest.errors import IngestError


class BrokerError(IngestError, RuntimeError):
    """The broker refused us or could not be reached; carries the broker's reason."""


@dataclass(frozen=True, kw_only=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL {url!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"MQTT URL {url!r}: no host")
        tls = parts.scheme in ("mqtts", "ssl")
        password = unquote(parts.password) if parts.password else _password_from_env()
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=SecretStr(password) if password else None,
        )

    def __str__(self) -> str:
        who = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{who}{self.host}:{self.port}"


def _password_from_env() -> str | None:
    file = os.environ.get("STRIDEWATCH_MQTT_PASSWORD_FILE")
    if file:
        return Path(file).read_text(encoding="utf-8").strip()
    return os.environ.get("STRIDEWATCH_MQTT_PASSWORD")


def make_client(address: BrokerAddress, *, client_id: str = "", manual_ack: bool = False) -> mqtt.Client:
    """An MQTT v5 paho client configured for ``address`` (not yet connected)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
        manual_ack=manual_ack,
    )
    if address.username:
        client.username_pw_set(address.username, address.password.get_secret_value() if address.password else None)
    if address.tls:
        context = ssl.create_default_context(cafile=os.environ.get("STRIDEWATCH_MQTT_CAFILE"))
        client.tls_set_context(context)
    return client


def publish_v5(
    client: mqtt.Client,
    topic: str,
    payload: bytes,
    *,
    retain: bool = False,
    user_properties: dict[str, str] | None = None,
) -> mqtt.MQTTMessageInfo:
    """Publish at QoS 1, with MQTT v5 user properties (e.g. an alert's id) when given."""
    props = None
    if user_properties:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.UserProperty = list(user_properties.items())
    return client.publish(topic, payload, qos=1, retain=retain, properties=props)


class Loop(Protocol):
    """What runs a client's network traffic: the client itself (paho's thread) or `ingest.netloop`'s."""

    def loop_start(self) -> object: ...

    def loop_stop(self) -> object: ...


def connect_blocking(
    client: mqtt.Client,
    address: BrokerAddress,
    *,
    timeout: float = 10.0,
    loop: Loop | None = None,
    **connect_kw: object,
) -> None:
    """Connect and start the network loop (``loop``, by default paho's own); raise `BrokerError`
    with the broker's reason on refusal."""
    runner = loop or client
    done = threading.Event()
    outcome: dict[str, object] = {}

    previous = client.on_connect

    def on_connect(c: mqtt.Client, u: object, f: object, reason: object, p: object) -> None:
        outcome["reason"] = reason
        done.set()
        if previous is not None:
            # paho types on_connect as a union of its v1 and v2 signatures; ours is v2.
            cast(Callable[..., None], previous)(c, u, f, reason, p)

    client.on_connect = on_connect
    try:
        client.connect(address.host, address.port, **connect_kw)  # type: ignore[arg-type]
    except OSError as exc:
        raise BrokerError(f"cannot reach the MQTT broker at {address}: {exc}") from exc
    runner.loop_start()
    if not done.wait(timeout):
        runner.loop_stop()
        raise BrokerError(f"no answer from the MQTT broker at {address} within {timeout:g} s")
    client.on_connect = previous
    reason = outcome["reason"]
    if getattr(reason, "is_failure", False):
        runner.loop_stop()
        raise BrokerError(f"the MQTT broker at {address} refused the connection: {reason}")
