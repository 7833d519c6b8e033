"""Fleet mode: many athletes in many teams, drawn from the shipped scenarios, for load tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np

from simulators.scenario import Athlete, Profile, Report, Scenario, SessionSpec, load_scenario

# Mostly the quiet controls, as in a real club; a few of each story that should alert.
DEFAULT_MIX: Mapping[str, float] = {
    "steady_runner": 0.35, "daily_rope_500": 0.15, "doms_normal": 0.15, "worn_shoes": 0.1,
    "overtrained": 0.1, "restart_runner": 0.075, "jump_rope_spike": 0.075,
}  # fmt: skip


def fleet(
    athletes: int, *, teams: int = 1, days: int = 56, seed: int = 0, mix: Mapping[str, float] | None = None
) -> Scenario:
    """A scenario of ``athletes`` athletes over ``days`` days, dealt round-robin into ``teams`` teams.

    Each athlete copies an athlete of a scenario drawn from ``mix`` (scenario name ->
    weight), under a new id (``a-00042``, team ``team-03``), with a profile varied a little
    (cadence, pace, impact, asymmetry), a clock moved by up to an hour, and the story moved
    to end on the fleet's last day (its start cut off when longer than ``days``).
    """
    if athletes < 1 or teams < 1 or days < 1:
        raise ValueError("athletes, teams and days must be >= 1")
    mix = mix or DEFAULT_MIX
    names = sorted(mix)
    weights = np.array([mix[n] for n in names], dtype=float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("mix weights must be >= 0 and not all 0")
    templates = {name: load_scenario(name) for name in names}
    rng = np.random.default_rng([seed, 0xF1EE7])
    members = []
    for i in range(athletes):
        scenario = templates[names[rng.choice(len(names), p=weights / weights.sum())]]
        source = scenario.athletes[rng.integers(len(scenario.athletes))]
        members.append(
            _variant(
                source,
                athlete_id=f"a-{i:05d}",
                team=f"team-{i % teams:02d}",
                shift_days=days - scenario.length_days,
                clock_min=int(rng.integers(-60, 61)),
                rng=rng,
            )
        )
    return Scenario(
        name="fleet", title=f"{athletes} athletes in {teams} teams over {days} days", team="team-00", days=days,
        athletes=members,
    )  # fmt: skip


def _variant(
    source: Athlete, *, athlete_id: str, team: str, shift_days: int, clock_min: int, rng: np.random.Generator
) -> Athlete:
    p = source.profile
    profile = Profile.model_validate(
        p.model_dump()
        | {
            "cadence_spm": float(np.clip(p.cadence_spm * rng.uniform(0.96, 1.04), 140, 200)),
            "pace_min_per_km": float(np.clip(p.pace_min_per_km * rng.uniform(0.92, 1.08), 3, 10)),
            "rope_jpm": float(np.clip(p.rope_jpm * rng.uniform(0.94, 1.06), 80, 160)),
            "impact_scale": float(np.clip(p.impact_scale * rng.uniform(0.9, 1.1), 0.5, 2)),
            "asymmetry_pct": float(rng.uniform(1, 5)),
        }
    )

    def clock(at: str) -> str:
        moved = datetime.strptime(at, "%H:%M") + timedelta(minutes=clock_min)
        return at if moved.day != 1 else moved.strftime("%H:%M")  # keep sessions on their day

    sessions = []
    for s in source.sessions:
        first, last = s.span
        if last + shift_days < 0:
            continue
        moved = (
            {"day": s.day + shift_days}
            if s.day is not None
            else {"days": (max(0, first + shift_days), last + shift_days)}
        )
        sessions.append(SessionSpec.model_validate(s.model_dump(exclude_none=True) | moved | {"at": clock(s.at)}))
    reports = [
        Report.model_validate(r.model_dump(exclude_none=True) | {"day": r.day + shift_days, "at": clock(r.at)})
        for r in source.reports
        if r.day + shift_days >= 0
    ]
    return source.model_copy(
        update={"id": athlete_id, "team": team, "profile": profile, "sessions": sessions, "reports": reports}
    )
