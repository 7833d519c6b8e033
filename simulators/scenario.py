"""Scenario files: athletes, devices, sessions and pain reports as data a coach can write.

A scenario is one TOML file in ``simulators/scenarios/`` (or anywhere, by path). Days are
offsets from the scenario's first day; `generate` maps day 0 to a calendar date. A session
entry is either one session (``day = 8``) or a recurring block (``days = [0, 55]`` with
``every = 2`` or ``weekdays = ["mon", "thu"]``). Amounts and surfaces may vary: a
``[low, high]`` amount is drawn per session, a list of surfaces is taken in turn. See
``restart_runner.toml`` for a commented example.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from ingest.payloads import Foot, Id, Level, Pain, Placement, RuleId, Surface
from simulators.errors import ScenarioError
from simulators.routes import routes

Activity = Literal["run", "jump_rope"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="local time, HH:MM")]
Day = Annotated[int, Field(ge=0, le=3660)]
# A fixed amount, or a [low, high] range drawn uniformly for each session.
Amount = Annotated[float, Field(gt=0)] | tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]]


class _Spec(BaseModel):
    # forbid: a misspelt key ("warm_up") must be an error, not a silently ignored line.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Device(_Spec):
    """The sensor that streams the steps."""

    id: Id = "pod-1"
    placement: Placement = "shin"
    side: Foot = Field("L", description="the leg a foot or shin pod is worn on (its raw imu stream says so)")
    impact: bool = Field(True, description="false: a cadence-only device (most watches): no impact_g, no contact_ms")
    barometer: bool = Field(True, description="sends elevation_m")
    firmware: str = Field("2.4.1", max_length=64)

    @model_validator(mode="after")
    def _wrist_is_cadence_only(self) -> Self:
        if self.placement == "wrist" and self.impact:
            raise ValueError("a wrist device cannot measure foot-strike impact: set impact = false")
        return self


class Profile(_Spec):
    """How the athlete moves; every session of theirs varies around it."""

    cadence_spm: float = Field(165, ge=140, le=200, description="running cadence at easy pace, steps/min")
    pace_min_per_km: float = Field(6.0, ge=3.0, le=10.0, description="easy running pace")
    rope_jpm: float = Field(120, ge=80, le=160, description="jump-rope rate, jumps/min")
    rope_style: Literal["alternate", "two_feet"] = Field("alternate", description='two_feet jumps are all foot "L"')
    rope_set: int | None = Field(None, ge=20, description="jumps per set, each followed by a rest; none: non-stop")
    rope_rest_s: float = Field(30, ge=0, le=600)
    impact_scale: float = Field(1.0, ge=0.5, le=2.0, description="x the placement's typical impact")
    asymmetry_pct: float = Field(3.0, ge=0, le=15, description="usual left/right impact difference (symmetry index)")
    warms_up: bool = Field(True, description="easy first minutes; a session's `warmup` overrides it")
    warmup_min: float = Field(5.0, ge=0.5, le=20)
    endurance_min: float = Field(60, ge=3, le=300, description="minutes of work before fatigue sets in")


class SessionSpec(_Spec):
    """One session (``day``) or a recurring block of them (``days`` with ``every``/``weekdays``)."""

    day: Day | None = None
    days: tuple[Day, Day] | None = Field(None, description="first and last day, inclusive")
    every: int = Field(1, ge=1, le=28, description="every n-th day of the block")
    weekdays: list[Weekday] | None = Field(None, min_length=1, description="only on these weekdays")
    at: ClockTime = "07:00"
    activity: Activity = "run"
    distance_m: Amount | None = Field(None, description="runs: distance")
    jumps: Amount | None = Field(None, description="jump rope: number of jumps")
    surface: Surface | list[Surface] | None = Field(None, description="a list is taken in turn, session by session")
    route: str = "flat"
    warmup: bool | None = Field(None, description="none: the athlete's habit (profile.warms_up)")
    shoe: Id | None = Field(None, description="none: the athlete's shoe")
    intensity: float = Field(1.0, ge=0.7, le=1.4, description="pace relative to easy: 1.2 is a tempo session")

    @field_validator("distance_m", "jumps")
    @classmethod
    def _ordered_range(cls, amount: float | tuple[float, float] | None) -> float | tuple[float, float] | None:
        if isinstance(amount, tuple) and amount[0] > amount[1]:
            raise ValueError("a range is [low, high]")
        return amount

    @field_validator("route")
    @classmethod
    def _known_route(cls, route: str) -> str:
        if route not in routes():
            raise ValueError(f"unknown route {route!r}; routes.toml has {', '.join(sorted(routes()))}")
        return route

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.day is None) == (self.days is None):
            raise ValueError("give either day = N (one session) or days = [first, last] (a block)")
        if self.days is not None and self.days[0] > self.days[1]:
            raise ValueError("days is [first, last]")
        if self.day is not None and (self.weekdays is not None or self.every != 1):
            raise ValueError("every and weekdays belong to a block (days = [first, last]), not to one day")
        wanted, other = ("distance_m", "jumps") if self.activity == "run" else ("jumps", "distance_m")
        if getattr(self, wanted) is None or getattr(self, other) is not None:
            raise ValueError(f"a {self.activity} session needs {wanted} (and no {other})")
        return self

    @property
    def span(self) -> tuple[int, int]:
        """First and last day of the entry."""
        if self.days is not None:
            return self.days
        assert self.day is not None  # the validator allows one or the other
        return self.day, self.day

    def session_days(self, weekday_of_day0: int) -> list[int]:
        """The days this entry trains on, given the weekday (0 = Monday) of day 0."""
        first, last = self.span
        chosen = range(first, last + 1, self.every)
        if self.weekdays is None:
            return list(chosen)
        wanted = {WEEKDAYS.index(w) for w in self.weekdays}
        return [d for d in chosen if (weekday_of_day0 + d) % 7 in wanted]


class Report(_Spec):
    """A wellness self-report from the athlete's phone; an empty ``pain`` list means nothing hurts."""

    day: Day
    at: ClockTime = "20:00"
    pain: list[Pain] = Field(default_factory=list, max_length=20)
    note: str | None = Field(None, max_length=2000)


class Athlete(_Spec):
    id: Id
    team: Id | None = Field(None, description="none: the scenario's team")
    device: Device = Device()
    phone: Id = Field("phone", description="the device id the wellness app publishes under")
    shoe: Id | None = None
    profile: Profile = Profile()
    sessions: list[SessionSpec] = Field(default_factory=list)
    reports: list[Report] = Field(default_factory=list)

    @model_validator(mode="after")
    def _phone_is_not_the_pod(self) -> Self:
        if self.phone == self.device.id:
            raise ValueError("phone and device.id must differ: they are two devices on two topics")
        return self


class Expect(_Spec):
    """What RULES.md's scenario table expects of the scoring; read by end-to-end tests."""

    min_level: Level | None = None
    max_level: Level | None = None
    rules: list[RuleId] = Field(default_factory=list, description="reasons that must be raised")
    quiet: list[RuleId] = Field(default_factory=list, description="reasons that must not be raised")
    note: str | None = None


class Scenario(_Spec):
    name: Id
    title: str
    description: str = ""
    team: Id
    timezone: str = Field("UTC", description="IANA zone of the athletes' local times")
    days: int | None = Field(None, ge=1, le=3660, description="length; default: through the last session or report")
    athletes: list[Athlete] = Field(min_length=1)
    expect: Expect | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (use an IANA name such as Europe/Kyiv)") from None
        return zone

    @model_validator(mode="after")
    def _unique_athletes(self) -> Self:
        keys = [(a.team or self.team, a.id) for a in self.athletes]
        if len(set(keys)) != len(keys):
            raise ValueError("two athletes share a team and id")
        return self

    @property
    def length_days(self) -> int:
        """Days from day 0 through the last session or report (at least ``days``)."""
        last = [r.day for a in self.athletes for r in a.reports]
        last += [s.span[1] for a in self.athletes for s in a.sessions]
        return max(self.days or 1, max(last, default=0) + 1)


def list_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``simulators/scenarios/``."""
    folder = resources.files("simulators").joinpath("scenarios")
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (``"restart_runner"``) or a scenario file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        return parse_scenario(path.read_text(encoding="utf-8"), source=str(path))
    shipped = resources.files("simulators").joinpath("scenarios", f"{name_or_path}.toml")
    if not shipped.is_file():
        raise ScenarioError(f"unknown scenario {str(name_or_path)!r}; known: {', '.join(list_scenarios())}")
    return parse_scenario(shipped.read_text(encoding="utf-8"), source=f"{name_or_path}.toml")


def parse_scenario(text: str, *, source: str = "<scenario>") -> Scenario:
    """Validate TOML text as a scenario, or raise `ScenarioError` naming every bad field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            found.setdefault(_where(error["loc"]), _why(error))
        # A union reports every branch; the one that got deeper is what the author meant.
        problems = [f"  {where}: {why}" for where, why in found.items() if not _has_deeper(where, found)]
        raise ScenarioError(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems)) from None


def _has_deeper(where: str, found: dict[str, str]) -> bool:
    return any(other.startswith((where + "[", where + ".")) for other in found)


def _where(loc: tuple[int | str, ...]) -> str:
    # Union branch tags ("constrained-float", "list[literal[...]]", "float") are noise to a coach.
    parts = [p for p in loc if isinstance(p, int) or not ("[" in p or "-" in p or p in ("float", "int", "str"))]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(file)"


def _why(err: ErrorDetails) -> str:
    message = err["msg"].removeprefix("Value error, ")
    return message if err["type"] in ("missing", "value_error") else f"{message} (got {err.get('input')!r})"
