"""The real test files (tests/data/real, see its README) and independent readings of their totals.

The expected values are read straight from each file (fitdecode, the standard XML parser,
gpxpy), not through the importer.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import fitdecode
import gpxpy

REAL = Path(__file__).parents[2] / "data" / "real"
GOOD_RUNS = (
    REAL / "fit" / "garmin-fenix-5-run.fit",
    REAL / "fit" / "developer-types-sample.fit",
    REAL / "fit" / "2013-02-06-12-11-14.fit",
    REAL / "tcx" / "run_garmin.tcx",
    REAL / "tcx" / "2020-12-02T06_08_29-300_Running.tcx",
    REAL / "gpx_log" / "36bb9510-27b3-4c13-9d68-55b59af24ec3.gpx",
)
CYCLING = REAL / "fit" / "2015-10-13-08-43-15.fit"
MALFORMED = (REAL / "fit" / "nick.fit", REAL / "fit" / "strava-android-app-201.10-b1218918.fit")
GPX_LOG = sorted((REAL / "gpx_log").glob("*.gpx"))
PAUSE_S = 30  # the importer's rule: a longer gap between samples stops the steps


def totals(path: Path) -> tuple[int, float, float, tuple[float, float] | None]:
    """(sessions, duration s, distance m, cadence range in steps/min) as the file itself states them.

    FIT: the session messages' total_timer_time and total_distance; TCX: the sum of the laps'
    TotalTimeSeconds and DistanceMeters; GPX: gpxpy's moving time and 2-D track length. The
    cadence range: the positive cadence samples after the first, not following a pause,
    doubled (strides to steps).
    """
    if path.suffix == ".fit":
        return _fit(path)
    if path.suffix == ".tcx":
        return _tcx(path)
    gpx = gpxpy.parse(path.read_text())
    return len(gpx.tracks), gpx.get_moving_data().moving_time, gpx.length_2d(), None


def _fit(path: Path) -> tuple[int, float, float, tuple[float, float] | None]:
    sessions, samples = [], []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "session":
                sessions.append((frame.get_value("total_timer_time"), frame.get_value("total_distance")))
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                cadence = frame.get_value("cadence", fallback=None)
                fraction = frame.get_value("fractional_cadence", fallback=None) or 0.0
                samples.append((frame.get_value("timestamp"), None if cadence is None else cadence + fraction))
    return len(sessions), sum(s[0] for s in sessions), sum(s[1] for s in sessions), _cadence_range(samples)


def _tcx(path: Path) -> tuple[int, float, float, tuple[float, float] | None]:
    ns = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2",
          "x": "http://www.garmin.com/xmlschemas/ActivityExtension/v2"}  # fmt: skip
    root = ET.parse(path).getroot()
    laps = root.findall(".//t:Lap", ns)
    duration = sum(float(lap.findtext("t:TotalTimeSeconds", namespaces=ns) or 0) for lap in laps)
    distance = sum(float(lap.findtext("t:DistanceMeters", namespaces=ns) or 0) for lap in laps)
    samples = []
    for point in root.iter(f"{{{ns['t']}}}Trackpoint"):
        cadence = point.findtext(".//x:RunCadence", namespaces=ns)
        when = datetime.fromisoformat(point.findtext("t:Time", namespaces=ns) or "")
        samples.append((when, None if cadence is None else float(cadence)))
    return len(root.findall(".//t:Activity", ns)), duration, distance, _cadence_range(samples)


def _cadence_range(samples: list[tuple[datetime, float | None]]) -> tuple[float, float] | None:
    used = [
        2 * c
        for (before, _), (when, c) in itertools.pairwise(samples)
        if c and (when - before).total_seconds() <= PAUSE_S
    ]
    return (min(used), max(used)) if used else None
