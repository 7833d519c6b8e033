"""One device session's imu stream: which batches to detect, in what order, with what state.

The batches of a session are detected in time order by one `Detector`, whose state lives
in `StreamState` and is stored with each commit. Batches may arrive out of order (QoS 1
redelivery after a reconnect, a gateway's buffer). The policy is to hold and reorder:

- a batch that continues the samples detected so far (its first sample within a few
  sample periods of the last), or carries the device's next seq, is detected at once,
  then what it releases; a session's first batch is known by its seq following the
  device's last stored batch (or being 0 on a new device);
- a batch that leaves a gap waits, stored and acknowledged, for the batches in between,
  until the held samples reach ``HOLD_S`` past the gap, or the device starts its next
  session (what is missing of this one will not come); then the gap is taken as lost
  samples (the detector starts a new segment). The session's end alone forces nothing:
  an end event, on its own topic, may overtake the last batches;
- a batch that arrives after detection has passed its time, into a hole the stream left,
  is detected on its own: its steps are kept, its edges lack their neighbours' samples;
- a batch whose samples overlap samples already detected or held is a dead letter, and so
  is one whose placement or side differs from the session's.

Holding rather than re-detecting the tail: stored steps have already been judged live and
scored, so they are never taken back; a short hold makes the usual reordering exact, at
the price of a delay, and nothing that arrives later is lost.

The session's end settles the detector (`Detector.finish`) once the samples detected reach
it (within ``END_SLACK_S``) with nothing held: the steps still waiting for samples that will
not come are stored then. Detected steps are stored as step batches
under negative seqs that no device uses: ``-2n-1`` for the steps detected with batch
``n``, ``-2n-2`` for those settled at the end after it (`batch_seq`, `end_seq`).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ingest.imu.detector import Detector, DetectorState, StepRows

HOLD_S = 30.0
CONTIGUOUS_PERIODS = 5  # a next sample this close follows on (phones' timing jitters)
END_SLACK_S = 2.0  # a device may stop sampling a little before it reports the session's end


class RawBatch(NamedTuple):
    """What detection needs of a stored or arriving imu batch."""

    seq: int
    first_ts: int
    last_ts: int
    rate_hz: float
    placement: str
    side: str | None
    xyz_g: np.ndarray
    offsets_ms: np.ndarray | None


def batch_seq(seq: int) -> int:
    """The seq of the steps detected with imu batch ``seq``."""
    return -2 * seq - 1


def end_seq(seq: int) -> int:
    """The seq of the steps settled at the session's end, when ``seq`` was the last batch detected."""
    return -2 * seq - 2


@dataclass
class StreamState:
    detector: DetectorState
    done_seq: int = -1  # the last batch the stream's detector took
    last_ms: int | None = None  # and the time of its last sample
    rate_hz: float = 0.0
    covered: list[list[int]] = field(default_factory=list)  # [first, last] sample times detected, merged
    held: int = 0  # batches stored, waiting
    finished: bool = False

    @classmethod
    def start(cls, first: RawBatch) -> StreamState:
        return cls(DetectorState(placement=first.placement, side=first.side))

    def encode(self) -> bytes:
        head = {"done_seq": self.done_seq, "last_ms": self.last_ms, "rate_hz": self.rate_hz,
                "covered": self.covered, "held": self.held, "finished": self.finished}  # fmt: skip
        text = json.dumps(head, separators=(",", ":")).encode()
        return struct.pack("<I", len(text)) + text + self.detector.encode()

    @classmethod
    def decode(cls, data: bytes) -> StreamState:
        (size,) = struct.unpack_from("<I", data)
        head = json.loads(data[4 : 4 + size])
        return cls(DetectorState.decode(data[4 + size :]), **head)

    # -- the policy -----------------------------------------------------------------------
    def admit(self, batch: RawBatch, held: list[RawBatch]) -> str | None:
        """Why ``batch`` cannot join the stream (a dead letter's reason), or None."""
        s = self.detector
        if (batch.placement, batch.side) != (s.placement, s.side):
            return (
                f"placement: must stay the session's sensor ({batch.placement}, side {batch.side}; "
                f"the session's: {s.placement}, side {s.side})"
            )
        spans = [(lo, hi, "already detected") for lo, hi in self.covered]
        spans += [(h.first_ts, h.last_ts, f"held, seq {h.seq}") for h in held]
        for lo, hi, what in spans:
            if batch.first_ts <= hi and batch.last_ts >= lo:
                return (
                    "ts: must not overlap the samples of another batch of this session "
                    f"(samples {batch.first_ts}..{batch.last_ts}; {lo}..{hi} {what})"
                )
        return None

    def advance(
        self, held: list[RawBatch], *, end_ms: int | None = None, previous_seq: int | None = None, force: bool = False
    ) -> tuple[list[tuple[int, StepRows]], list[RawBatch]]:
        """Detect what can be detected now: the steps by the seq they are stored under, and what stays held.

        ``end_ms``: when the session ended, once its end is known. ``previous_seq``: the
        device's highest stored seq below the waiting batches (other sessions'), which
        tells whether the first of them is the session's first. ``force``: the device has
        moved on to another session; every gap is lost samples."""
        out: list[tuple[int, StepRows]] = []
        waiting = sorted(held, key=lambda b: b.seq)
        while waiting:
            batch = waiting[0]
            if self.finished or (self.last_ms is not None and batch.last_ts <= self.last_ms):
                out.append((batch_seq(batch.seq), self._alone(batch)))
            elif self._next(batch, waiting, previous_seq) or force:
                out.append((batch_seq(batch.seq), self._detect(batch)))
            else:
                break
            waiting.pop(0)
            self._cover(batch)
        reached = end_ms is not None and self.last_ms is not None and self.last_ms >= end_ms - END_SLACK_S * 1000
        if reached and not waiting and not self.finished:
            out.append((end_seq(self.done_seq), Detector(self.detector).finish()))
            self.finished = True
        self.held = len(waiting)
        return [(seq, rows) for seq, rows in out if len(rows)], waiting

    def _next(self, batch: RawBatch, waiting: list[RawBatch], previous_seq: int | None) -> bool:
        """Whether ``batch`` is the next to detect, or the wait for what lies before it is over."""
        if self.last_ms is None:  # the session's first, or one before it is still on its way
            first = batch.seq == (0 if previous_seq is None else previous_seq + 1)
            return first or max(b.last_ts for b in waiting) - min(b.first_ts for b in waiting) > HOLD_S * 1000
        if batch.seq == self.done_seq + 1:
            return True
        if batch.first_ts - self.last_ms <= CONTIGUOUS_PERIODS * 1000 / self.rate_hz:
            return True
        return max(b.last_ts for b in waiting) - self.last_ms > HOLD_S * 1000

    def _detect(self, batch: RawBatch) -> StepRows:
        rows = Detector(self.detector).feed(batch.first_ts, batch.rate_hz, batch.xyz_g, batch.offsets_ms)
        self.done_seq, self.last_ms, self.rate_hz = batch.seq, batch.last_ts, batch.rate_hz
        return rows

    def _alone(self, batch: RawBatch) -> StepRows:
        """A batch in a hole the stream left: detected on its own, with the stream's cadence and height."""
        s = self.detector
        alone = Detector(DetectorState(placement=s.placement, side=s.side, period_s=s.period_s, height_g=s.height_g))
        first = alone.feed(batch.first_ts, batch.rate_hz, batch.xyz_g, batch.offsets_ms)
        rest = alone.finish()
        return StepRows(*(np.concatenate((a, b)) for a, b in zip(first, rest, strict=True)))

    def _cover(self, batch: RawBatch) -> None:
        spans = sorted([*self.covered, [batch.first_ts, batch.last_ts]])
        gap = 1000.0 / batch.rate_hz * 1.5
        merged = [spans[0]]
        for lo, hi in spans[1:]:
            if lo - merged[-1][1] <= gap:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self.covered = merged
