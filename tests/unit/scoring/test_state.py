"""The incremental athlete state equals the batch timeline at every event (hypothesis).

Histories are drawn with what makes folding hard: gaps (breaks past 14 and 30 days), late
and out-of-order events, the same event twice, a session sent again with new features (late
steps), time zones with daylight-saving changes, sessions either side of midnight, and
values at the rules' thresholds (whole step counts, so that ratios land on them exactly).
After every event the state's assessment must be ``score_athlete``'s on the same history:
the same level, score, reasons, severities and messages, and values to 1e-9.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.assess import Assessment, History, score_athlete
from scoring.schemas import DAY_MS, SESSION_FEATURES_SCHEMA, WELLNESS_SCHEMA
from scoring.state import REORDER_DAYS, AthleteState, TooLate
from scoring.thresholds import thresholds_from_mapping

HOUR = 3_600_000
# 2026-03-20: the weeks after it hold Europe's and North America's spring changes (2026-03-29, -03-08
# is before it) and New Zealand's autumn one (2026-04-05).
T0 = 1_773_964_800_000
ZONES = ["UTC", "Europe/London", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"]
# Step counts at and either side of the thresholds: 700 x 1.1 = 770, x 2 = 1400; 1000 x 1.15; the
# 300-step floor; a week of 2,000; a day of 600 (no_rest).
STEPS = [0, 299, 300, 599, 600, 700, 770, 771, 1000, 1150, 1151, 1300, 1400, 1401, 1500, 2000, 3000, 4400]
METRES = [None, None, 3000.0, 3300.0, 3301.0, 5000.0, 6000.0, 6001.0]


@st.composite
def session(draw: st.DrawFn, index: int, day: int, hour: float) -> dict[str, Any]:
    start = T0 + day * DAY_MS + int(hour * HOUR)
    steps = draw(st.sampled_from(STEPS))
    impact = draw(st.booleans())
    median = draw(st.sampled_from([4.0, 5.0, 6.0, 7.5])) if impact else None
    duration = draw(st.sampled_from([None, 600.0, 1200.0, 1800.0, 2700.0, 2701.0, 4050.0, 4051.0]))
    left = draw(st.sampled_from([None, 5.0, 5.5, 6.0, 8.0])) if impact else None
    row: dict[str, Any] = dict.fromkeys(SESSION_FEATURES_SCHEMA.names())
    row.update(
        team="t",
        athlete="a",
        device=draw(st.sampled_from(["d1", "d2"])),
        session_id=f"s{index}",
        activity=draw(st.sampled_from(["run", "run", "jump_rope", "walk", "other"])),
        surface=draw(st.sampled_from([None, None, "asphalt", "grass", "track", "tiles"])),
        shoe_id=draw(st.sampled_from([None, "x", "y"])),
        placement=draw(st.sampled_from(["shin", "foot", None])),
        start_ts=draw(st.sampled_from([start, start, None])),
        end_ts=start + int((duration or 900.0) * 1000),
        duration_s=duration,
        distance_m=draw(st.sampled_from(METRES)),
        rpe=draw(st.sampled_from([None, None, 0.0, 3.0, 7.5])),  # with no steps: an sRPE athlete (load.session_loads)
        n_steps=steps,
        n_impact=steps if impact else 0,
        impact_median=median,
        impact_weighted_sum=steps * median * draw(st.sampled_from([1.0, 1.25])) if median else 0.0,
        plain_weighted_steps=0.0 if impact else float(steps) * draw(st.sampled_from([1.0, 1.0, 1.5])),
        descent_steps=draw(st.sampled_from([0, steps // 5, steps // 5 + 1, steps // 3])),
        warmup_ratio=draw(st.sampled_from([None, 0.8, 0.9, 0.95])),
        fatigue_cadence_change=draw(st.sampled_from([None, -0.06, -0.05, -0.049, 0.0])),
        fatigue_impact_change=draw(st.sampled_from([None, 0.099, 0.1, 0.12])) if impact else None,
        impact_mean_L=left,
        impact_mean_R=draw(st.sampled_from([None, 5.0, 5.5])) if left is not None else None,
        first_ts=start,
        last_ts=start + int((duration or 900.0) * 1000),
    )
    return row


def report(day: int, hour: float, site: str, side: str, score: int, kind: str) -> dict[str, Any]:
    ts = T0 + day * DAY_MS + int(hour * HOUR)
    return {"team": "t", "athlete": "a", "ts": ts, "site": site, "side": side, "score": score, "kind": kind}


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list[tuple[str, int, Any]]]:
    """A time zone and events in the order they arrive: ("session", end, row), ("pain", ts, rows),
    or ("time", ts, None) for time passing with nothing sent.

    Built from stretches that reach the rules' edges: runs of sessions (daily, or a few days
    apart, at one hour so that windows of 28 or 30 days end exactly on a session), breaks
    of about 14 and 30 days, and pain episodes at one site a few days apart (the 3-day gap
    and 5-day span of pain_persistent)."""
    events: list[tuple[str, int, Any]] = []
    day, index = 0, 0
    hour = draw(st.sampled_from([0.2, 7.0, 18.5, 23.9]))  # most sessions at one hour: windows end on them
    for _ in range(draw(st.integers(1, 6))):
        stretch = draw(st.sampled_from(["sessions", "sessions", "break", "pain", "time"]))
        if stretch == "sessions":
            for _ in range(draw(st.integers(1, 9))):
                day += draw(st.sampled_from([0, 1, 1, 2, 3]))
                row = draw(session(index, day, draw(st.sampled_from([hour, hour, hour, 12.0]))))
                index += 1
                events.append(("session", row["end_ts"], row))
        elif stretch == "break":
            day += draw(st.sampled_from([13, 14, 15, 27, 28, 29, 30, 31]))
        elif stretch == "pain":
            site, side = draw(st.sampled_from(["calf", "knee"])), draw(st.sampled_from(["L", "R", "both"]))
            for _ in range(draw(st.integers(1, 8))):
                day += draw(st.sampled_from([0, 1, 2, 3, 4]))
                entries = [report(day, draw(st.sampled_from([0.1, 8.0, 20.0, 23.95])), site,
                                  draw(st.sampled_from([side, side, "L"])), draw(st.sampled_from([0, 2, 3, 4, 6, 7, 9])),
                                  draw(st.sampled_from(["ache", "soreness", "sharp"])))]  # fmt: skip
                events.append(("pain", entries[0]["ts"], entries))
        else:
            day += draw(st.sampled_from([0, 1, 6, 7, 8]))
            events.append(("time", T0 + day * DAY_MS + int(draw(st.sampled_from([1.0, 23.99])) * HOUR), None))
    events.sort(key=lambda e: e[1])
    for _ in range(draw(st.integers(0, 3))):  # late arrivals: an event moved after later ones
        if len(events) > 2:
            k = draw(st.integers(0, len(events) - 2))
            events.insert(draw(st.integers(k + 1, len(events) - 1)), events.pop(k))
    if events and draw(st.booleans()):  # the same message twice, or a session sent again with new steps
        kind, ts, payload = events[draw(st.integers(0, len(events) - 1))]
        if kind == "session" and draw(st.booleans()):
            payload = {
                **payload,
                "n_steps": payload["n_steps"] + 100,
                "plain_weighted_steps": payload["plain_weighted_steps"] + 100,
            }
        events.append((kind, ts, payload))
    return draw(st.sampled_from(ZONES)), events


def comparable(assessment: Assessment) -> tuple[Any, ...]:
    return assessment.level, assessment.score, [(r.rule, r.severity, r.message, r.advice) for r in assessment.reasons]


def assert_same(got: Assessment, want: Assessment) -> None:
    assert comparable(got) == comparable(want)
    for mine, theirs in zip(got.reasons, want.reasons, strict=True):
        assert math.isclose(mine.value, theirs.value, rel_tol=1e-9, abs_tol=1e-12), (mine, theirs)
        assert math.isclose(mine.threshold, theirs.threshold, rel_tol=1e-9, abs_tol=1e-12), (mine, theirs)


def replay(
    zone: str, events: list[tuple[str, int, Any]], *, restarts: bool = False, **thresholds: dict[str, Any]
) -> int:
    """Fold ``events`` one by one, checking each step against the timeline; how many came too late
    to fold in place (the state is rebuilt from the history then, as the service does). With
    ``restarts`` the state goes through a checkpoint and back after every event."""
    config = thresholds_from_mapping(thresholds)
    state = AthleteState(team="t", athlete="a", thresholds=config, tz=zone)
    sessions: dict[tuple[str, str], dict[str, Any]] = {}
    reports: list[dict[str, Any]] = []
    at, too_late = 0, 0
    for kind, ts, payload in events:
        at = max(at, ts)  # the service never moves an athlete back in time
        if kind == "session":
            sessions[(payload["device"], payload["session_id"])] = payload
        elif kind == "pain":
            reports += [r for r in payload if r not in reports]
        history = History(
            team="t",
            athlete="a",
            sessions=pl.DataFrame(list(sessions.values()), schema=SESSION_FEATURES_SCHEMA),
            wellness=pl.DataFrame(reports, schema=WELLNESS_SCHEMA),
        )
        try:
            if kind == "session":
                state.add_session(payload)
            elif kind == "pain":
                state.add_pain(payload)
        except TooLate:
            too_late += 1
            state = AthleteState.from_history(history, thresholds=config, tz=zone)
        assert_same(state.assess(at=at), score_athlete(history, at=at, thresholds=config, tz=zone))
        if restarts:
            restored = AthleteState.restore(state.checkpoint(), thresholds=config, tz=zone)
            assert restored is not None
            state = restored
    return too_late


EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(history=histories())
def test_the_fold_equals_the_timeline_at_every_event(history: tuple[str, list[tuple[str, int, Any]]]) -> None:
    replay(*history)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_a_checkpoint_after_every_event_changes_nothing(history: tuple[str, list[tuple[str, int, Any]]]) -> None:
    replay(*history, restarts=True)


def test_a_checkpoint_is_not_reused_under_other_settings() -> None:
    state = AthleteState(team="t", athlete="a", tz="UTC")
    state.add_session(plain(0, 0, 1000))
    state.assess(at=T0 + DAY_MS)
    saved = state.checkpoint()
    assert AthleteState.restore(saved, tz="UTC") is not None
    assert AthleteState.restore(saved, tz="Europe/London") is None
    assert AthleteState.restore(saved, thresholds=thresholds_from_mapping({"longest_session": {"high": 2.5}})) is None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_with_every_rule_on_and_the_old_grading(history: tuple[str, list[tuple[str, int, Any]]]) -> None:
    # session_spike on, the load ratios high again: the paths a team's config can take.
    replay(
        *history,
        session_spike={"enabled": True},
        acwr_spike={"high": 1.5, "min_history_days": 21, "min_days_per_week": 0.0},
        weekly_ramp={"high": 1.3, "min_history_days": 14, "min_days_per_week": 0.0, "min_week_load": 500.0},
    )


@pytest.mark.parametrize(("seed", "daily"), [(0, 0.7), (1, 0.9), (2, 0.97)])
def test_a_long_daily_history(seed: int, daily: float) -> None:
    # A year of sessions on most days (the most regular athletes become used to daily training:
    # no_rest leaves them be), with pain and a break: the windows of 28, 90 and 203 days all fill.
    import random

    rng = random.Random(seed)
    events = []
    for day in range(400):
        if rng.random() < daily and not 150 <= day < 170:
            steps = rng.choice(STEPS[4:])
            start = T0 + day * DAY_MS + 7 * HOUR
            row = dict.fromkeys(SESSION_FEATURES_SCHEMA.names()) | {
                "team": "t", "athlete": "a", "device": "d1", "session_id": f"s{day}", "activity": "run",
                "start_ts": start, "end_ts": start + 1_800_000, "duration_s": 1800.0, "n_steps": steps,
                "n_impact": 0, "impact_weighted_sum": 0.0, "plain_weighted_steps": float(steps), "descent_steps": 0,
                "shoe_id": "x", "surface": rng.choice(["asphalt", "grass"]), "first_ts": start, "last_ts": start + 1_800_000,
            }  # fmt: skip
            events.append(("session", row["end_ts"], row))
        if rng.random() < 0.05:
            ts = T0 + day * DAY_MS + 20 * HOUR
            events.append(("pain", ts, [{"team": "t", "athlete": "a", "ts": ts, "site": "calf", "side": "L",
                                         "score": rng.choice([3, 4, 8]), "kind": "ache"}]))  # fmt: skip
    # Checking every event of a year against the batch path takes minutes: every 7th here.
    zone = "Europe/London"
    state = AthleteState(team="t", athlete="a", tz=zone)
    sessions: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    for k, (kind, ts, payload) in enumerate(events):
        if kind == "session":
            state.add_session(payload)
            sessions.append(payload)
        else:
            state.add_pain(payload)
            reports += payload
        if k % 7:
            continue
        history = History(
            team="t",
            athlete="a",
            sessions=pl.DataFrame(sessions, schema=SESSION_FEATURES_SCHEMA),
            wellness=pl.DataFrame(reports, schema=WELLNESS_SCHEMA),
        )
        assert_same(state.assess(at=ts), score_athlete(history, at=ts, tz=zone))


def plain(index: int, day: int, steps: int, **columns: Any) -> dict[str, Any]:
    """A session at 07:00 on ``day`` with every feature a window reads."""
    start = T0 + day * DAY_MS + 7 * HOUR
    row: dict[str, Any] = dict.fromkeys(SESSION_FEATURES_SCHEMA.names())
    row.update(
        team="t", athlete="a", device="d1", session_id=f"s{index}", activity="run", placement="shin",
        start_ts=start, end_ts=start + 1_800_000, duration_s=1800.0, distance_m=steps * 1.0, n_steps=steps,
        n_impact=steps, impact_median=5.0, impact_weighted_sum=steps * 5.0, plain_weighted_steps=0.0,
        descent_steps=0, impact_mean_L=5.0, impact_mean_R=5.2, first_ts=start, last_ts=start + 1_800_000,
        surface="grass", shoe_id="x",
    )  # fmt: skip
    row.update(columns)
    return row


# Each window's edge: the gap between the first sessions and the last one, in whole days.
EDGES = sorted({d + k for d in (7, 14, 21, 28, 30, 90) for k in (-1, 0, 1)})


@pytest.mark.parametrize("gap", EDGES)
def test_every_window_edge(gap: int) -> None:
    # Three sessions with what each window reads (impact, surface, duration, symmetry), then one
    # ``gap`` days after the first that is longer, harder, on undeclared ground and lopsided.
    # The first session is the longest and the hardest, so which window still holds it shows.
    first = [plain(0, 0, 2000, impact_median=5.5, impact_weighted_sum=2000 * 5.5, duration_s=2400.0),
             plain(1, 1, 1000, impact_mean_L=6.0), plain(2, 2, 1000)]  # fmt: skip
    last = plain(3, gap, 3000, impact_median=6.5, impact_weighted_sum=3000 * 6.5, surface=None,
                 duration_s=4000.0, impact_mean_L=8.0)  # fmt: skip
    events = [("session", row["end_ts"], row) for row in [*first, last]]
    events.append(("time", last["end_ts"] + DAY_MS, None))
    replay("UTC", events)


def test_an_event_past_the_reorder_window_is_refused_and_the_history_rebuilds_it() -> None:
    rows = [plain(k, 2 * k, 1000 + 10 * k) for k in range(40)]  # the last on day 78
    late = plain(99, 78 - REORDER_DAYS - 1, 3000)  # a session sent weeks after it ended
    in_time = plain(98, 78 - REORDER_DAYS, 3000)
    events = [("session", row["end_ts"], row) for row in rows]
    assert replay("UTC", [*events, ("session", late["end_ts"], late)]) == 1
    assert replay("UTC", [*events, ("session", in_time["end_ts"], in_time)]) == 0
