"""GPX tracks, through gpxpy: one `Activity` per track.

GPX states no totals, so the file's distance is the track's own length. Garmin's
TrackPointExtension may carry ``hr`` and ``cad`` (strides per minute: doubled). A track is
taken as a run unless its ``type`` names another sport.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import gpxpy
import gpxpy.gpx

from ingest.files.model import Activity, FileError, Point, epoch_ms


def read_gpx(path: Path, data: bytes) -> list[Activity]:
    try:
        gpx = gpxpy.parse(data.decode("utf-8"))
    except (gpxpy.gpx.GPXException, UnicodeDecodeError) as exc:
        raise FileError(path, f"not a readable GPX file, truncated or not XML ({exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    out = []
    for index, track in enumerate(gpx.tracks):
        points = tuple(
            Point(
                ts=epoch_ms(p.time),
                lat=p.latitude,
                lon=p.longitude,
                altitude_m=p.elevation,
                heart_rate=_extension(p, "hr"),
                cadence_spm=2 * cad if (cad := _extension(p, "cad")) is not None else None,
            )
            for segment in track.segments
            for p in segment.points
            if p.time is not None
        )
        if points:
            distance = track.length_2d()
            out.append(Activity(path, index, "gpx", track.type or "running", points, digest, file_distance_m=distance))
    if not out:
        raise FileError(path, "a GPX file without any timed track point: nothing to import")
    return out


def _extension(point: gpxpy.gpx.GPXTrackPoint, name: str) -> float | None:
    for extension in point.extensions:
        for element in extension.iter():
            if element.tag.rsplit("}", 1)[-1] == name and element.text:
                try:
                    return float(element.text)
                except ValueError:
                    return None
    return None
