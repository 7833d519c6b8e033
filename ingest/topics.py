"""Pure parsing and building of the v1 topic tree (CONTRACT.md).

>>> parse_device_topic("stridewatch/v1/harriers/a-017/pod-3/steps")
DeviceTopic(team='harriers', athlete='a-017', device='pod-3', stream='steps')
>>> alert_topic("harriers", "a-017")
'stridewatch/v1/harriers/alerts/a-017'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from ingest.errors import IngestError

PREFIX = "stridewatch/v1"
Stream = Literal["steps", "session", "wellness", "status", "imu"]
STREAMS: tuple[Stream, ...] = get_args(Stream)
DEVICE_FILTER = f"{PREFIX}/+/+/+/+"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TopicError(IngestError, ValueError):
    """A topic outside the contract's tree; the message is the dead letter's reason."""


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    team: str
    athlete: str
    device: str
    stream: Stream

    def __str__(self) -> str:
        return device_topic(self.team, self.athlete, self.device, self.stream)


def parse_device_topic(topic: str) -> DeviceTopic:
    """``stridewatch/v1/{team}/{athlete}/{device}/{stream}`` -> its parts, or `TopicError`."""
    parts = topic.split("/")
    if len(parts) != 6 or "/".join(parts[:2]) != PREFIX:
        raise TopicError(f"topic: not of the form {PREFIX}/{{team}}/{{athlete}}/{{device}}/{{stream}}")
    team, athlete, device, stream = parts[2:]
    for name, value in (("team", team), ("athlete", athlete), ("device", device)):
        _check_id(name, value)
    if stream not in STREAMS:
        raise TopicError(f"topic: unknown stream {stream!r}, expected one of {', '.join(STREAMS)}")
    return DeviceTopic(team, athlete, device, stream)


def team_of(topic: str) -> str | None:
    """The team segment of any topic in the tree when it is a valid id (for dead letters)."""
    parts = topic.split("/")
    if len(parts) > 2 and "/".join(parts[:2]) == PREFIX and is_id(parts[2]):
        return parts[2]
    return None


def device_topic(team: str, athlete: str, device: str, stream: Stream) -> str:
    return f"{PREFIX}/{team}/{athlete}/{device}/{stream}"


def alert_topic(team: str, athlete: str) -> str:
    return f"{PREFIX}/{team}/alerts/{athlete}"


def alert_filter(team: str = "+") -> str:
    return f"{PREFIX}/{team}/alerts/+"


def parse_alert_topic(topic: str) -> tuple[str, str]:
    """``stridewatch/v1/{team}/alerts/{athlete}`` -> (team, athlete), or `TopicError`."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != PREFIX or parts[3] != "alerts":
        raise TopicError(f"topic: not of the form {PREFIX}/{{team}}/alerts/{{athlete}}")
    _check_id("team", parts[2])
    _check_id("athlete", parts[4])
    return parts[2], parts[4]


def ack_topic(team: str, athlete: str) -> str:
    return f"{PREFIX}/{team}/acks/{athlete}"


def ack_filter(team: str = "+") -> str:
    return f"{PREFIX}/{team}/acks/+"


def deadletter_topic(team: str) -> str:
    return f"{PREFIX}/{team}/deadletter"


def shared(topic_filter: str, group: str | None) -> str:
    """An MQTT v5 shared subscription (``$share/group/filter``) when a group is given."""
    return f"$share/{group}/{topic_filter}" if group else topic_filter


def is_id(value: str) -> bool:
    """The contract's id rule (teams, athletes, devices; also broker logins): 1-64 of A-Z a-z 0-9 _ -."""
    return _ID.fullmatch(value) is not None


def _check_id(name: str, value: str) -> None:
    if not is_id(value):
        raise TopicError(f"topic: {name} {value!r} is not 1-64 characters of A-Z, a-z, 0-9, _ or -")
