"""The common in-memory activity every watch-file reader produces (FIT, TCX, GPX).

Readers keep what the file says and nothing more: cadence is converted to the contract's
steps per minute (watches record strides per minute, one foot: doubled), positions to
degrees, times to epoch milliseconds. Judging the data is `ingest.files.plausibility`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ingest.errors import IngestError

# The contract's activities that walking or running steps belong to.
StepActivity = Literal["run", "walk", "other"]

# Sport names as FIT, TCX and GPX files spell them, lower-cased.
_SPORTS: dict[str, StepActivity] = {
    "running": "run", "run": "run", "trail_running": "run", "treadmill": "run", "track": "run",
    "walking": "walk", "walk": "walk", "hiking": "walk",
    "generic": "other", "other": "other", "training": "other", "multisport": "other",
}  # fmt: skip


class FileError(IngestError, ValueError):
    """A file that cannot be read as an activity: the message names the file and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Point:
    ts: int  # ms since the Unix epoch, UTC
    lat: float | None = None  # degrees
    lon: float | None = None
    altitude_m: float | None = None
    distance_m: float | None = None  # the device's cumulative distance, when it records one
    cadence_spm: float | None = None  # steps per minute (both feet)
    heart_rate: float | None = None


@dataclass(frozen=True)
class Activity:
    """One recorded session of a file (a FIT file may hold several)."""

    path: Path
    index: int  # the session's number within its file
    fmt: Literal["fit", "tcx", "gpx"]
    sport: str  # as the file names it, for the report
    points: tuple[Point, ...]
    digest: str  # of the file's bytes: session ids derive from it
    file_duration_s: float | None = None  # the file's own totals, when it states them
    file_distance_m: float | None = None

    @property
    def activity(self) -> StepActivity | None:
        """The contract activity, or None for a sport without steps (cycling, rowing, swimming...)."""
        return _SPORTS.get(self.sport.lower().replace(" ", "_"))


def epoch_ms(when: datetime) -> int:
    """Epoch milliseconds; a time without a zone is taken as UTC (as FIT, TCX and GPX define it)."""
    return round((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)
