"""A validation cohort: hundreds of runners over months, as session summaries and pain reports.

``stridewatch validate`` needs a known truth: ``cohort`` simulates runners whose pain follows
``simulators.outcomes`` (longest-session spikes raise the hazard by Frandsen's ratios, ACWR
spikes do not), with each run summarised as ``scoring.session_features`` would summarise its
steps (``simulators.summary``), so months of a large squad take seconds.

The training is built so that the two kinds of spike are not confounded by construction:

- each runner trains on 3-5 fixed weekdays (so the ACWR gate, 28+ days at 3+ days a week,
  judges them), every run the runner's usual length +-8%;
- a longest-session spike is a single long run (``long_run_share`` of the planned runs,
  1.25-2.8x the usual length, in Frandsen's three bands) in an otherwise ordinary week;
- an ACWR spike is a week with ``extra_runs`` more runs of the usual length
  (``extra_week_share`` of the weeks): the week's load jumps, no run is longer than usual.

A long run adds to its week's load too, so it can tip the ACWR over its threshold now and
then; that small overlap is the only way the outcome model's effect can reach acwr_spike.
Training and outcomes draw from separate seeded streams: the same cohort with the outcome
model switched off (``OutcomeModel.without_effect``) trains identically.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import polars as pl

from ingest.message import Message
from ingest.payloads import SessionEvent, Surface, Wellness
from ingest.store import FEATURE_COLUMNS, PAIN_COLUMNS
from ingest.topics import device_topic
from simulators.athlete import SessionPlan
from simulators.messages import _json
from simulators.outcomes import DAY_MS, OutcomeModel
from simulators.routes import routes
from simulators.scenario import Device, Profile
from simulators.summary import summarise

SURFACES: tuple[Surface, ...] = ("asphalt", "grass", "track", "trail")
PHONE = "phone"
REPORT_AT = time(21, 0)  # pain is reported in the evening, after the day's run
# Long runs by multiple of the usual length, and their shares: against the longest of 30
# days (usual +-8%) they fall mostly in Frandsen's 10-30%, 30-100% and over-100% bands.
LONG_RUNS = (((1.25, 1.45), 0.4), ((1.5, 2.1), 0.4), ((2.3, 2.8), 0.2))


@dataclass(frozen=True, kw_only=True)
class CohortDesign:
    """How the cohort trains; see the module docstring."""

    days_per_week: tuple[int, int] = (3, 5)
    usual_m: tuple[float, float] = (4000.0, 10000.0)
    spread: float = 0.08
    long_run_share: float = 0.05
    extra_week_share: float = 0.12
    extra_runs: int = 2
    watch_share: float = 0.25  # cadence-only wrist watches; the rest wear a pod with impact


@dataclass(frozen=True)
class Cohort:
    """The cohort's runs (rows of the store's session features) and pain reports (team, athlete, report)."""

    features: pl.DataFrame
    reports: list[tuple[str, str, Wellness]] = field(repr=False)

    def wellness(self) -> pl.DataFrame:
        """One row per pain entry, as the store's ``pain`` returns them."""
        rows = [(t, a, w.ts, p.site, p.side, p.score, p.kind) for t, a, w in self.reports for p in w.pain]
        return pl.DataFrame(rows, schema=PAIN_COLUMNS, orient="row")

    def messages(self) -> list[Message]:
        """Each run's session start and end, and each report, as the contract's messages in time order."""
        runs = [m for row in self.features.iter_rows(named=True) for m in _session_messages(row)]
        reports = [Message(device_topic(t, a, PHONE, "wellness"), _json(w), w.ts) for t, a, w in self.reports]
        return sorted(runs + reports, key=lambda m: m.ts)


def _session_messages(row: dict[str, object]) -> Iterator[Message]:
    topic = device_topic(str(row["team"]), str(row["athlete"]), str(row["device"]), "session")
    opened = SessionEvent.model_validate(
        {"session_id": row["session_id"], "event": "start", "ts": row["start_ts"]}
        | {k: row[k] for k in ("activity", "surface", "shoe_id", "placement")}
    )
    closed = SessionEvent.model_validate(
        {"session_id": row["session_id"], "event": "end", "ts": row["end_ts"]}
        | {k: row[k] for k in ("duration_s", "distance_m")}
    )
    yield Message(topic, _json(opened), opened.ts)
    yield Message(topic, _json(closed), closed.ts)


def cohort(
    athletes: int = 200,
    *,
    days: int = 182,
    end: date,
    seed: int = 0,
    teams: int = 1,
    outcomes: OutcomeModel | None = None,
    design: CohortDesign | None = None,
) -> Cohort:
    """``athletes`` runners dealt round-robin into ``teams`` teams (``cohort-00``...), over the ``days`` days up to ``end``."""
    if athletes < 1 or days < 1 or teams < 1:
        raise ValueError("athletes, days and teams must be >= 1")
    outcomes = outcomes or OutcomeModel()
    design = design or CohortDesign()
    day0 = end - timedelta(days=days - 1)
    rows: list[dict[str, object]] = []
    reports: list[tuple[str, str, Wellness]] = []
    for i in range(athletes):
        team, athlete = f"cohort-{i % teams:02d}", f"r-{i:04d}"
        runs = _runs(design, day0, days, np.random.default_rng([seed, 0xC0407, i]))
        rows += [{"team": team, "athlete": athlete, **run} for run in runs]
        start = np.array([r["start_ts"] for r in runs], dtype=np.int64)
        day = (start - _ms(datetime.combine(day0, time(0), UTC))) // DAY_MS
        length = np.array([r["distance_m"] for r in runs], dtype=float)
        drawn = outcomes.reports(day, start, length, days=days, rng=np.random.default_rng([seed, 0x0C0E, i]))
        for d, pain in drawn:
            ts = _ms(datetime.combine(day0 + timedelta(days=d), REPORT_AT, UTC))
            reports.append((team, athlete, Wellness(ts=ts, pain=pain)))
    features = pl.DataFrame(rows, schema=FEATURE_COLUMNS, orient="row")
    return Cohort(features=features.sort("team", "athlete", "start_ts"), reports=reports)


def _runs(design: CohortDesign, day0: date, days: int, rng: np.random.Generator) -> list[dict[str, object]]:
    """One runner's runs over the days, each summarised, with device and session ids."""
    low, high = design.days_per_week
    weekdays = set(rng.choice(7, int(rng.integers(low, high + 1)), replace=False).tolist())
    rest = sorted(set(range(7)) - weekdays)
    usual = rng.uniform(*design.usual_m)
    clock = time(18, 0) if rng.random() < 0.4 else time(7, 0)
    if rng.random() < design.watch_share:
        device = Device(id="watch-1", placement="wrist", impact=False, barometer=False)
    else:
        device = Device(id="pod-1", placement=["shin", "foot", "sacrum"][rng.integers(3)])
    profile = Profile(
        cadence_spm=rng.uniform(160, 180), pace_min_per_km=rng.uniform(5.0, 7.0), impact_scale=rng.uniform(0.85, 1.15),
        asymmetry_pct=rng.uniform(1, 4), warmup_min=rng.uniform(3, 8), endurance_min=rng.uniform(80, 140),
    )  # fmt: skip
    first_weekday = day0.weekday()
    extra: dict[int, set[int]] = {}
    runs = []
    for d in range(days):
        week, weekday = divmod(first_weekday + d, 7)
        if week not in extra:
            extra_week = rng.random() < design.extra_week_share and rest
            chosen: list[int] | np.ndarray = (
                rng.choice(rest, min(design.extra_runs, len(rest)), replace=False) if extra_week else []
            )
            extra[week] = {int(x) for x in chosen}
        if weekday not in weekdays and weekday not in extra[week]:
            continue
        length = usual * rng.uniform(1 - design.spread, 1 + design.spread)
        if weekday in weekdays and rng.random() < design.long_run_share:
            (lo, hi), _ = LONG_RUNS[rng.choice(len(LONG_RUNS), p=[share for _, share in LONG_RUNS])]
            length = usual * rng.uniform(lo, hi)
        when = datetime.combine(day0 + timedelta(days=d), clock, UTC) + timedelta(minutes=float(rng.uniform(-20, 20)))
        plan = SessionPlan(
            session_id=f"s-{when:%Y%m%d-%H%M}", start_ms=_ms(when), activity="run", amount=length,
            surface=SURFACES[rng.integers(len(SURFACES))], route=routes()["flat"], warmup=True, intensity=1.0,
            shoe="cohort-shoe", seed=(),
        )  # fmt: skip
        runs.append({"device": device.id, "session_id": plan.session_id, **summarise(plan, profile, device)})
    return runs


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)
