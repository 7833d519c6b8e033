"""Every file of the shared real set, where it is at hand: ``STRIDEWATCH_REAL_SET``, or
``../shared/data/real`` beside the project (the developers' machine and CI).

The default suite uses the copies in tests/data/real; a clone on its own has no shared set,
and then this one test is skipped, saying so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stridewatch.tools.importing import expand, prepare
from tests.unit.imports.files import totals
from tests.unit.imports.test_file_totals import DISTANCE_TOLERANCE, DURATION_TOLERANCE

BESIDE = Path(__file__).parents[4] / "shared" / "data" / "real"
WHERE = os.environ.get("STRIDEWATCH_REAL_SET") or (str(BESIDE) if BESIDE.is_dir() else None)
# Flags after which the import differs from the file's totals on purpose.
CORRECTED = {"long_stop", "gps_jumps", "duplicate", "not_a_run"}
# GPX states no totals: gpxpy's moving time finds stops its own way (up to 9.5 % apart on
# these runs), and jumps under the gps_jumps flag's 2 % are left out of the distance silently.
GPX_DURATION_TOLERANCE, GPX_DISTANCE_TOLERANCE = 0.10, 0.02


@pytest.mark.skipif(not WHERE, reason=f"no shared real set: not at {BESIDE}; set STRIDEWATCH_REAL_SET to its folder")
def test_every_file_of_the_shared_real_set() -> None:
    root = Path(WHERE or "")
    assert root.is_dir(), f"STRIDEWATCH_REAL_SET={WHERE}: no such folder"
    result = prepare(expand([root]), team="t", athlete="a", device="d")
    assert {Path(f.path).name for f in result.failed} == {"nick.fit", "strava-android-app-201.10-b1218918.fit"}
    for report in result.files:
        imported = [s for s in report.sessions if s.imported]
        if len(imported) != 1 or CORRECTED & {f.code for f in imported[0].flags}:
            continue
        _, duration_s, distance_m, cadence = totals(Path(report.path))
        (session,) = imported
        gpx = report.path.endswith(".gpx")
        duration_tolerance = GPX_DURATION_TOLERANCE if gpx else DURATION_TOLERANCE
        distance_tolerance = GPX_DISTANCE_TOLERANCE if gpx else DISTANCE_TOLERANCE
        assert session.duration_s == pytest.approx(duration_s, rel=duration_tolerance), report.path
        assert session.distance_m == pytest.approx(distance_m, rel=distance_tolerance), report.path
        if cadence is not None:
            assert session.cadence_spm == pytest.approx(cadence), report.path
