"""Implausible data is flagged with its number and left out; broken files are rejected by name."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import gpxpy
import pytest

from ingest.files import FileError, read_activities
from ingest.files.plausibility import MAX_AVG_KMH
from stridewatch.tools.importing import prepare
from tests.unit.imports.files import GPX_LOG, MALFORMED, REAL


def _span_and_speed(path: Path) -> tuple[float, float]:
    """(minutes, km/h) of a GPX track as the file has it, through gpxpy."""
    gpx = gpxpy.parse(path.read_text())
    minutes = (gpx.get_duration() or 0.0) / 60
    return minutes, gpx.length_2d() / 1000 / (minutes / 60)


def test_the_two_gpx_log_faults_are_flagged_and_left_out() -> None:
    measured = {path: _span_and_speed(path) for path in GPX_LOG}
    # found by computing, not by name: a day-long "run", and one faster than anyone runs
    (left_running,) = [p for p, (minutes, _) in measured.items() if minutes > 12 * 60]
    (glitch,) = [p for p, (_, kmh) in measured.items() if kmh > MAX_AVG_KMH]
    reports = {Path(f.path): f for f in prepare([left_running, glitch], team="t", athlete="a", device="d").files}

    (session,) = reports[left_running].sessions
    stop = {f.code: f for f in session.flags}["long_stop"]
    assert stop.value == pytest.approx(measured[left_running][0], abs=1)
    assert f"{measured[left_running][0]:,.0f} min" in stop.message
    assert session.imported and session.duration_s is not None and session.duration_s < 90 * 60

    (session,) = reports[glitch].sessions
    flags = {f.code: f for f in session.flags}
    assert flags["impossible_speed"].value == pytest.approx(measured[glitch][1], rel=0.01)
    assert f"{measured[glitch][0]:.1f} min" in flags["impossible_speed"].message
    assert "gps_jumps" in flags
    # what is left is a plausible run for this runner
    assert session.imported and session.distance_m is not None and session.duration_s is not None
    assert session.distance_m / session.duration_s * 3.6 < 15


def test_the_same_run_from_two_files_is_imported_once() -> None:
    tcx = REAL / "tcx" / "2020-12-02T06_08_29-300_Running.tcx"
    gpx = REAL / "gpx_log" / "36bb9510-27b3-4c13-9d68-55b59af24ec3.gpx"
    result = prepare([gpx, tcx], team="t", athlete="a", device="d")
    by_name = {Path(f.path).name: f for f in result.files}
    assert by_name[tcx.name].sessions[0].imported  # the one with measured cadence
    (session,) = by_name[gpx.name].sessions
    assert not session.imported and [f.code for f in session.flags] == ["duplicate"]
    assert tcx.name in session.flags[0].message


def _broken_files(tmp_path: Path) -> list[tuple[Path, str]]:
    tcx, gpx = REAL / "tcx" / "run_garmin.tcx", REAL / "gpx_log" / "36bb9510-27b3-4c13-9d68-55b59af24ec3.gpx"
    made = {
        "truncated.tcx": tcx.read_bytes()[: len(tcx.read_bytes()) // 2],
        "truncated.gpx": gpx.read_bytes()[: len(gpx.read_bytes()) // 2],
        "not-xml.tcx": b"%PDF-1.4 this is not XML",
        "not-xml.gpx": b"\x00\x01\x02 binary",
        "empty.fit": b"",
        "notes.txt": b"hello",
        "damaged.gpx.gz": gzip.compress(gpx.read_bytes())[:-40],
        "not-gzip.tcx.gz": tcx.read_bytes(),
        "empty.fit.gz": gzip.compress(b""),
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    expected = {
        "truncated.tcx": "not well-formed XML", "truncated.gpx": "not a readable GPX file",
        "not-xml.tcx": "not well-formed XML", "not-xml.gpx": "not a readable GPX file",
        "empty.fit": "the file is empty", "notes.txt": "unknown file type",
        "damaged.gpx.gz": "a truncated or damaged gzip file", "not-gzip.tcx.gz": "cannot be read",
        "empty.fit.gz": "the file is empty",
    }  # fmt: skip
    return [(p, "not a readable FIT file") for p in MALFORMED] + [(tmp_path / n, why) for n, why in expected.items()]


def test_malformed_files_are_rejected_naming_the_file_and_the_problem(tmp_path: Path) -> None:
    for path, problem in _broken_files(tmp_path):
        with pytest.raises(FileError) as caught:
            read_activities(path)
        assert str(caught.value).startswith(f"{path}: ") and problem in str(caught.value), str(caught.value)


def test_the_good_files_of_a_batch_still_import(tmp_path: Path) -> None:
    broken = [p for p, _ in _broken_files(tmp_path)]
    good = REAL / "tcx" / "run_garmin.tcx"
    result = prepare([*broken, good], team="t", athlete="a", device="d")
    assert {Path(f.path) for f in result.failed} == set(broken)
    assert all(f.error and f.error.startswith(f.path) for f in result.failed)
    (imported,) = [f for f in result.files if f.status == "imported"]
    assert Path(imported.path) == good and imported.sessions[0].steps > 0
    assert result.messages


def test_time_going_backwards_and_impossible_cadence_are_flagged_and_left_out() -> None:
    from ingest.files import Activity, Point, judge

    start = 1_600_000_000_000
    points = [Point(ts=start + i * 1000, cadence_spm=170.0) for i in range(60)]
    points[30] = Point(ts=start + 10_000, cadence_spm=170.0)  # back in time from the sample at 29 s
    points[40] = Point(ts=start + 40_000, cadence_spm=400.0)  # no runner: 400 steps/min
    track = judge(Activity(Path("made-up.fit"), 0, "fit", "running", tuple(points), "0" * 64))
    flags = {f.code: f for f in track.flags}
    assert flags["time_backwards"].value == 1 and f"{29 - 10} s" in flags["time_backwards"].message
    assert flags["impossible_cadence"].value == 400
    assert track.cadence_range == (170.0, 170.0) and len(track.ts) == 59


def test_a_gzipped_export_reads_as_the_file_itself(tmp_path: Path) -> None:
    # Strava's bulk export gzips each activity file.
    plain = REAL / "tcx" / "run_garmin.tcx"
    packed = tmp_path / "run_garmin.tcx.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_activities(packed) == [replace(a, path=packed) for a in read_activities(plain)]
