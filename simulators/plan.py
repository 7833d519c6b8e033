"""From a scenario to concrete, timed sessions and reports for each athlete (no steps yet)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from ingest.payloads import Wellness
from simulators.athlete import SessionPlan, pain_favour
from simulators.errors import ScenarioError
from simulators.routes import routes
from simulators.scenario import Athlete, Scenario

START_JITTER_S = 600  # people start within about ten minutes of their usual time


@dataclass(frozen=True, kw_only=True)
class AthletePlan:
    team: str
    athlete: Athlete
    sessions: list[SessionPlan]  # in time order, never overlapping
    batteries: list[int]  # the pod's battery at each session's start, %
    reports: list[Wellness]  # in time order


def plan_scenario(scenario: Scenario, *, start: date, seed: int) -> list[AthletePlan]:
    """Every athlete's sessions and reports, with day 0 on ``start`` (local calendar day)."""
    zone = ZoneInfo(scenario.timezone)
    return [_plan_athlete(scenario, athlete, start, zone, seed) for athlete in scenario.athletes]


def _plan_athlete(scenario: Scenario, athlete: Athlete, start: date, zone: ZoneInfo, seed: int) -> AthletePlan:
    team = athlete.team or scenario.team
    key = zlib.crc32(f"{team}/{athlete.id}".encode())  # stable: adding athletes changes no one else
    rng = np.random.default_rng([seed, key, 0])

    def local(day: int, at: str, jitter_s: float = 0.0) -> datetime:
        clock = time.fromisoformat(at)
        return datetime.combine(start + timedelta(days=day), clock, zone) + timedelta(seconds=jitter_s)

    reports = sorted(
        (Wellness(ts=_ms(local(r.day, r.at)), pain=r.pain, note=r.note) for r in athlete.reports), key=lambda w: w.ts
    )
    entries = []
    for spec in athlete.sessions:
        surfaces = spec.surface if isinstance(spec.surface, list) else [spec.surface]
        for k, day in enumerate(spec.session_days(start.weekday())):
            amount = spec.distance_m if spec.activity == "run" else spec.jumps
            assert amount is not None  # SessionSpec guarantees it
            drawn = rng.uniform(*amount) if isinstance(amount, tuple) else amount
            when = local(day, spec.at, rng.uniform(-START_JITTER_S, START_JITTER_S))
            entries.append((when, day, spec, surfaces[k % len(surfaces)], float(drawn)))
    entries.sort(key=lambda e: e[0])

    sessions: list[SessionPlan] = []
    batteries: list[int] = []
    battery = 100.0
    busy_until = None
    for index, (when, day, spec, surface, amount) in enumerate(entries):
        minutes = _minutes_at_most(athlete, spec.activity, amount)
        if busy_until is not None and when < busy_until:
            raise ScenarioError(
                f"{scenario.name}: athlete {athlete.id}: the session on day {day} at {when:%H:%M} starts "
                "before the previous one has surely ended; move it later"
            )
        busy_until = when + timedelta(minutes=minutes)
        battery = 100.0 if battery < 20 else battery  # charged overnight when low
        batteries.append(round(battery))
        battery = drained(battery, minutes)
        start_ms = _ms(when)
        last_report = [w for w in reports if w.ts < start_ms][-1:]
        sessions.append(
            SessionPlan(
                session_id=f"s-{when:%Y%m%d-%H%M}",
                start_ms=start_ms,
                activity=spec.activity,
                amount=amount,
                surface=surface,
                route=routes()[spec.route],
                warmup=athlete.profile.warms_up if spec.warmup is None else spec.warmup,
                intensity=spec.intensity,
                shoe=spec.shoe or athlete.shoe,
                favour=pain_favour(last_report[0].pain if last_report else []),
                seed=(seed, key, index + 1),
            )
        )
    return AthletePlan(team=team, athlete=athlete, sessions=sessions, batteries=batteries, reports=reports)


def drained(battery_pct: float, minutes: float) -> float:
    """A pod's battery after a session: 1% to wake and sync, 1% per 10 minutes recording."""
    return battery_pct - 1 - 0.1 * minutes


def _minutes_at_most(athlete: Athlete, activity: str, amount: float) -> float:
    """A generous bound on a session's length, to catch sessions planned on top of each other."""
    profile = athlete.profile
    if activity == "run":
        return amount / 1000 * profile.pace_min_per_km * 1.6 + 2
    sets = amount // profile.rope_set if profile.rope_set else 0
    return amount / profile.rope_jpm * 1.4 + sets * profile.rope_rest_s * 1.3 / 60 + 2


def _ms(moment: datetime) -> int:
    return round(moment.astimezone(UTC).timestamp() * 1000)
