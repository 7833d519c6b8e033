"""Does a rule warn before pain? Every rule's raises measured against the team's own pain reports.

Pure: a daily ``timeline`` (every rule's ``{rule}__severity`` column), the judged sessions
and the pain reports in; one row per rule and severity out. The only randomness is the
seeded ``numpy.random.Generator`` passed in, for the chance baseline.

Definitions, with ``horizon`` H (14 days by default):

- A *qualifying report*: a pain entry of score >= 4, or of kind sharp (``Outcome``).
- A *raise* of a rule at severity s: a day on which its severity reaches >= s and the day
  before it was < s (the athlete's first day counts as quiet before). Its *time* is the end
  of that day's last training session, when the day's verdict was made, or the local
  midnight that starts a rest day.
- *Precision*: the share of raises followed by a qualifying report of the same athlete at or
  after the raise's time and at most H later.
- A *pain episode* starts at a qualifying report with no qualifying report of the athlete in
  the H before it. *Recall*: the share of episodes with a raise in the H up to their onset;
  *lead time*: the onset minus the first such raise.
- *Chance*: the same rule's raises moved to random days of the same athlete, as many as it
  has, training days to training days and rest days to rest days, many times over
  (``draws``). Stratifying by training day keeps a rule that only fires after sessions from
  beating chance merely because pain tends to follow training. A rule *beats chance* when
  few of those draws are as precise as it is (a one-sided permutation p-value < 0.05).

Raises near the end of the data have had less than H to be followed; the chance baseline's
days have the same handicap, so the comparison stays fair while the precision is a little
low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.stats import norm

from scoring.load import LoadSettings, session_loads
from scoring.rules._rule import severity_column
from scoring.schemas import ATHLETE_KEYS, DAY_MS
from scoring.severity import Severity

# The lowest severity at which a rule's verdict reads the pain reports themselves: such a
# raise follows pain by construction, so its precision says nothing about prediction.
READS_PAIN: dict[str, Severity] = {
    "pain_acute": Severity.LOW,
    "pain_persistent": Severity.LOW,
    "return_from_break": Severity.HIGH,  # high "when pain is reported too"
}
SIGNIFICANCE = 0.05
CONFIDENCE = 0.95
TOO_FEW_RAISES = 10  # below this a rule that does not beat chance may just not have had the chance

VALIDATION_SCHEMA = pl.Schema(
    {
        "rule": pl.String,
        "severity": pl.String,  # null: the rule never raised
        "independent": pl.Boolean,  # False: it reads the pain reports, not a predictor
        "raises": pl.Int64,
        "followed": pl.Int64,
        "precision": pl.Float64,
        "precision_low": pl.Float64,
        "precision_high": pl.Float64,
        "chance_precision": pl.Float64,
        "chance_low": pl.Float64,
        "chance_high": pl.Float64,
        "p_value": pl.Float64,
        "beats_chance": pl.Boolean,
        "episodes": pl.Int64,
        "caught": pl.Int64,
        "recall": pl.Float64,
        "recall_low": pl.Float64,
        "recall_high": pl.Float64,
        "chance_recall": pl.Float64,
        "median_lead_days": pl.Float64,
        "verdict": pl.String,
    }
)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What counts as a pain report worth a warning: score >= ``min_score``, or a sharp kind."""

    min_score: int = 4
    sharp_kinds: tuple[str, ...] = ("sharp",)

    def qualifying(self) -> pl.Expr:
        return (pl.col("score") >= self.min_score) | pl.col("kind").is_in(self.sharp_kinds)


def wilson_interval(successes: np.ndarray, trials: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """Wilson score interval (Wilson 1927, J Am Stat Assoc 22:209) of ``successes`` / ``trials``.

    Returns an array of shape (2, n): lower and upper bounds; NaN where ``trials`` is 0.
    Unlike the normal approximation it stays inside [0, 1] and is sound at 0 or n successes.
    The bounds always hold ``successes / trials``: at 0 or n successes rounding would otherwise
    leave it a hair outside (an upper bound of 0.9999999999999999 at 10 of 10).
    """
    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.stack([np.clip(np.minimum(centre - half, p), 0, 1), np.clip(np.maximum(centre + half, p), 0, 1)])


def permutation_p_value(observed: float, draws: np.ndarray) -> float:
    """One-sided permutation p-value: the share of chance draws at least as large as ``observed``,
    counting the observed arrangement itself as one draw (Phipson & Smyth 2010, Stat Appl Genet
    Mol Biol 9:39), so it is never 0 with finitely many draws."""
    return float((1 + np.count_nonzero(draws >= observed - 1e-12)) / (1 + len(draws)))


@dataclass(frozen=True, eq=False)
class DayGrid:
    """Every athlete-day of a timeline as arrays, with what a raise on it would have caught.

    Rows are in the timeline's order (athlete, then day). ``raise_ms`` is the time a raise on
    the row would have been made; ``followed`` whether a qualifying report of the athlete came
    at or after it and within the horizon; ``stratum`` numbers the (athlete, trained) pairs
    that the chance baseline moves raises within. ``episode_rows`` holds, per pain episode, the
    first and one-past-last rows whose raise would precede its onset within the horizon.
    """

    athlete: np.ndarray  # int64, dense per (team, athlete)
    raise_ms: np.ndarray  # int64
    followed: np.ndarray  # bool
    stratum: np.ndarray  # int64
    onset_ms: np.ndarray  # int64, one per episode
    episode_rows: np.ndarray  # int64 (2, episodes): [lo, hi)

    @property
    def episodes(self) -> int:
        return len(self.onset_ms)


def _epoch_ms(day: pl.Expr, tz: str) -> pl.Expr:
    """The local midnight starting ``day`` in ``tz``, epoch ms (UTC midnight where it does not exist)."""
    naive = day.cast(pl.Datetime("ms"))
    local = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return local.dt.epoch("ms").fill_null(naive.dt.epoch("ms"))


def day_grid(
    days: pl.DataFrame,
    sessions: pl.DataFrame,
    wellness: pl.DataFrame,
    *,
    horizon_days: int,
    tz: str = "UTC",
    load: LoadSettings | None = None,
    outcome: Outcome | None = None,
) -> DayGrid:
    """The grid of ``days`` (a ``timeline``, sorted by team, athlete and day) from the session
    features and pain reports it was made of."""
    outcome = outcome or Outcome()
    horizon = horizon_days * DAY_MS
    names = days.select(ATHLETE_KEYS).unique(maintain_order=True).with_row_index("_athlete")
    ends = (
        session_loads(sessions, settings=load, tz=tz)
        .filter(pl.col("training"))
        .group_by(*ATHLETE_KEYS, "day")
        .agg(last_end=pl.col("end").max())
    )
    trained = pl.col("n_sessions") > 0
    grid = (
        days.select(*ATHLETE_KEYS, "day", "n_sessions")
        .join(names, on=ATHLETE_KEYS, maintain_order="left")
        .join(ends, on=[*ATHLETE_KEYS, "day"], how="left", maintain_order="left")
        # A session past midnight still belongs to its start day: its raise stays on that day.
        .select(
            "_athlete",
            trained=trained,
            raise_ms=pl.when(trained)
            .then(pl.min_horizontal("last_end", _epoch_ms(pl.col("day") + pl.duration(days=1), tz) - 1))
            .otherwise(_epoch_ms(pl.col("day"), tz)),
        )
    )
    reports = (
        wellness.filter(outcome.qualifying())
        .join(names, on=ATHLETE_KEYS)
        .select("_athlete", report_ms=pl.col("ts"))
        .unique()
        .sort("_athlete", "report_ms")
    )
    nearest = grid.join_asof(
        reports, left_on="raise_ms", right_on="report_ms", by="_athlete", strategy="forward", check_sortedness=False
    )
    followed = ((nearest["report_ms"] - nearest["raise_ms"]) <= horizon).fill_null(False).to_numpy()
    onsets = reports.filter(
        (pl.col("report_ms") - pl.col("report_ms").shift(1).over("_athlete") > horizon).fill_null(True)
    )

    athlete = grid["_athlete"].to_numpy().astype(np.int64)
    raise_ms = grid["raise_ms"].to_numpy().astype(np.int64)
    onset_athlete = onsets["_athlete"].to_numpy().astype(np.int64)
    onset_ms = onsets["report_ms"].to_numpy().astype(np.int64)
    # One sorted key per (athlete, time) finds each episode's rows by binary search.
    times = np.concatenate([raise_ms, onset_ms])
    base = int(times.min(initial=0)) - horizon
    span = int(times.max(initial=0)) - base + 1
    key = athlete * span + (raise_ms - base)
    lo = np.searchsorted(key, onset_athlete * span + (onset_ms - horizon - base), side="left")
    hi = np.searchsorted(key, onset_athlete * span + (onset_ms - base), side="right")
    return DayGrid(
        athlete=athlete,
        raise_ms=raise_ms,
        followed=followed,
        stratum=athlete * 2 + grid["trained"].to_numpy().astype(np.int64),
        onset_ms=onset_ms,
        episode_rows=np.stack([lo, hi]).astype(np.int64),
    )


def raise_days(severity: np.ndarray, athlete: np.ndarray, level: int) -> np.ndarray:
    """Bool per row: the rule's severity reached ``level`` that day and was under it the day before."""
    reached = severity >= level
    before = np.concatenate([[False], reached[:-1] & (athlete[1:] == athlete[:-1])])
    raised: np.ndarray = reached & ~before
    return raised


@dataclass(frozen=True)
class Measured:
    """A set of raises against the pain episodes: counts, and each caught episode's lead time in days."""

    raises: int
    followed: int
    caught: int
    lead_days: np.ndarray


def measure(raised: np.ndarray, grid: DayGrid) -> Measured:
    """Precision and recall counts of the raises ``raised`` (bool per grid row)."""
    prefix = np.concatenate([[0], np.cumsum(raised)])
    lo, hi = grid.episode_rows
    caught = prefix[hi] > prefix[lo]
    rows = np.flatnonzero(raised)
    first = rows[np.searchsorted(rows, lo[caught])]
    return Measured(
        raises=int(rows.size),
        followed=int(np.count_nonzero(raised & grid.followed)),
        caught=int(np.count_nonzero(caught)),
        lead_days=(grid.onset_ms[caught] - grid.raise_ms[first]) / DAY_MS,
    )


def chance_draws(
    raised: Sequence[np.ndarray], grid: DayGrid, *, draws: int, rng: np.random.Generator, chunk: int = 50
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each set of raises (bool per grid row), the precision and recall of ``draws`` random
    rearrangements of it: a permutation test's null distribution.

    Each draw moves every raise to a day of the same stratum (athlete, training day or not)
    without replacement, so each athlete keeps the rule's count of raises on training days and
    on rest days. A day is drawn when its random rank within its stratum is below the
    stratum's count; the ranks are shared by every set (common random numbers) and made a
    ``chunk`` of draws at a time to bound memory. Only the ranks of the rows that decide
    something are compared: the followed ones (precision) and those inside an episode's
    window (recall).
    """
    rows = len(grid.stratum)
    sizes = np.bincount(grid.stratum)
    first_of = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    followed = np.flatnonzero(grid.followed)
    lo, hi = grid.episode_rows
    width = int((hi - lo).max(initial=0))
    # Each episode's window as a row of indices, padded with a row index past the end whose
    # rank is never under any count.
    window = lo[:, None] + np.arange(width)[None, :]
    window = np.where(window < hi[:, None], window, rows)
    picks = [np.append(np.bincount(grid.stratum, weights=r, minlength=len(sizes))[grid.stratum], 0) for r in raised]
    totals = [max(int(r.sum()), 1) for r in raised]
    precision = [np.empty(draws) for _ in raised]
    recall = [np.full(draws, np.nan) for _ in raised]
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        order = np.argsort(grid.stratum + rng.random((n, rows)), axis=1)
        rank = np.empty((n, rows + 1), dtype=np.int32)
        np.put_along_axis(rank[:, :rows], order, np.arange(rows) - first_of[grid.stratum[order]], axis=1)
        rank[:, rows] = rows  # the padding row
        followed_rank, window_rank = rank[:, followed], rank[:, window]
        drawn = slice(start, start + n)
        for k, wanted in enumerate(picks):
            precision[k][drawn] = np.count_nonzero(followed_rank < wanted[followed], axis=1) / totals[k]
            if grid.episodes:
                recall[k][drawn] = np.mean((window_rank < wanted[window]).any(axis=2), axis=1)
    return list(zip(precision, recall, strict=True))


def validate(
    days: pl.DataFrame,
    sessions: pl.DataFrame,
    wellness: pl.DataFrame,
    *,
    rule_ids: Sequence[str],
    rng: np.random.Generator,
    horizon_days: int = 14,
    tz: str = "UTC",
    load: LoadSettings | None = None,
    outcome: Outcome | None = None,
    draws: int = 500,
) -> pl.DataFrame:
    """One row per rule of ``rule_ids`` and severity it reached (``VALIDATION_SCHEMA``); a rule that
    never raised gets one row with a null severity.

    ``days`` is the ``timeline`` of ``sessions`` (session features) and ``wellness`` (pain
    entries) with the team's thresholds; ``tz`` and ``load`` are the team's, as given to it.
    """
    days = days.sort(*ATHLETE_KEYS, "day")
    grid = day_grid(days, sessions, wellness, horizon_days=horizon_days, tz=tz, load=load, outcome=outcome)
    found: list[tuple[str, Severity | None, np.ndarray]] = []
    for rule_id in rule_ids:
        ranks = days[severity_column(rule_id)].to_numpy()
        levels = sorted(int(s) for s in np.unique(ranks) if s > 0)
        found += [(rule_id, Severity(s), raise_days(ranks, grid.athlete, s)) for s in levels]
        if not levels:
            found.append((rule_id, None, np.zeros(len(ranks), dtype=bool)))
    measured = [measure(raised, grid) for _, _, raised in found]
    chance = chance_draws([raised for _, _, raised in found], grid, draws=draws, rng=rng)
    rows = []
    for (rule_id, severity, _), m, (precisions, recalls) in zip(found, measured, chance, strict=True):
        rows.append(_row(rule_id, severity, m, precisions, recalls, grid.episodes))
    return pl.DataFrame(rows, schema=VALIDATION_SCHEMA, orient="row")


def _row(
    rule_id: str,
    severity: Severity | None,
    m: Measured,
    precisions: np.ndarray,
    recalls: np.ndarray,
    episodes: int,
) -> tuple[object, ...]:
    independent = severity is None or not (rule_id in READS_PAIN and severity >= READS_PAIN[rule_id])
    (p_low, r_low), (p_high, r_high) = wilson_interval(np.array([m.followed, m.caught]), np.array([m.raises, episodes]))
    precision = m.followed / m.raises if m.raises else None
    recall = m.caught / episodes if episodes else None
    measured = m.raises > 0
    p_value = permutation_p_value(m.followed / m.raises, precisions) if measured else None
    beats = p_value is not None and independent and p_value < SIGNIFICANCE
    chance_low, chance_high = np.quantile(precisions, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return (
        rule_id,
        severity.label if severity else None,
        independent,
        m.raises,
        m.followed,
        precision,
        *((p_low, p_high) if measured else (None, None)),
        *((float(precisions.mean()), float(chance_low), float(chance_high)) if measured else (None, None, None)),
        p_value,
        beats,
        episodes,
        m.caught,
        recall,
        *((r_low, r_high) if episodes else (None, None)),
        float(recalls.mean()) if measured and episodes else None,
        float(np.median(m.lead_days)) if m.caught else None,
        verdict(
            raises=m.raises,
            precision=precision,
            chance=float(precisions.mean()) if measured else None,
            p_value=p_value,
            independent=independent,
        ),
    )


def verdict(
    *, raises: int, precision: float | None, chance: float | None, p_value: float | None, independent: bool
) -> str:
    """The row in plain words, with the numbers behind it."""
    if not raises or precision is None or chance is None or p_value is None:
        return "never raised"
    if not independent:
        return "reads the pain reports itself: it follows pain, it does not predict it"
    figures = f"{precision:.0%} of its raises were followed by pain, {chance:.0%} of random days (p = {p_value:.3f})"
    if p_value < SIGNIFICANCE:
        return f"beats chance: {figures}"
    if raises < TOO_FEW_RAISES:
        return f"too few raises to tell: {figures}"
    return f"no better than chance: {figures}"
