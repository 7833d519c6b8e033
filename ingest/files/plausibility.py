"""What a watch file says, judged before it becomes training load.

Real files carry faults that would otherwise read as heroic training. Each check below
raises a `Flag` with the number that triggered it, and says what happens to the data:

``time_backwards``     samples earlier than the one before: left out.
``gps_jumps``          positions (or device distance) moving faster than `MAX_SPEED_MS`,
                       faster than any sprinter: left out of the distance.
``impossible_speed``   the file's own distance over its duration is faster than
                       `MAX_AVG_KMH` (the 5,000 m world record pace): reported; the jumps
                       behind it are left out as above.
``impossible_cadence`` cadence samples over `MAX_CADENCE_SPM`: no steps from them.
``long_stop``          stops of `STOP_S` or more (less than `STOP_M` covered: a watch left
                       running, or a long break): the session is trimmed to its part
                       between stops with the most steps; the rest is left out.
``not_a_run``          the kept part still averages over `MAX_AVG_KMH` (a car, a bike):
                       the session is not imported.
``very_long``          over `VERY_LONG_S` of recording after trimming: kept (ultras exist).
``duplicate``          the same session as another file in the batch: not imported again
                       (see `duplicates`).

Steps come from the measured cadence; a file without any (GPX logs, some FIT and TCX) gets
them from moving speed by `estimated_cadence`'s stated model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from ingest.files.model import Activity, Point

MAX_SPEED_MS = 12.5  # Bolt's top speed was about 12.4 m/s for a stride or two
MAX_AVG_KMH = 24.0  # the 5,000 m world record (12:35) is 23.8 km/h; nobody holds more for 10 min
MIN_CHECKED_S = 600.0  # shorter than this, a fast average proves nothing
MAX_CADENCE_SPM = 250.0  # distance runners stay under about 220 steps/min
MAX_GAP_S = 30.0  # longer without a sample and without moving: the watch was paused
STOP_S = 15 * 60.0
STOP_M = 200.0  # within 15 minutes, a walker covers over 1 km
VERY_LONG_S = 6 * 3600.0
REANCHOR_AFTER = 10  # consecutive rejected positions: the earlier one was the outlier
SPEED_WINDOW_S = 10.0  # the speed model smooths GPS noise over this window
# The cadence model for files without cadence: typical walking and easy-running cadences.
WALK_SPEED_MS, WALK_SPM = 1.0, 110.0
RUN_SPEED_MS, RUN_SPM = 2.0, 165.0
EARTH_RADIUS_M = 6_371_008.8

Cadence = Literal["measured", "estimated from speed"]


@dataclass(frozen=True)
class Flag:
    code: str
    message: str  # plain words with the number
    value: float  # the number that triggered it


@dataclass(frozen=True)
class Track:
    """An activity as it will be imported: kept samples, and the step rate between each two."""

    ts: np.ndarray  # int64 ms, strictly increasing
    elevation_m: np.ndarray  # float64, NaN where unknown
    rate_spm: np.ndarray  # float64, one per interval (len(ts) - 1); 0: no steps
    distance_m: float | None  # None: the file has neither distance nor positions
    duration_s: float  # recording time without pauses
    cadence: Cadence | None  # None: no cadence and no distance, so no steps
    flags: tuple[Flag, ...]
    importable: bool

    @property
    def start_ts(self) -> int:
        return int(self.ts[0])

    @property
    def end_ts(self) -> int:
        return int(self.ts[-1])

    @property
    def cadence_range(self) -> tuple[float, float] | None:
        used = self.rate_spm[self.rate_spm > 0]
        return (float(used.min()), float(used.max())) if used.size else None


def judge(activity: Activity) -> Track:
    """Clean ``activity`` and flag what is implausible (see the module doc for each flag)."""
    flags: list[Flag] = []
    points = _in_time_order(activity, flags)
    ts = np.array([p.ts for p in points], dtype=np.int64)
    column = _columns(points)
    t = (ts - ts[0]) / 1000.0
    dt = np.diff(t)
    step, removed = _distance_steps(t, column["lat"], column["lon"], column["distance"])
    has_distance = bool(np.isfinite(step).any())
    step = np.nan_to_num(step)
    _flag_speed(activity, t, step, removed, flags)
    if np.isfinite(column["cadence"]).any():
        rate = _measured_rate(column["cadence"], dt, flags)
        cadence: Cadence | None = "measured"
    elif has_distance:
        rate = estimated_cadence(t, np.concatenate(([0.0], np.cumsum(step))))
        cadence = "estimated from speed"
    else:
        rate, cadence = np.zeros_like(dt), None
    lo, hi = _moving_part(t, step if has_distance else rate * dt / 60, rate * dt / 60, flags, ts)
    t, dt, step, rate = t[lo : hi + 1], dt[lo:hi], step[lo:hi], rate[lo:hi]
    duration = float(dt[~((dt > MAX_GAP_S) & (rate == 0))].sum())
    distance = float(step.sum()) if has_distance else None
    importable = cadence is not None
    if distance is not None and duration >= MIN_CHECKED_S and distance / duration * 3.6 > MAX_AVG_KMH:
        kmh = distance / duration * 3.6
        flags.append(Flag("not_a_run", f"even after cleaning, {distance / 1000:.1f} km in {duration / 60:.1f} min "
                          f"is {kmh:.1f} km/h, faster than anyone runs: not imported", kmh))  # fmt: skip
        importable = False
    if duration > VERY_LONG_S:
        flags.append(Flag("very_long", f"{duration / 3600:.1f} h of recording: longer than {VERY_LONG_S / 3600:.0f} h, "
                          "check it is one session", duration / 3600))  # fmt: skip
    return Track(
        ts=ts[lo : hi + 1],
        elevation_m=column["altitude"][lo : hi + 1],
        rate_spm=rate,
        distance_m=distance,
        duration_s=duration,
        cadence=cadence,
        flags=tuple(flags),
        importable=importable,
    )


def estimated_cadence(t: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Steps per minute in each interval from the moving speed, for files without cadence.

    The model: under `WALK_SPEED_MS` the athlete is standing (no steps); up to
    `RUN_SPEED_MS` walking at `WALK_SPM`; faster, running at `RUN_SPM`, a typical easy-run
    cadence. Speed is smoothed over `SPEED_WINDOW_S` around each interval against GPS noise.
    """
    half = SPEED_WINDOW_S / 2
    lo, hi = np.maximum(t[:-1] - half, t[0]), np.minimum(t[1:] + half, t[-1])
    speed = (np.interp(hi, t, distance) - np.interp(lo, t, distance)) / (hi - lo)
    return np.select([speed >= RUN_SPEED_MS, speed >= WALK_SPEED_MS], [RUN_SPM, WALK_SPM], 0.0)


def duplicates(sessions: Sequence[tuple[str, int, int, bool]]) -> dict[int, Flag]:
    """Sessions that repeat an earlier one: ``(name, start_ms, end_ms, measured_cadence)`` in,
    index -> flag out.

    Two sessions are the same when they overlap for at least half the shorter one (a run
    exported as TCX and as GPX). The one with measured cadence is kept, else the first.
    """
    order = sorted(range(len(sessions)), key=lambda i: (not sessions[i][3], i))
    kept: list[int] = []
    out: dict[int, Flag] = {}
    for i in order:
        _, start, end, _ = sessions[i]
        for k in kept:
            other, o_start, o_end, _ = sessions[k]
            overlap = min(end, o_end) - max(start, o_start)
            if overlap >= 0.5 * min(end - start, o_end - o_start) and overlap > 0:
                out[i] = Flag("duplicate", f"the same session as {other} ({overlap / 60000:.1f} min overlap): "
                              "not imported again", overlap / 60000)  # fmt: skip
                break
        else:
            kept.append(i)
    return out


def _in_time_order(activity: Activity, flags: list[Flag]) -> list[Point]:
    points: list[Point] = []
    back, worst = 0, 0
    for p in activity.points:
        if points and p.ts <= points[-1].ts:
            back += p.ts < points[-1].ts
            worst = max(worst, points[-1].ts - p.ts)
            continue
        points.append(p)
    if back:
        flags.append(Flag("time_backwards", f"{back} samples went back in time (by up to {worst / 1000:.0f} s): "
                          "left out", back))  # fmt: skip
    return points


def _columns(points: list[Point]) -> dict[str, np.ndarray]:
    names = {"lat": "lat", "lon": "lon", "altitude": "altitude_m", "distance": "distance_m", "cadence": "cadence_spm"}
    return {
        key: np.array([np.nan if (v := getattr(p, attr)) is None else v for p in points], dtype=np.float64)
        for key, attr in names.items()
    }


def _distance_steps(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, device: np.ndarray) -> tuple[np.ndarray, float]:
    """Metres covered in each interval (NaN throughout when unknown), and the metres left out as jumps.

    The device's own distance is preferred (foot pods and the watch's filtering); without it,
    the positions. A position is rejected when reaching it from the last accepted one is
    faster than `MAX_SPEED_MS`, so a glitch that jumps out and back costs one point, not two
    legs; after `REANCHOR_AFTER` rejections in a row the earlier position was the outlier.
    """
    n = len(t)
    if np.isfinite(device).sum() >= n / 2:
        filled = _forward_fill(device)
        step = np.clip(np.diff(filled), 0, None)
        jump = step > MAX_SPEED_MS * np.maximum(np.diff(t), 1.0)
        return np.where(jump, 0.0, np.nan_to_num(step)), float(np.nan_to_num(step[jump]).sum())
    valid = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if valid.size < 2:
        return np.full(n - 1, np.nan), 0.0
    raw = float(_haversine(lat[valid[:-1]], lon[valid[:-1]], lat[valid[1:]], lon[valid[1:]]).sum())
    cum = np.zeros(n)
    anchor, rejected, total = int(valid[0]), 0, 0.0
    for i in valid[1:]:
        d = float(_haversine(lat[anchor], lon[anchor], lat[i], lon[i]))
        if d > MAX_SPEED_MS * (t[i] - t[anchor]) and rejected < REANCHOR_AFTER:
            rejected += 1
            continue
        if rejected < REANCHOR_AFTER:
            total += d
        anchor, rejected = int(i), 0
        cum[i] = total
    # samples without an accepted position carry the distance so far
    return np.diff(np.maximum.accumulate(cum)), raw - total


def _forward_fill(values: np.ndarray) -> np.ndarray:
    idx = np.where(np.isfinite(values), np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    return np.where(np.isfinite(out), out, 0.0)


def _haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))  # type: ignore[no-any-return]


def _flag_speed(activity: Activity, t: np.ndarray, step: np.ndarray, removed: float, flags: list[Flag]) -> None:
    duration = activity.file_duration_s or float(t[-1])
    distance = activity.file_distance_m
    if distance is not None and duration >= MIN_CHECKED_S and distance / duration * 3.6 > MAX_AVG_KMH:
        kmh = distance / duration * 3.6
        flags.append(Flag("impossible_speed", f"the file says {distance / 1000:.1f} km in {duration / 60:.1f} min: "
                          f"{kmh:.1f} km/h, a pace no runner holds (GPS glitches)", kmh))  # fmt: skip
    kept = float(step.sum())
    # A few metres of jitter are cleaned silently; a jump that changes the distance is reported.
    if removed >= 100 and removed >= 0.02 * (kept + removed):
        flags.append(Flag("gps_jumps", f"{removed / 1000:.2f} km of {(kept + removed) / 1000:.2f} km came from jumps "
                          f"faster than {MAX_SPEED_MS:g} m/s: left out of the distance", removed))  # fmt: skip


def _measured_rate(cadence: np.ndarray, dt: np.ndarray, flags: list[Flag]) -> np.ndarray:
    """The cadence recorded at the end of each interval (it describes the time up to it)."""
    rate = np.nan_to_num(cadence[1:])
    impossible = rate > MAX_CADENCE_SPM
    if impossible.any():
        flags.append(Flag("impossible_cadence", f"{int(impossible.sum())} samples above {MAX_CADENCE_SPM:.0f} "
                          f"steps/min (up to {rate.max():.0f}): no steps from them", float(rate.max())))  # fmt: skip
    return np.where(impossible | (dt > MAX_GAP_S) | (rate < 1.0), 0.0, rate)


def _moving_part(
    t: np.ndarray, progress_step: np.ndarray, steps: np.ndarray, flags: list[Flag], ts: np.ndarray
) -> tuple[int, int]:
    """First and last sample of the part of the session between stops with the most steps.

    A stop: any `STOP_S` window in which less than `STOP_M` is covered (steps stand in for
    metres when the file has no distance). Parts faster than `MAX_AVG_KMH` are not runs.
    """
    n = len(t)
    progress = np.concatenate(([0.0], np.cumsum(progress_step)))
    ends = np.searchsorted(t, t + STOP_S)  # first sample at least STOP_S later
    starts = np.flatnonzero((ends < n) & (progress[np.minimum(ends, n - 1)] - progress < STOP_M))
    if starts.size == 0:
        return 0, n - 1
    stopped = np.zeros(n, dtype=np.int64)  # difference array over intervals
    np.add.at(stopped, starts, 1)
    np.add.at(stopped, ends[starts], -1)
    moving = np.cumsum(stopped)[: n - 1] == 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], moving.astype(np.int8), [0]))))
    parts = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]  # intervals [a, b)

    def speed_kmh(a: int, b: int) -> float:
        span = t[b] - t[a]
        return float(progress[b] - progress[a]) / span * 3.6 if span > 0 else 0.0

    runs = [p for p in parts if speed_kmh(*p) <= MAX_AVG_KMH] or parts
    if not runs:
        return 0, n - 1
    a, b = max(runs, key=lambda p: float(steps[p[0] : p[1]].sum()))
    recorded, kept = t[-1] / 60, (t[b] - t[a]) / 60
    stood = float(np.diff(t)[~moving].sum()) / 60

    def clock(i: int) -> str:
        return datetime.fromtimestamp(int(ts[i]) / 1000, UTC).strftime("%Y-%m-%d %H:%M")

    flags.append(Flag("long_stop", f"recorded for {recorded:,.0f} min, {stood:,.0f} min of it standing still in "
                      f"stops of {STOP_S / 60:.0f} min or more (a watch left running?): kept the {kept:.0f}-min "
                      f"moving part ({clock(a)} to {clock(b)} UTC), left out {recorded - kept:,.0f} min",
                      recorded))  # fmt: skip
    return a, b
