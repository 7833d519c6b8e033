"""Watch files (Garmin FIT, TCX, GPX) -> the contract's session and step messages.

``read_activities`` reads a file into `Activity` objects (`FileError` names the file and
the problem when it cannot); `plausibility.judge` cleans and flags each; `steps.synthesize`
derives the steps; `messages.session_messages` writes them as contract payloads. Raw
accelerometer recordings (CSV) go another way: `accel.read_recording` reads them and
`messages.recording_messages` writes their samples as ``imu`` batches, for the server to detect the steps.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from ingest.files.fit import read_fit
from ingest.files.gpx import read_gpx
from ingest.files.messages import session_id, session_messages
from ingest.files.model import Activity, FileError, Point
from ingest.files.plausibility import Flag, Track, duplicates, judge
from ingest.files.steps import Steps, synthesize
from ingest.files.tcx import read_tcx
from ingest.message import Message

READERS = {".fit": read_fit, ".tcx": read_tcx, ".gpx": read_gpx}

__all__ = [
    "READERS",
    "Activity",
    "FileError",
    "Flag",
    "Message",
    "Point",
    "Steps",
    "Track",
    "duplicates",
    "file_type",
    "judge",
    "read_activities",
    "session_id",
    "session_messages",
    "synthesize",
]  # fmt: skip


def file_type(path: Path) -> str:
    """The reader's suffix: ``.gpx`` for ``run.gpx`` and for ``run.gpx.gz`` (Strava's bulk export gzips each file)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-1:] == [".gz"]:
        return suffixes[-2] if len(suffixes) > 1 else ".gz"
    return suffixes[-1] if suffixes else ""


def read_activities(path: Path) -> list[Activity]:
    """Every session in ``path``; raises `FileError` for an unreadable, truncated or unknown file."""
    reader = READERS.get(file_type(path))
    if reader is None:
        raise FileError(path, f"unknown file type {''.join(path.suffixes)!r}: use .fit, .tcx or .gpx (or .gz of one)")
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz":
            data = gzip.decompress(data)
    except OSError as exc:  # gzip.BadGzipFile is one
        raise FileError(path, f"cannot be read ({exc.strerror or exc})") from None
    except (EOFError, zlib.error) as exc:
        raise FileError(path, f"a truncated or damaged gzip file ({exc})") from None
    if not data:
        raise FileError(path, "the file is empty")
    return reader(path, data)
