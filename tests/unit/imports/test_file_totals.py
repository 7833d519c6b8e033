"""Each good real file imports as its own totals say: sessions, duration, distance, cadence range."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from stridewatch.tools.importing import prepare
from tests.unit.imports.files import CYCLING, GOOD_RUNS, REAL, totals

# Duration: the importer counts the time between samples less the pauses it finds (gaps of
# over 30 s without movement), the watch its own timer, which runs on while a runner stands
# at a crossing: they agree within 3 % (2.0 % on 2013-02-06-12-11-14.fit). Distance:
# within 1 % (the device's own distance for FIT and TCX; for GPX both sum the track, with
# different earth models and the importer leaving out GPS jumps).
DURATION_TOLERANCE = 0.03
DISTANCE_TOLERANCE = 0.01


@pytest.mark.parametrize("path", GOOD_RUNS, ids=lambda p: p.name)
def test_a_good_file_imports_as_its_own_totals(path: Path) -> None:
    n_sessions, duration_s, distance_m, cadence = totals(path)
    (report,) = prepare([path], team="t", athlete="a", device="d").files
    assert report.status == "imported" and report.error is None
    imported = [s for s in report.sessions if s.imported]
    assert len(imported) == n_sessions == 1
    (session,) = imported
    assert session.duration_s == pytest.approx(duration_s, rel=DURATION_TOLERANCE)
    assert session.distance_m == pytest.approx(distance_m, rel=DISTANCE_TOLERANCE)
    if cadence is None:  # no cadence in the file: the stated speed model gives the steps
        assert session.cadence == "estimated from speed"
        assert session.cadence_spm is not None and set(session.cadence_spm) <= {110.0, 165.0}
    else:
        assert session.cadence == "measured"
        assert session.cadence_spm == pytest.approx(cadence)
    # about one step per second of running at least
    assert session.duration_s is not None and session.steps > session.duration_s


def test_the_fit_files_records_csv_cross_checks_the_import() -> None:
    """garmin-fenix-5-run-records.csv holds the decoded records of garmin-fenix-5-run.fit."""
    with (REAL / "fit" / "garmin-fenix-5-run-records.csv").open() as f:
        rows = list(csv.DictReader(f))
    # every row is in the same zone (PDT), which strptime cannot read; only differences count
    when = [datetime.strptime(r["timestamp"].replace(" PDT ", " "), "%a %b %d %H:%M:%S %Y") for r in rows]
    cadence = [2 * float(r["cadence"]) for r in rows]
    distance = float(rows[-1]["distance"]) - float(rows[0]["distance"])
    expected_steps = sum(c * (b - a).total_seconds() / 60 for a, b, c in zip(when, when[1:], cadence[1:], strict=False))
    (report,) = prepare([REAL / "fit" / "garmin-fenix-5-run.fit"], team="t", athlete="a", device="d").files
    (session,) = report.sessions
    assert session.distance_m == pytest.approx(distance, abs=0.5)
    assert session.duration_s == pytest.approx((when[-1] - when[0]).total_seconds(), abs=1)
    positive = [c for c in cadence[1:] if c > 0]
    assert session.cadence_spm is not None
    # the CSV drops the FIT file's fractional cadence (up to half a stride a minute)
    assert session.cadence_spm[0] == pytest.approx(min(positive), abs=1)
    assert session.cadence_spm[1] == pytest.approx(max(positive), abs=1)
    assert session.steps == pytest.approx(expected_steps, abs=3)


def test_a_cycling_ride_is_skipped_not_imported() -> None:
    (report,) = prepare([CYCLING], team="t", athlete="a", device="d").files
    assert report.status == "skipped" and not any(s.imported for s in report.sessions)
    assert "cycling" in (report.sessions[0].note or "")
