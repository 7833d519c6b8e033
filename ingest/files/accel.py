"""Raw accelerometer recordings (CSV) for `stridewatch import`: their samples, cleaned and timed.

Three layouts, told apart by their first line:

- a plain CSV whose header names ``t, x, y, z`` (other columns are ignored): ``t`` in
  seconds, since the Unix epoch or, when it starts near 0, from the recording's start
  (``start_ms`` then says when that was); x, y, z in g or m/s2, told apart by gravity
  (the median magnitude of a worn sensor is about 1 g) unless ``unit`` says;
- the Oxford step-counter validation files: no header, 7 columns (ns since the phone's
  boot, x, y, z in m/s2, then three step counters); the name
  ``user1_{placement}_{unix ms}.csv`` gives the placement and the start (``start_ms`` is
  for files renamed without it);
- the Oxford optimisation recordings: ``accelerometer.csv``, no header, 5 columns (ns
  since boot, an accuracy flag, x, y, z in m/s2); the folder's name gives the placement
  (``..._InHand_1``), ``start_ms`` the start. Their ``stepcounter.csv`` (the ground
  truth) and the summary ``stats.csv`` are not recordings: `NotARecording`.

What a phone logs needs cleaning, flagged with the count: samples whose time is not after
the one before (Android timing), exact 0, 0, 0 readings (a sensor starting up), and
readings beyond what a body-worn accelerometer reads are left out.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.files.model import FileError, StepActivity
from ingest.files.plausibility import Flag
from ingest.imu.params import ImuPlacement
from ingest.imu.samples import STANDARD_GRAVITY, Unit
from ingest.payloads import MAX_ABS_G

EARLIEST_EPOCH_S = 946_684_800  # 2000-01-01: a t this large is a time of day, not seconds from the start
# Where the Oxford recordings say the phone was, as their names spell it (lower-cased).
OXFORD_PLACEMENTS: dict[str, ImuPlacement] = {
    "hand": "hand", "inhand": "hand", "swingingarm": "hand", "frontpocket": "pocket", "backpocket": "pocket",
    "armband": "arm", "neckpouch": "chest", "bag": "bag", "purse": "bag",
}  # fmt: skip


class NotARecording(FileError):
    """A CSV that holds no accelerometer samples: skipped, not failed."""


@dataclass(frozen=True)
class Recording:
    path: Path
    layout: str
    times_ms: np.ndarray  # epoch ms, float64, increasing
    xyz: np.ndarray  # n x 3, in unit
    unit: Unit
    placement: ImuPlacement | None  # when the file's name says
    activity: StepActivity | None  # when the layout says (the Oxford recordings are walks)
    digest: str  # of the file's bytes: the session id derives from it
    flags: tuple[Flag, ...]

    @property
    def rate_hz(self) -> float:
        """The median sample rate."""
        return float(1000.0 / np.median(np.diff(self.times_ms)))


def read_recording(path: Path, *, start_ms: int | None = None, unit: Unit | None = None) -> Recording:
    """The recording in ``path``; `NotARecording` for a CSV of something else, `FileError` when unreadable."""
    try:
        raw = path.read_bytes()
        if path.suffix.lower() == ".gz":
            raw = gzip.decompress(raw)
    except OSError as exc:  # gzip.BadGzipFile is one
        raise FileError(path, f"cannot be read ({exc.strerror or exc})") from None
    except EOFError:
        raise FileError(path, "the gzip file is truncated") from None
    lines = raw.decode("utf-8", errors="replace").splitlines()
    if not lines or not lines[0].strip():
        raise FileError(path, "the file is empty")
    first = [cell.strip().lower() for cell in lines[0].split(",")]
    digest = hashlib.sha256(raw).hexdigest()
    if any(re.search(r"[a-z#]", cell) for cell in first):
        if not {"t", "x", "y", "z"} <= set(first):
            raise NotARecording(path, "not an accelerometer recording: no t, x, y, z columns")
        table = _numbers(path, lines[1:], [first.index(c) for c in ("t", "x", "y", "z")])
        times_ms = table[:, 0] * 1000
        if times_ms[0] < EARLIEST_EPOCH_S * 1000:
            times_ms = times_ms + _start(path, start_ms, "t counts seconds from the recording's start")
        return _cleaned(path, "t,x,y,z", times_ms, table[:, 1:], unit or _unit(path, table[:, 1:]), None, None, digest)
    columns = len(first)
    if columns == 7:
        table = _numbers(path, lines, [0, 1, 2, 3])
        named = re.search(r"_([a-z]+)_(\d{13})\.csv$", path.name.lower().removesuffix(".gz"))
        begin = int(named.group(2)) if named else _start(path, start_ms, "no start in its name")
        placement = OXFORD_PLACEMENTS.get(named.group(1)) if named else None
        layout = "Oxford validation"
    elif columns == 5:
        table = _numbers(path, lines, [0, 2, 3, 4])
        begin = _start(path, start_ms, "its clock counts from the phone's boot")
        parts = path.parent.name.lower().split("_")
        placement = OXFORD_PLACEMENTS.get(parts[-2]) if len(parts) >= 2 else None
        layout = "Oxford optimisation"
    elif columns == 3:
        raise NotARecording(path, "not an accelerometer recording: the Oxford layout's ground truth (time, foot, foot)")
    else:
        raise NotARecording(path, f"not an accelerometer recording: {columns} columns and no t, x, y, z header")
    times_ms = (table[:, 0] - table[0, 0]) / 1e6 + begin
    return _cleaned(path, layout, times_ms, table[:, 1:], "m/s2", placement, "walk", digest)


def _numbers(path: Path, lines: list[str], columns: list[int]) -> np.ndarray:
    rows = [line for line in lines if line.strip()]
    if len(rows) < 2:
        raise FileError(path, "fewer than 2 samples")
    try:
        return np.loadtxt(rows, delimiter=",", usecols=columns, ndmin=2, dtype=np.float64)
    except (ValueError, IndexError) as exc:
        raise FileError(path, f"not a table of numbers: {exc}") from None


def _start(path: Path, start_ms: int | None, why: str) -> int:
    if start_ms is None:
        raise FileError(path, f"{why}: give the time it started (--start)")
    return start_ms


def _unit(path: Path, xyz: np.ndarray) -> Unit:
    """Gravity tells the unit: a worn sensor's median magnitude is about 1 g, 9.8 m/s2."""
    median = float(np.median(np.linalg.norm(xyz, axis=1)))
    if 0.7 <= median <= 1.4:
        return "g"
    if 0.7 * STANDARD_GRAVITY <= median <= 1.4 * STANDARD_GRAVITY:
        return "m/s2"
    raise FileError(path, f"cannot tell g from m/s2: the median magnitude is {median:.2f} (give --unit)")


def _cleaned(
    path: Path, layout: str, times_ms: np.ndarray, xyz: np.ndarray, unit: Unit,
    placement: ImuPlacement | None, activity: StepActivity | None, digest: str,
) -> Recording:  # fmt: skip
    flags: list[Flag] = []
    later = np.concatenate(([True], times_ms[1:] > np.maximum.accumulate(times_ms)[:-1]))
    zero = ~xyz.any(axis=1)
    g = np.abs(xyz) / (STANDARD_GRAVITY if unit == "m/s2" else 1.0)
    beyond = ~np.isfinite(g).all(axis=1) | (np.nan_to_num(g).max(axis=1) > MAX_ABS_G)
    for code, mask, what in (
        ("time_backwards", ~later, "samples not after the one before"),
        ("sensor_startup", zero & later, "samples reading 0, 0, 0 (a sensor starting up)"),
        ("beyond_range", beyond & later & ~zero, f"samples beyond ±{MAX_ABS_G:g} g"),
    ):
        if mask.any():
            flags.append(Flag(code, f"{int(mask.sum())} {what}: left out", float(mask.sum())))
    keep = later & ~zero & ~beyond
    if keep.sum() < 2:
        raise FileError(path, "fewer than 2 usable samples")
    return Recording(path, layout, times_ms[keep], xyz[keep], unit, placement, activity, digest, tuple(flags))
