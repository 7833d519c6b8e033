from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.topics import (
    DeviceTopic,
    TopicError,
    alert_topic,
    deadletter_topic,
    device_topic,
    parse_alert_topic,
    parse_device_topic,
    shared,
    team_of,
)

ids = st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z")


@given(team=ids, athlete=ids, device=ids, stream=st.sampled_from(["steps", "session", "wellness", "status", "imu"]))
def test_device_topics_round_trip(team: str, athlete: str, device: str, stream: str) -> None:
    topic = device_topic(team, athlete, device, stream)  # type: ignore[arg-type]
    assert parse_device_topic(topic) == DeviceTopic(team, athlete, device, stream)  # type: ignore[arg-type]
    assert str(parse_device_topic(topic)) == topic
    assert team_of(topic) == team


@given(team=ids, athlete=ids)
def test_alert_topics_round_trip(team: str, athlete: str) -> None:
    assert parse_alert_topic(alert_topic(team, athlete)) == (team, athlete)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("stridewatch/v1/h/a/d", "topic: not of the form stridewatch/v1/{team}/{athlete}/{device}/{stream}"),
        ("stridewatch/v2/h/a/d/steps", "topic: not of the form stridewatch/v1/{team}/{athlete}/{device}/{stream}"),
        ("stridewatch/v1/h/a/d/steps/x", "topic: not of the form stridewatch/v1/{team}/{athlete}/{device}/{stream}"),
        (
            "stridewatch/v1/h/a/d/heartrate",
            "topic: unknown stream 'heartrate', expected one of steps, session, wellness, status, imu",
        ),
        ("stridewatch/v1/h/a b/d/steps", "topic: athlete 'a b' is not 1-64 characters of A-Z, a-z, 0-9, _ or -"),
        ("stridewatch/v1//a/d/steps", "topic: team '' is not 1-64 characters of A-Z, a-z, 0-9, _ or -"),
    ],
)
def test_bad_device_topics(topic: str, expected: str) -> None:
    with pytest.raises(TopicError) as info:
        parse_device_topic(topic)
    assert str(info.value) == expected


def test_other_topics() -> None:
    assert deadletter_topic("h") == "stridewatch/v1/h/deadletter"
    assert shared("stridewatch/v1/+/+/+/+", "ingest") == "$share/ingest/stridewatch/v1/+/+/+/+"
    assert shared("x/y", None) == "x/y"
    assert team_of("elsewhere/v1/h") is None
    assert team_of("stridewatch/v1/bad team/a/d/steps") is None
    with pytest.raises(TopicError):
        parse_alert_topic("stridewatch/v1/h/alert/a")
