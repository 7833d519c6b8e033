"""Per-team settings from ``teams.toml``: who is told, at what level, when, with which thresholds.

The file is validated once, at start-up; every mistake is reported with the file, the path of
the value and the problem (``teams.toml: teams.harriers.coaches[0].notify[1]: ...``), so a
typo in a coach's URL fails the start, not the first alert at 3 a.m.
``examples/teams.toml`` documents the format.

Secrets: notification URLs may say ``${SMTP_PASSWORD}``; the variable is expanded to check
the URL at load time, but the URL is kept *as written*: that is what the outbox stores and
what the deliverer expands again when it sends, so a secret kept in the environment never
reaches the database, a log line or a ``repr``. A ``repr`` shows only each URL's scheme and
host (`target_label`), so even secrets written literally in the file stay out of logs.

A team missing from the file is scored with ``[defaults]`` and notifies nobody (a warning is
logged once per team); without a file (`TeamsConfig.default`) every team is like that.

Broker accounts: a team lists its athletes' devices and a coach may have an ``mqtt_login``;
``stridewatch provision`` turns them into the broker's password and ACL files. Logins are
unique across the file, and ``stridewatch`` is the service's own.

Exceptions::

    TeamsConfigError (ValueError)   the file is missing, not TOML, or has invalid values;
                                    ``.file`` and ``.problems`` [(path, problem)] say where
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ingest.topics import is_id
from scoring.errors import ConfigError
from scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds, thresholds_from_mapping
from stridewatch.errors import StridewatchError
from stridewatch.notify.targets import check_notify_url, target_label

__all__ = [
    "LEVELS",
    "SERVICE_LOGIN",
    "Coach",
    "Device",
    "Level",
    "QuietHours",
    "TeamConfig",
    "TeamsConfig",
    "TeamsConfigError",
]

log = logging.getLogger("stridewatch.teams")

Level = Literal["low", "moderate", "high", "critical"]
LEVELS: tuple[Level, ...] = ("low", "moderate", "high", "critical")
SERVICE_LOGIN = "stridewatch"  # the service's broker account; no coach may take it
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # a TOML key that needs no quotes
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_QUIET_OFF = "off"
_UTC = ZoneInfo("UTC")


class TeamsConfigError(StridewatchError, ValueError):
    """``teams.toml`` cannot be used; ``problems`` lists every ``(path, problem)`` found."""

    def __init__(self, file: str, problems: Sequence[tuple[str, str]]) -> None:
        self.file = file
        self.problems = list(problems)
        super().__init__("\n".join(f"{file}: {path}: {problem}" if path else f"{file}: {problem}"
                                   for path, problem in self.problems))  # fmt: skip


# -- values -------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuietHours:
    """A daily window in the team's local time, ``22:00-07:00``; it may span midnight.

    >>> q = QuietHours.parse("22:00-07:00")
    >>> london = ZoneInfo("Europe/London")
    >>> at = lambda text: int(datetime.fromisoformat(text).replace(tzinfo=london).timestamp() * 1000)
    >>> q.release_at(at("2026-11-27 23:30"), london) == at("2026-11-28 07:00")
    True
    >>> q.release_at(at("2026-11-27 12:00"), london) is None
    True
    """

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        start, sep, end = text.partition("-")
        clocks = [_CLOCK.fullmatch(part.strip()) for part in (start, end)]
        if not sep or not all(clocks):
            raise ValueError(f"{text!r} is not HH:MM-HH:MM (24-hour local time, e.g. '22:00-07:00'), or 'off'")
        first, last = (time(int(m[1]), int(m[2])) for m in clocks if m)
        if first == last:
            raise ValueError(f"{text!r} starts and ends at the same time")
        return cls(first, last)

    def release_at(self, now_ms: int, timezone: ZoneInfo) -> int | None:
        """When the quiet period around ``now_ms`` ends (epoch ms), or None outside it."""
        local = datetime.fromtimestamp(now_ms / 1000, timezone)
        clock = local.time()
        if self.start < self.end:
            inside, end_day = self.start <= clock < self.end, local.date()
        else:
            inside = clock >= self.start or clock < self.end
            end_day = local.date() + timedelta(days=1) if clock >= self.start else local.date()
        if not inside:
            return None
        return int(datetime.combine(end_day, self.end, tzinfo=timezone).timestamp() * 1000)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _id_check(kind: str) -> AfterValidator:
    def check(value: str) -> str:
        if not is_id(value):
            raise ValueError(f"{kind} {value!r} must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
        return value

    return AfterValidator(check)


def _check_login(value: str) -> str:
    if value == SERVICE_LOGIN:
        raise ValueError(f"{SERVICE_LOGIN!r} is the stridewatch service's own broker login")
    return value


def _check_devices(value: dict[str, list[str]]) -> dict[str, list[str]]:
    owner: dict[str, str] = {}
    for athlete, devices in value.items():
        for device in devices:
            if device in owner:
                raise ValueError(
                    f"device {device!r} is listed for {owner[device]} and again for {athlete}: a device is one athlete's"
                )
            owner[device] = athlete
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: use an IANA name such as 'Europe/London' or 'UTC'") from None
    return value


def _check_quiet_hours(value: str) -> str:
    if value != _QUIET_OFF:
        QuietHours.parse(value)
    return value


def _check_thresholds(value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    try:
        thresholds_from_mapping(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    return value


_STRICT = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class _CoachSection(BaseModel):
    model_config = _STRICT
    name: Annotated[str, Field(min_length=1)]
    notify: Annotated[list[Annotated[str, AfterValidator(check_notify_url)]], Field(min_length=1)]
    mqtt_login: Annotated[str, _id_check("mqtt_login"), AfterValidator(_check_login)] | None = None
    admin: bool = False


class _DefaultsSection(BaseModel):
    model_config = _STRICT
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    notify_min_level: Level = "high"
    quiet_hours: Annotated[str, AfterValidator(_check_quiet_hours)] = _QUIET_OFF
    thresholds: Annotated[dict[str, dict[str, Any]], AfterValidator(_check_thresholds)] = {}


class _TeamSection(_DefaultsSection):
    name: Annotated[str, Field(min_length=1)] | None = None
    coaches: list[_CoachSection] = []
    devices: Annotated[
        dict[Annotated[str, _id_check("athlete id")], list[Annotated[str, _id_check("device id")]]],
        AfterValidator(_check_devices),
    ] = {}


class _File(BaseModel):
    model_config = _STRICT
    defaults: _DefaultsSection = _DefaultsSection()
    teams: dict[Annotated[str, _id_check("team id")], _TeamSection] = {}


def _known_here(loc: tuple[int | str, ...]) -> list[str]:
    """The settings allowed where an unknown one was found."""
    if len(loc) == 1:
        return sorted(_File.model_fields)
    if loc[0] == "defaults" and len(loc) == 2:
        return sorted(_DefaultsSection.model_fields)
    if loc[0] == "teams" and len(loc) == 3:
        return sorted(_TeamSection.model_fields)
    if loc[0] == "teams" and len(loc) == 5:
        return sorted(_CoachSection.model_fields)
    return []


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + (part if _BARE_KEY.fullmatch(part) else f'"{part}"')
    return out


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for error in exc.errors():
        loc = error["loc"]
        problem = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            known = _known_here(loc)
            problem = f"unknown setting (known here: {', '.join(known)})" if known else "unknown setting"
            if loc[0] == "defaults" and loc[-1] in ("name", "coaches"):
                problem = f"{loc[-1]} is set per team, not in [defaults]"
        problems.append((_path(loc), problem))
    return problems


# -- the settings the service reads -------------------------------------------------------
@dataclass(frozen=True)
class Coach:
    """A coach and where they are told; ``notify`` holds URLs as written (``${VARS}`` unexpanded).
    ``mqtt_login`` is their broker account (read their team's alerts) and dashboard sign-in, if
    they have one; ``admin`` lets them see every team on the dashboard (the broker is unchanged)."""

    name: str
    notify: tuple[str, ...]
    mqtt_login: str | None = None
    admin: bool = False

    def __repr__(self) -> str:  # URLs may hold secrets written in the file: show scheme and host only
        return (f"Coach(name={self.name!r}, notify={[target_label(u) for u in self.notify]}, "
                f"mqtt_login={self.mqtt_login!r}, admin={self.admin!r})")  # fmt: skip


@dataclass(frozen=True)
class Device:
    """A wearable of an athlete; it may publish only under its own topic."""

    athlete: str
    device: str


@dataclass(frozen=True, kw_only=True)
class TeamConfig:
    """One team's settings, ``[defaults]`` merged in. ``configured`` is False for a team the file
    does not list (scored with the defaults, nobody notified)."""

    team_id: str
    name: str
    timezone: ZoneInfo = _UTC
    notify_min_level: Level = "high"
    quiet_hours: QuietHours | None = None
    coaches: tuple[Coach, ...] = ()
    devices: tuple[Device, ...] = ()
    thresholds: Thresholds = field(default=DEFAULT_THRESHOLDS, repr=False)
    configured: bool = True

    @property
    def targets(self) -> tuple[str, ...]:
        """Every coach's notification URLs, each once, as written."""
        return tuple(dict.fromkeys(url for coach in self.coaches for url in coach.notify))

    def notifies(self, level: str) -> bool:
        """Whether an alert at ``level`` is sent to the coaches."""
        return bool(self.coaches) and LEVELS.index(level) >= LEVELS.index(self.notify_min_level)

    def hold_until(self, now_ms: int, level: str) -> int | None:
        """When a notification created at ``now_ms`` may go: the end of quiet hours, or None for now.
        Critical ones are never held."""
        if self.quiet_hours is None or level == "critical":
            return None
        return self.quiet_hours.release_at(now_ms, self.timezone)


class TeamsConfig:
    """Every team's settings; `load` a ``teams.toml`` or take the file-less `default`."""

    def __init__(self, teams: Mapping[str, TeamConfig], *, fallback: TeamConfig, source: str | None) -> None:
        self._teams = dict(teams)
        self._fallback = fallback
        self.source = source
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> TeamsConfig:
        """No file: every team accepted, default thresholds, UTC, nobody notified."""
        return cls({}, fallback=TeamConfig(team_id="-", name="-", configured=False), source=None)

    @classmethod
    def load(cls, path: str | Path) -> TeamsConfig:
        """Read and validate ``path``; raises `TeamsConfigError` listing every problem."""
        file = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise TeamsConfigError(file, [("", f"cannot read the file: {exc.strerror or exc}")]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise TeamsConfigError(file, [("", f"not valid TOML: {exc}")]) from None
        try:
            parsed = _File.model_validate(raw)
        except ValidationError as exc:
            raise TeamsConfigError(file, _problems(exc)) from None

        problems = _login_clashes(parsed)
        teams = {}
        for team_id, section in parsed.teams.items():
            try:
                teams[team_id] = _merge(team_id, parsed.defaults, section)
            except ConfigError as exc:  # each part was valid alone; together they are not
                problems.append((f"teams.{team_id}.thresholds", f"{exc} (with [defaults.thresholds] merged in)"))
        if problems:
            raise TeamsConfigError(file, problems)
        fallback = replace(_merge("-", parsed.defaults, _TeamSection()), configured=False)
        config = cls(teams, fallback=fallback, source=file)
        log.info(
            "teams loaded",
            extra={"file": file, "teams": len(teams), "targets": sum(len(t.targets) for t in teams.values())},
        )
        return config

    def team(self, team_id: str) -> TeamConfig:
        """The team's settings; an unlisted team gets ``[defaults]`` and no coaches."""
        found = self._teams.get(team_id)
        if found is not None:
            return found
        if self.source is not None:
            with self._lock:
                first = team_id not in self._warned
                self._warned.add(team_id)
            if first:
                log.warning(
                    "team not in the teams file: scored with [defaults], nobody notified",
                    extra={"team": team_id, "file": self.source},
                )
        return replace(self._fallback, team_id=team_id, name=team_id)

    @property
    def teams(self) -> Mapping[str, TeamConfig]:
        """The teams the file lists."""
        return dict(self._teams)

    def __iter__(self) -> Iterator[TeamConfig]:
        return iter(self._teams.values())

    def __repr__(self) -> str:
        return f"TeamsConfig(source={self.source!r}, teams={list(self._teams.values())!r})"


def _merge(team_id: str, defaults: _DefaultsSection, team: _TeamSection) -> TeamConfig:
    """The team's section over ``[defaults]``: a setting the team gives wins; thresholds merge per field."""

    def pick(name: str) -> Any:
        return getattr(team if name in team.model_fields_set else defaults, name)

    rules = defaults.thresholds.keys() | team.thresholds.keys()
    merged = {rule: {**defaults.thresholds.get(rule, {}), **team.thresholds.get(rule, {})} for rule in rules}
    quiet = pick("quiet_hours")
    return TeamConfig(
        team_id=team_id,
        name=team.name or team_id,
        timezone=ZoneInfo(pick("timezone")),
        notify_min_level=pick("notify_min_level"),
        quiet_hours=None if quiet == _QUIET_OFF else QuietHours.parse(quiet),
        coaches=tuple(Coach(c.name, tuple(c.notify), c.mqtt_login, c.admin) for c in team.coaches),
        devices=tuple(Device(athlete, device) for athlete, devices in team.devices.items() for device in devices),
        thresholds=thresholds_from_mapping(merged),
    )


def _login_clashes(parsed: _File) -> list[tuple[str, str]]:
    """A coach login used twice would give one person's access to the other."""
    first: dict[str, str] = {}
    problems = []
    for team_id, section in parsed.teams.items():
        for i, coach in enumerate(section.coaches):
            if coach.mqtt_login is None:
                continue
            path = _path(("teams", team_id, "coaches", i, "mqtt_login"))
            if coach.mqtt_login in first:
                problems.append((path, f"{coach.mqtt_login!r} is already the login of {first[coach.mqtt_login]}"))
            first.setdefault(coach.mqtt_login, path)
    return problems
