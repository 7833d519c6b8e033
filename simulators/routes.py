"""Route profiles (``routes.toml``): elevation along a closed loop, for descents and climbs."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simulators.errors import ScenarioError


class _RouteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    start_elevation_m: float = Field(100.0, ge=-400, le=8000)
    segments: list[tuple[float, float]] = Field(min_length=1)

    @field_validator("segments")
    @classmethod
    def _closed_loop(cls, segments: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if any(length <= 0 for length, _ in segments):
            raise ValueError("every segment needs a length > 0 m")
        if any(abs(climb) > 0.3 * length for length, climb in segments):
            raise ValueError("a segment is steeper than 30%: not a running route")
        if abs(sum(climb for _, climb in segments)) > 0.01:
            raise ValueError("the climbs must sum to 0 m: a route is a loop that ends where it starts")
        return segments


@dataclass(frozen=True, eq=False)
class Route:
    """A loop's elevation profile, evaluated anywhere along any number of laps."""

    name: str
    description: str
    distance_m: np.ndarray  # cumulative distance at each segment boundary, from 0 to the loop length
    elevation_m: np.ndarray  # elevation at those boundaries

    @property
    def length_m(self) -> float:
        return float(self.distance_m[-1])

    def elevation_at(self, position_m: np.ndarray) -> np.ndarray:
        elevation: np.ndarray = np.interp(np.mod(position_m, self.length_m), self.distance_m, self.elevation_m)
        return elevation

    def grade_at(self, position_m: np.ndarray) -> np.ndarray:
        """Rise over run (-0.09 on a 9% descent) of the segment under each position."""
        grades = np.diff(self.elevation_m) / np.diff(self.distance_m)
        segment = np.searchsorted(self.distance_m, np.mod(position_m, self.length_m), side="right") - 1
        grade: np.ndarray = grades[np.clip(segment, 0, len(grades) - 1)]
        return grade


@cache
def routes() -> Mapping[str, Route]:
    """The routes in ``simulators/routes.toml``, by name."""
    text = resources.files("simulators").joinpath("routes.toml").read_text(encoding="utf-8")
    out: dict[str, Route] = {}
    for name, raw in tomllib.loads(text).items():
        try:
            spec = _RouteSpec.model_validate(raw)
        except ValidationError as exc:
            raise ScenarioError(f"routes.toml [{name}]: {exc.errors(include_url=False)[0]['msg']}") from None
        lengths, climbs = np.array(spec.segments, dtype=float).T
        out[name] = Route(
            name=name,
            description=spec.description,
            distance_m=np.concatenate([[0.0], np.cumsum(lengths)]),
            elevation_m=spec.start_elevation_m + np.concatenate([[0.0], np.cumsum(climbs)]),
        )
    return out
