"""LiveSession: longest_session, asymmetry and fatigue while a session streams."""

from typing import Any

import numpy as np
import polars as pl

from scoring.assess import History
from scoring.features import session_features
from scoring.live import MIN_STEPS_PER_FOOT, LiveSession
from scoring.severity import Severity
from scoring.state import AthleteState
from tests.unit.scoring.builders import day_ts, session, sessions, steps

SEED = [400, 400, 700, 500]


def history(counts: list[int], activity: str = "jump_rope", **step_args: Any) -> pl.DataFrame:
    stepped = pl.concat(
        [steps(n, start_ts=day_ts(2 * i), session_id=f"s{i}", **step_args) for i, n in enumerate(counts)]
    )
    lifecycle = sessions(
        [session(f"s{i}", start_ts=day_ts(2 * i), activity=activity, placement="foot") for i in range(len(counts))]
    )
    return session_features(stepped, lifecycle)


def live_for(past: pl.DataFrame, day: int, activity: str = "jump_rope") -> LiveSession:
    new = {
        "team": "t",
        "athlete": "a",
        "device": "d1",
        "session_id": "live",
        "activity": activity,
        "placement": "foot",
        "start_ts": day_ts(day),
    }
    return LiveSession(AthleteState.from_history(History(team="t", athlete="a", sessions=past)), new)


def first_flags(live: LiveSession, stream: pl.DataFrame, batch: int) -> dict[tuple[str, Severity], int]:
    first: dict[tuple[str, Severity], int] = {}
    for start in range(0, stream.height, batch):
        for reason in live.update(stream.slice(start, batch)):
            first.setdefault((reason.rule, reason.severity), live.steps)
    return first


def test_the_1500_jump_session_is_flagged_high_before_it_ends() -> None:
    live = live_for(history(SEED, feet="L"), 8)
    first = first_flags(live, steps(1500, start_ts=day_ts(8), session_id="live", feet="L"), batch=1)
    # Jumps past 1.1x and 2x the longest session of the 30 days before (the 700).
    assert first[("longest_session", Severity.MODERATE)] == int(1.1 * 700) + 1
    assert first[("longest_session", Severity.HIGH)] == int(2.0 * 700) + 1
    assert first[("longest_session", Severity.HIGH)] < 1500


def test_harder_landings_bring_a_runs_flag_forward() -> None:
    # A run without a distance so far is measured in impact-weighted steps.
    past = history([4000, 4000, 7000, 5000], activity="run", impact=5.0)
    rising = np.linspace(5.0, 6.0, 15000)  # landings get harder as form fades
    stream = steps(15000, start_ts=day_ts(8), session_id="live", impact=rising.tolist())
    first = first_flags(live_for(past, 8, activity="run"), stream, batch=20)
    load = np.cumsum(rising / 5.0)  # each step counts impact / baseline (5 g)
    expected = int(np.argmax(load > 2.0 * 7000)) + 1
    assert first[("longest_session", Severity.HIGH)] == -(-expected // 20) * 20  # the batch of 20 it falls in
    assert expected < 2 * 7000


def test_asymmetry_against_the_athletes_usual() -> None:
    past = history([600] * 4, impact=5.0)  # symmetric history
    live = live_for(past, 8)
    impact = np.where(np.arange(400) % 2 == 0, 8.0, 6.0)  # L 8 g, R 6 g: 28.6%
    first = first_flags(live, steps(400, start_ts=day_ts(8), session_id="live", impact=impact.tolist()), batch=10)
    assert first[("asymmetry", Severity.HIGH)] == 2 * MIN_STEPS_PER_FOOT


def test_wire_dicts_and_empty_batches() -> None:
    live = live_for(history(SEED, feet="L"), 8)
    assert live.update([]) == ()
    batch = [{"ts": day_ts(8) + 500 * i, "foot": "L", "impact_g": 5.0, "cadence_spm": 120.0} for i in range(10)]
    assert live.update(batch) == ()
    assert live.steps == 10
