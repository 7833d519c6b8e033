"""Garmin TCX files, on the standard library's XML parser: one `Activity` per Activity element.

Namespaces differ between exporters (``ns3:RunCadence``, a default-namespaced ``TPX``...),
so elements are matched by local name. ``RunCadence`` is strides per minute: doubled.
The file's own totals are the sums of its laps' ``TotalTimeSeconds`` and ``DistanceMeters``.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from ingest.files.model import Activity, FileError, Point, epoch_ms


def read_tcx(path: Path, data: bytes) -> list[Activity]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise FileError(path, f"not well-formed XML, truncated or not a TCX file ({exc})") from None
    if _local(root.tag) != "TrainingCenterDatabase":
        raise FileError(path, f"not a TCX file: the root element is <{_local(root.tag)}>")
    digest = hashlib.sha256(data).hexdigest()
    out = []
    for index, element in enumerate(e for e in root.iter() if _local(e.tag) == "Activity"):
        laps = [e for e in element if _local(e.tag) == "Lap"]
        points = [_point(path, tp) for lap in laps for tp in lap.iter() if _local(tp.tag) == "Trackpoint"]
        timed = tuple(p for p in points if p is not None)
        if timed:
            out.append(
                Activity(path, index, "tcx", element.get("Sport", "Other"), timed, digest,
                         file_duration_s=_lap_sum(laps, "TotalTimeSeconds"),
                         file_distance_m=_lap_sum(laps, "DistanceMeters"))
            )  # fmt: skip
    if not out:
        raise FileError(path, "a TCX file without any timed trackpoint: nothing to import")
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _lap_sum(laps: list[ET.Element], name: str) -> float | None:
    values = [float(c.text) for lap in laps for c in lap if _local(c.tag) == name and c.text]
    return sum(values) if values else None


def _point(path: Path, trackpoint: ET.Element) -> Point | None:
    fields = {_local(e.tag): (e.text or "").strip() for e in trackpoint.iter()}
    if not fields.get("Time"):
        return None
    try:
        when = datetime.fromisoformat(fields["Time"])
        number = {k: float(v) for k, v in fields.items() if v and k != "Time"}
    except ValueError as exc:
        raise FileError(path, f"a trackpoint at {fields['Time']} has a value that is not a number ({exc})") from None
    cadence = number.get("RunCadence")
    return Point(
        ts=epoch_ms(when),
        lat=number.get("LatitudeDegrees"),
        lon=number.get("LongitudeDegrees"),
        altitude_m=number.get("AltitudeMeters"),
        distance_m=number.get("DistanceMeters"),
        cadence_spm=2 * cadence if cadence is not None else None,
        heart_rate=number.get("Value"),  # HeartRateBpm/Value
    )
