"""Steps from a raw 3-axis accelerometer stream, batch by batch, with scipy.signal.

A `Detector` turns samples (in g) into the contract's step rows. Everything it carries
from one batch to the next lives in its `DetectorState`, which `encode`/`decode` turn
into bytes for the store, so any split of a recording into batches, a restart between
any two of them included, gives exactly the steps of one pass over the whole recording
(the property `tests/unit/imu/test_streaming.py` checks):

1. the vector magnitude: orientation-free;
2. a Butterworth band-pass (second-order sections, `sosfilt` with its state ``zi``
   carried over); body sensors have a second, wider one to read the step time from;
3. candidates: `find_peaks` with a height floor over the buffered band-passed signal; a
   candidate is taken once the samples its features read have arrived (a short look-ahead);
4. selection: the highest candidate within a refractory distance that follows the
   athlete's cadence, above a share of the recent steps' height. scipy's own ``distance``
   cannot do this: its distance is fixed, and its pass is global (a peak's fate can hang
   on one arbitrarily far away, which no stream can wait for), so the choice is made here,
   candidate by candidate, with a look-ahead of one refractory distance;
5. bouts: steps count once ``bout_steps`` follow each other at a steady rhythm (a phone
   picked up, a pod knocked, are not walking);
6. the rows: time (smoothed over its neighbours for body sensors), cadence from the
   intervals, the foot, and the raw magnitude's peak as ``impact_g`` for pods.

The foot: a pod worn on one leg (``side``) sees its own leg swing before its own strike,
so of two consecutive strikes the one after more swing is that leg's (the swing: the mean
departure of the raw magnitude from 1 g over ``swing_window_s`` before the strike, which
ends before the strike's spike and starts after the one before it); when neither has any
swing (two-footed rope jumps) the foot is "L", as the contract asks. Without a side
the feet alternate. A gap in the samples (lost data, a new rate) ends a segment: steps
pending are settled and the filters start again; the cadence and height estimates carry on.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, NamedTuple, cast

import numpy as np
from scipy import signal

from ingest.imu.params import DetectorParams, ImuPlacement, params_for

MAX_IMPACT_G = 60.0  # the contract's ceiling; above it a "strike" is a knock, not a step
MAX_CADENCE_SPM = 300.0
SWING_MIN_G = 0.15  # mean swing below this on both strikes: no leg swung (two-footed)


class Peak(NamedTuple):
    """A chosen strike: when it was (ms), its beat in the rhythm (the band-passed peak, ms),
    the raw magnitude's peak (g) and the swing before it (g)."""

    at_ms: float
    beat_ms: float
    impact_g: float
    swing_g: float


class StepRows(NamedTuple):
    """Detected steps as columns, in time order: what a contract ``steps`` batch carries."""

    ts: np.ndarray  # int64 ms
    right: np.ndarray  # bool: foot "R"
    cadence_spm: np.ndarray  # float64, 0 < x <= 300
    impact_g: np.ndarray  # float64, NaN where none

    def __len__(self) -> int:
        return len(self.ts)


@lru_cache(maxsize=64)
def _band(low: float, high: float, rate_hz: float) -> np.ndarray:
    # A band edge at or past Nyquist (a slow stream) becomes a high-pass.
    if high < rate_hz / 2 * 0.95:
        return np.asarray(signal.butter(2, [low, high], btype="bandpass", fs=rate_hz, output="sos"))
    return np.asarray(signal.butter(2, low, btype="highpass", fs=rate_hz, output="sos"))


@dataclass
class DetectorState:
    """Everything a detector carries between batches; `encode` gives its bytes, exactly."""

    placement: str
    side: str | None
    # the current segment: its rate, the time of its sample 0 and how many samples it has had
    rate_hz: float = 0.0
    t0_ms: float = 0.0
    n: int = 0
    zi_band: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    zi_aux: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    # buffered signals from segment sample ``start``: raw magnitude, band-passed, timing (body only)
    start: int = 0
    mag: np.ndarray = field(default_factory=lambda: np.zeros(0))
    band: np.ndarray = field(default_factory=lambda: np.zeros(0))
    aux: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scan_from: int = 0  # candidates before this sample are taken
    # the last raw sample, for streams with per-sample times (resampled onto the segment's grid)
    last_t_ms: float | None = None
    last_xyz: list[float] | None = None
    # selection: the best candidate of the open window, the last chosen, the estimates
    pending: list[float] | None = None  # sample, height, at_ms, impact_g, swing_g
    last_chosen: int | None = None  # sample of the last chosen candidate in this segment
    last_at_ms: float | None = None  # its row time and its beat
    last_beat_ms: float | None = None
    period_s: float = 0.0
    height_g: float | None = None
    # bouts: strikes waiting for the bout to be long enough, the bout's rhythm
    waiting: list[list[float]] = field(default_factory=list)
    confirmed: bool = False
    bout_period_s: float | None = None
    bout_last_ms: float | None = None
    # rows: the strike held for its next neighbour, and the one before it in its bout
    held: list[float] | None = None
    before: list[float] | None = None
    count: int = 0  # steps emitted: the feet alternate by it

    _ARRAYS = ("zi_band", "zi_aux", "mag", "band", "aux")

    def encode(self) -> bytes:
        """Bytes that `decode` turns back into an equal state (floats round-trip exactly)."""
        head: dict[str, Any] = {}
        arrays: list[np.ndarray] = []
        for name in _STATE_FIELDS:
            value = getattr(self, name)
            if name in self._ARRAYS:
                head[name] = list(value.shape)
                arrays.append(np.ascontiguousarray(value, dtype="<f8"))
            else:
                head[name] = value
        text = json.dumps(head, separators=(",", ":")).encode()
        return struct.pack("<I", len(text)) + text + b"".join(a.tobytes() for a in arrays)

    @classmethod
    def decode(cls, data: bytes) -> DetectorState:
        (size,) = struct.unpack_from("<I", data)
        head = json.loads(data[4 : 4 + size])
        offset = 4 + size
        for name in cls._ARRAYS:
            shape = tuple(head[name])
            count = math.prod(shape)
            # Read-only views of the bytes: the detector replaces its arrays, never writes into them.
            head[name] = np.frombuffer(data, dtype="<f8", count=count, offset=offset).reshape(shape)
            offset += 8 * count
        return cls(**head)


_STATE_FIELDS = tuple(f.name for f in fields(DetectorState))


class Detector:
    """Feed it batches of one stream in time order; `finish` when the stream (or a segment) ends."""

    def __init__(self, state: DetectorState) -> None:
        self.state = state
        self.params: DetectorParams = params_for(cast(ImuPlacement, state.placement))
        self._out: list[tuple[float, bool, float, float]] = []
        if not state.period_s:
            state.period_s = self.params.initial_step_s

    @classmethod
    def start(cls, placement: ImuPlacement, side: str | None = None) -> Detector:
        return cls(DetectorState(placement=placement, side=side))

    # -- feeding ------------------------------------------------------------------------
    def feed(self, t0_ms: int, rate_hz: float, xyz_g: np.ndarray, offsets_ms: np.ndarray | None = None) -> StepRows:
        """Samples (``n x 3``, g) from ``t0_ms`` at ``rate_hz``, or at ``t0_ms + offsets_ms``; the steps settled."""
        s = self.state
        if offsets_ms is None:
            period = 1000.0 / rate_hz
            expected = s.t0_ms + s.n * period
            if s.rate_hz != rate_hz or s.last_t_ms is not None or abs(t0_ms - expected) > period / 2:
                self._new_segment(t0_ms, rate_hz)
            self._consume(xyz_g)
        else:
            self._resample(t0_ms + offsets_ms, rate_hz, xyz_g)
        return self._rows()

    def finish(self) -> StepRows:
        """The stream ends: settle what waits for samples that will not come, close the bout."""
        self._settle()
        self._end_bout()
        return self._rows()

    def _new_segment(self, t0_ms: float, rate_hz: float) -> None:
        # Lost samples are not a pause: the bout goes on, timed in ms across segments.
        self._settle()
        s = self.state
        s.rate_hz, s.t0_ms, s.n, s.start, s.scan_from = rate_hz, float(t0_ms), 0, 0, 0
        s.last_t_ms = s.last_xyz = None
        s.mag, s.band, s.aux = np.zeros(0), np.zeros(0), np.zeros(0)
        s.zi_band, s.zi_aux = np.zeros((0, 2)), np.zeros((0, 2))

    def _resample(self, times_ms: np.ndarray, rate_hz: float, xyz_g: np.ndarray) -> None:
        """Per-sample times: linear interpolation onto the segment's grid of ``rate_hz``."""
        s = self.state
        period = 1000.0 / rate_hz
        # Android timing jitters; a real gap (lost samples) is a new segment.
        if s.rate_hz != rate_hz or s.last_t_ms is None or times_ms[0] - s.last_t_ms > 5 * period:
            self._new_segment(times_ms[0], rate_hz)
        if s.last_t_ms is not None and s.last_xyz is not None:
            times_ms = np.concatenate(([s.last_t_ms], times_ms))
            xyz_g = np.vstack((s.last_xyz, xyz_g))
        last = int(np.floor((times_ms[-1] - s.t0_ms) / period + 1e-9))
        grid = s.t0_ms + np.arange(s.n, last + 1) * period
        if len(grid):
            self._consume(np.column_stack([np.interp(grid, times_ms, xyz_g[:, k]) for k in range(3)]))
        s.last_t_ms, s.last_xyz = float(times_ms[-1]), [float(v) for v in xyz_g[-1]]

    def _consume(self, xyz_g: np.ndarray) -> None:
        s, p = self.state, self.params
        if not len(xyz_g):
            return
        mag = np.sqrt(np.einsum("ij,ij->i", xyz_g, xyz_g))
        band_sos = _band(*p.band_hz, s.rate_hz)
        if s.n == 0:  # start in the steady state of the first sample: no start-up transient
            s.zi_band = signal.sosfilt_zi(band_sos) * mag[0]
        band, s.zi_band = signal.sosfilt(band_sos, mag, zi=s.zi_band)
        if p.time_band_hz is not None:
            aux_sos = _band(*p.time_band_hz, s.rate_hz)
            if s.n == 0:
                s.zi_aux = signal.sosfilt_zi(aux_sos) * mag[0]
            aux, s.zi_aux = signal.sosfilt(aux_sos, mag, zi=s.zi_aux)
            s.aux = np.concatenate((s.aux, aux))
        s.mag = np.concatenate((s.mag, mag))
        s.band = np.concatenate((s.band, band))
        s.n += len(mag)
        self._scan(final=False)

    # -- candidates ---------------------------------------------------------------------
    def _scan(self, *, final: bool) -> None:
        """Take the candidates whose features can be read; on ``final`` all that are left."""
        s, p = self.state, self.params
        ahead = 0 if final else self._samples(p.time_window_s[1])
        peaks, props = signal.find_peaks(s.band, height=p.floor_g, plateau_size=1)
        # Not yet known: a plateau that runs to the end (one under the floor never will be a
        # candidate: a pod lying still must not grow the buffer), and candidates whose
        # look-ahead has not come.
        frontier = s.n if final else s.n - 1 - ahead
        if not final and len(s.band) > 1 and s.band[-1] >= p.floor_g:
            flat = len(s.band) - 1
            while flat > 0 and s.band[flat - 1] == s.band[-1]:
                flat -= 1
            frontier = min(frontier, s.start + flat)
        for i, height, right_edge in zip(peaks, props["peak_heights"], props["right_edges"], strict=True):
            at = s.start + int(i)
            if at < s.scan_from or at >= frontier or (not final and s.start + right_edge + 1 >= s.n):
                continue
            self._candidate(at, float(height))
        s.scan_from = max(s.scan_from, frontier)
        self._pass_time()
        keep = max(0, s.scan_from - self._samples(p.lookback_s) - 2 - s.start)
        if keep:
            s.mag, s.band, s.aux = s.mag[keep:], s.band[keep:], s.aux[keep:]
            s.start += keep

    def _samples(self, seconds: float) -> int:
        return int(np.ceil(seconds * self.state.rate_hz))

    def _candidate(self, at: int, height: float) -> None:
        """The selection: the highest candidate within the refractory window becomes the pending strike."""
        s, p = self.state, self.params
        self._advance(at)
        if height < max(p.floor_g, p.relative_height * (s.height_g or 0.0)):
            return
        if s.last_chosen is not None and at - s.last_chosen < self._refractory():
            return
        if s.pending is None or height > s.pending[1]:
            s.pending = [float(at), height, *self._features(at)]

    def _features(self, at: int) -> tuple[float, float, float]:
        """A strike's time (ms), raw magnitude peak (g, NaN when not reported) and the swing before it (g)."""
        s, p = self.state, self.params
        i = at - s.start
        lo = max(0, i - self._samples(p.time_window_s[0]))
        hi = min(len(s.mag), i + self._samples(p.time_window_s[1]) + 1)
        timing = s.mag if p.time_band_hz is None else s.aux
        when, _ = _vertex(timing, lo + int(timing[lo:hi].argmax()))
        impact = float("nan")
        if p.impact:
            _, impact = _vertex(s.mag, lo + int(s.mag[lo:hi].argmax()))
        swing = 0.0
        if s.side is not None and p.time_band_hz is None:
            a = max(0, i - self._samples(p.swing_window_s[0]))
            b = max(a + 1, i - self._samples(p.swing_window_s[1]))
            swing = float(np.abs(s.mag[a:b] - 1.0).sum()) / (b - a)
        return s.t0_ms + (s.start + when) * 1000.0 / s.rate_hz, impact, swing

    def _refractory(self) -> float:
        p = self.params
        return min(max(p.refractory * self.state.period_s, p.min_step_s), p.max_refractory_s) * self.state.rate_hz

    def _advance(self, at: float) -> None:
        """Choose the pending candidate once nothing within its window can still beat it."""
        s = self.state
        if s.pending is not None and at - s.pending[0] >= self._refractory():
            self._choose()

    def _choose(self) -> None:
        s, p = self.state, self.params
        assert s.pending is not None
        at, height, at_ms, impact, swing = s.pending
        s.pending = None
        if s.last_at_ms is not None and at_ms <= s.last_at_ms:
            return  # read-back windows crossed: the same strike twice
        beat_ms = s.t0_ms + at * 1000.0 / s.rate_hz
        s.height_g = height if s.height_g is None else s.height_g + p.adapt * (height - s.height_g)
        s.last_chosen, s.last_at_ms, s.last_beat_ms = int(at), at_ms, beat_ms
        self._bout(Peak(at_ms, beat_ms, impact, swing))

    def _pass_time(self) -> None:
        """With the samples up to the scan frontier known, settle what no later candidate can change."""
        s, p = self.state, self.params
        self._advance(s.scan_from)
        # No strike chosen from here on can beat earlier than this: a long enough pause ends the bout.
        earliest = s.scan_from if s.pending is None else s.pending[0]
        now_ms = s.t0_ms + earliest * 1000.0 / s.rate_hz
        if s.bout_last_ms is not None and now_ms - s.bout_last_ms > p.max_pause_s * 1000:
            self._end_bout()

    # -- bouts and rows -----------------------------------------------------------------
    def _bout(self, peak: Peak) -> None:
        s, p = self.state, self.params
        if s.bout_last_ms is not None:
            interval = (peak.beat_ms - s.bout_last_ms) / 1000
            steady = s.bout_period_s is None or abs(interval / s.bout_period_s - 1) <= p.regularity
            if interval > p.max_pause_s or not steady:
                self._end_bout()
            else:  # only a steady rhythm teaches the cadence: jolts between bouts would not
                s.period_s += p.adapt * (interval - s.period_s)
                s.bout_period_s = (
                    interval if s.bout_period_s is None else s.bout_period_s + 0.3 * (interval - s.bout_period_s)
                )
        s.bout_last_ms = peak.beat_ms
        if s.confirmed:
            self._row(list(peak))
            return
        s.waiting.append(list(peak))
        if len(s.waiting) >= p.bout_steps:
            s.confirmed = True
            for waiting in s.waiting:
                self._row(waiting)
            s.waiting = []

    def _end_bout(self) -> None:
        """The bout is over: its last strike has no next neighbour; a short bout is dropped."""
        s = self.state
        if s.held is not None:
            self._emit(s.held, s.before, None)
        s.held = s.before = None
        s.waiting, s.confirmed, s.bout_period_s, s.bout_last_ms = [], False, None, None

    def _row(self, peak: list[float]) -> None:
        """Rows lag one strike: a row needs its neighbours (time smoothing, cadence, foot)."""
        s = self.state
        if s.held is not None:
            self._emit(s.held, s.before, peak)
        s.before, s.held = s.held, peak

    def _emit(self, peak: list[float], before: list[float] | None, after: list[float] | None) -> None:
        s, p = self.state, self.params
        at = peak[0]
        if p.smooth_times and before is not None and after is not None:
            at = (before[0] + 2 * at + after[0]) / 4
        neighbour = before if before is not None else after
        assert neighbour is not None, "a bout has at least two strikes"
        # The beat, not the row time: a pocket's row times alternate early and late.
        cadence = min(MAX_CADENCE_SPM, 60_000.0 / abs(peak[1] - neighbour[1]))
        if s.side is not None and p.time_band_hz is None:
            own = peak[3] > neighbour[3]
            swung = max(peak[3], neighbour[3]) >= SWING_MIN_G
            right = swung and (own == (s.side == "R"))
        else:
            right = s.count % 2 == 1
        impact = peak[2] if peak[2] <= MAX_IMPACT_G else float("nan")
        self._out.append((at, right, cadence, impact))
        s.count += 1

    def _settle(self) -> None:
        """The end of a segment: take every candidate left and choose."""
        s = self.state
        if s.n:
            self._scan(final=True)
            if s.pending is not None:
                self._choose()
        s.last_chosen = None

    def _rows(self) -> StepRows:
        out, self._out = self._out, []
        return StepRows(
            ts=np.fromiter((round(r[0]) for r in out), dtype=np.int64, count=len(out)),
            right=np.fromiter((r[1] for r in out), dtype=bool, count=len(out)),
            cadence_spm=np.fromiter((r[2] for r in out), dtype=np.float64, count=len(out)),
            impact_g=np.fromiter((r[3] for r in out), dtype=np.float64, count=len(out)),
        )


def _vertex(x: np.ndarray, i: int) -> tuple[float, float]:
    """Sub-sample position and height of the peak at ``i``: the parabola through it and its neighbours."""
    if 0 < i < len(x) - 1:
        a, b, c = x[i - 1], x[i], x[i + 1]
        curve = a - 2 * b + c
        if curve < 0:
            shift = 0.5 * (a - c) / curve
            return i + shift, float(b - 0.25 * (a - c) * shift)
    return float(i), float(x[i])
