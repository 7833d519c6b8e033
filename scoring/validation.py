"""Does a rule warn before an outcome? Every rule's raises measured against the team's own pain reports.

Pure: a daily ``timeline`` (every rule's ``{rule}__severity`` column), the judged sessions
and the pain reports in; one row per rule and severity out. The only randomness is the
seeded ``numpy.random.Generator`` passed in, for the chance baseline and the resampled
athletes.

Definitions, with ``horizon`` H (14 days by default):

- An *outcome* is a pain report the rules should warn of, chosen by ``Outcome``:
  ``any`` (the default): score >= 4, or of kind sharp, whatever its cause;
  ``injury``: kind ache or sharp with score >= 5 (an imported injury report arrives as
  ache 5 when minor and sharp 8 when major, so both count, and so does ache or sharp pain
  of 5/10 or more reported in the app);
  ``soreness``: kind soreness with score >= 4 (imported soreness on PMSys's 1-5 scale, 1 the
  worst, arrives as score 5 for a 1 and 2 for a 2, `ingest.files.teamlogs`: the worst days).
- A *raise* of a rule at severity s: a day on which its severity reaches >= s and the day
  before it was < s (the athlete's first day counts as quiet before). Its *time* is the end
  of that day's last training session, when the day's verdict was made, or the local
  midnight that starts a rest day. Every athlete-day has such a time, raise or not.
- *Precision*, the *risk after a raise*: the share of raises followed by an outcome of the
  same athlete at or after the raise's time and at most H later.
- *Baseline risk*: the same share over the athlete-days without a warning of the rule at
  that level (severity < s), each from that day's time. The days a warning merely goes on
  are in neither group: they are not a raise, nor a day without a warning.
- *Relative risk* (RR): the risk after a raise over the baseline risk; undefined (null) when
  the rule never raised or no day without its warning was followed by an outcome. Its 95%
  interval resamples athletes, not days (a cluster bootstrap: one athlete's days share the
  athlete's build, training and reporting habits, and one outcome follows every raise and
  day of the H before it, so they are not independent). ``resamples`` times, as many
  athletes as the team has (G) are drawn with replacement, each bringing all of their days,
  and the ratio is recomputed (a draw where it is 0/0, none of the drawn athletes having
  raised, is left out). The interval is RR x exp(+-k s), a ratio being near normal on the
  log scale: s is the width of the central 95% of the draws' logarithms over 2 x 1.96 (their
  standard deviation, were they normal), k Student's t for G - 1 degrees of freedom times
  sqrt(G / (G - 1)), the usual corrections for few clusters (``small_sample``). On the tests'
  simulated squads (40 athletes differing in how often the rule warns them and how often
  they are injured, warnings with no effect) it held 1 in 964 of 1,000. The alternatives held
  it in: the draws' own 2.5th and 97.5th percentiles, skewed when outcomes are few, 922;
  their plain standard deviation as s, 965, but unbounded in 183 squads, any one draw of 0
  being enough; the usual interval of a ratio of two shares counting every raise and day as
  independent (Katz 1978), 898. When more than 2.5% of the draws are 0 or infinite (no raise,
  or no quiet day, of the drawn athletes followed by an outcome; 30 of those 1,000 squads)
  the data cannot bound the ratio: the interval runs from 0 and its upper end is null; with
  a single athlete there is no interval. Nor is there for a rule not judged (below): on a
  handful of raises, resampling shows only the raises there were (two raises, both followed,
  give every draw a risk of 100% after a raise and a narrow interval that means nothing).
- An *episode* starts at an outcome with no outcome of the athlete in the H before it.
  *Recall*: the share of episodes with a raise in the H up to their onset; *lead time*: the
  onset minus the first such raise.
- *Chance*: the same rule's raises moved to random days of the same athlete, as many as it
  has, training days to training days and rest days to rest days, many times over
  (``draws``). Stratifying by training day keeps a rule that only fires after sessions from
  beating chance merely because pain tends to follow training. A rule *beats chance* when
  few of those draws are as precise as it is (a one-sided permutation p-value < 0.05).
- *Too few to judge*: a team with fewer than ``MIN_OUTCOMES`` (10) episodes of the outcome
  cannot tell a rule that works from one that does not (with 10 episodes, a rule that catches
  half of them still has a recall interval of 24-76%; 10 events is also the usual floor for
  estimating one risk factor, Peduzzi 1996, J Clin Epidemiol 49:1373). The count is the team's, not each
  rule's: the baseline, recall and chance of every rule draw on all of the team's outcomes.
  Below it every rule that raised says so (e.g. "too few injuries to judge"). With enough, a
  rule that raised fewer than ``TOO_FEW_RAISES`` times and does not beat chance is "too few
  raises to tell". Either way the rule is *not judged* (``judged``), and nothing should be
  tuned on it.

Raises near the end of the data have had less than H to be followed; the chance baseline's
days and the baseline risk's days have the same handicap, so the comparisons stay fair while
the shares are a little low.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.stats import norm
from scipy.stats import t as student_t

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
Z = float(norm.ppf(0.5 + CONFIDENCE / 2))  # 1.96
TOO_FEW_RAISES = 10  # below this a rule that does not beat chance may just not have had the chance
MIN_OUTCOMES = 10  # the team's outcome episodes below which no rule is judged (see the module doc)

VALIDATION_SCHEMA = pl.Schema(
    {
        "rule": pl.String,
        "severity": pl.String,  # null: the rule never raised
        "independent": pl.Boolean,  # False: it reads the pain reports, not a predictor
        "judged": pl.Boolean,  # the figures can tell: see "too few to judge" above
        "raises": pl.Int64,
        "followed": pl.Int64,
        "precision": pl.Float64,  # the risk after a raise
        "precision_low": pl.Float64,
        "precision_high": pl.Float64,
        "quiet_days": pl.Int64,  # athlete-days without a warning of the rule at this level
        "quiet_followed": pl.Int64,
        "baseline_risk": pl.Float64,
        "relative_risk": pl.Float64,
        "rr_low": pl.Float64,
        "rr_high": pl.Float64,  # null: unbounded (or undefined)
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
    """The pain reports a rule should warn of: of one of ``kinds`` (any kind when None) with a
    score >= ``min_score``, or of one of ``always`` at any score (the module doc's definitions)."""

    name: str
    noun: str  # what a rule warns before: "pain", "an injury"
    episodes_noun: str  # what too few of leaves a rule unjudged: "pain episodes", "injuries"
    described: str  # the definition in words: "ache or sharp, score 5+"
    min_score: int
    kinds: tuple[str, ...] | None = None
    always: tuple[str, ...] = ()

    def qualifying(self) -> pl.Expr:
        scored = pl.col("score") >= self.min_score
        if self.kinds is not None:
            scored &= pl.col("kind").is_in(self.kinds)
        return scored | pl.col("kind").is_in(self.always)


ANY = Outcome(name="any", noun="pain", episodes_noun="pain episodes", described="score 4+ or sharp",
              min_score=4, always=("sharp",))  # fmt: skip
INJURY = Outcome(name="injury", noun="an injury", episodes_noun="injuries",
                 described="ache or sharp, score 5+", min_score=5, kinds=("ache", "sharp"))  # fmt: skip
SORENESS = Outcome(name="soreness", noun="soreness", episodes_noun="soreness episodes",
                   described="kind soreness, score 4+", min_score=4, kinds=("soreness",))  # fmt: skip
OUTCOMES: dict[str, Outcome] = {o.name: o for o in (ANY, INJURY, SORENESS)}


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
    the row would have been made; ``followed`` whether an outcome of the athlete came
    at or after it and within the horizon; ``stratum`` numbers the (athlete, trained) pairs
    that the chance baseline moves raises within. ``episode_rows`` holds, per episode, the
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

    @property
    def athletes(self) -> int:
        return int(self.athlete.max(initial=-1)) + 1


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
    outcome: Outcome = ANY,
) -> DayGrid:
    """The grid of ``days`` (a ``timeline``, sorted by team, athlete and day) from the session
    features and pain reports it was made of; ``followed`` and the episodes are of ``outcome``."""
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
    """A set of raises against the outcome episodes: counts, and each caught episode's lead time in days."""

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


def athlete_weights(athletes: int, *, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each athlete is drawn in each of ``resamples`` draws of ``athletes`` athletes with
    replacement: shape (resamples, athletes), each row summing to ``athletes`` (a cluster bootstrap)."""
    if not athletes:
        return np.zeros((resamples, 0), dtype=np.int64)
    drawn: np.ndarray = rng.multinomial(athletes, np.full(athletes, 1 / athletes), size=resamples)
    return drawn


def risk_ratio(counts: np.ndarray) -> np.ndarray:
    """The relative risk of counts whose last axis is (raises, raises followed, quiet days, quiet
    days followed): NaN where it is 0/0 or a share has no days, inf where only the baseline is 0."""
    raises, followed, quiet, quiet_followed = np.moveaxis(np.asarray(counts, dtype=float), -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio: np.ndarray = (followed / raises) / (quiet_followed / quiet)
    return ratio


@dataclass(frozen=True)
class RelativeRisk:
    """The baseline of a set of raises, and their relative risk with its interval (None: no value)."""

    quiet_days: int
    quiet_followed: int
    ratio: float | None
    low: float | None
    high: float | None


def relative_risk(raised: np.ndarray, quiet: np.ndarray, grid: DayGrid, weights: np.ndarray) -> RelativeRisk:
    """The raises ``raised`` against the days ``quiet`` (bool per grid row), resampled by athlete with
    ``weights`` (``athlete_weights``): the module doc's relative risk and interval."""
    per_athlete = np.stack(
        [
            np.bincount(grid.athlete, weights=rows, minlength=grid.athletes)
            for rows in (raised, raised & grid.followed, quiet, quiet & grid.followed)
        ]
    )
    total = per_athlete.sum(axis=1)
    ratio = float(risk_ratio(total))
    draws = risk_ratio(weights @ per_athlete.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = log_spread(np.log(draws[~np.isnan(draws)])) * small_sample(grid.athletes)
        low, high = ratio * np.exp(np.array([-1.0, 1.0]) * spread)
    return RelativeRisk(
        quiet_days=int(total[2]),
        quiet_followed=int(total[3]),
        ratio=_finite(ratio),
        low=_finite(low),
        high=_finite(high),
    )


def log_spread(logs: np.ndarray) -> float:
    """The width of the central ``CONFIDENCE`` of ``logs`` over 2 ``Z``: their standard deviation were
    they normal, and unlike it not made infinite by a few infinite ones (inf when over 2.5% are)."""
    if not logs.size:
        return math.inf
    low, high = np.quantile(logs, [0.5 - CONFIDENCE / 2, 0.5 + CONFIDENCE / 2], method="inverted_cdf")
    width = float(high - low)
    return width / (2 * Z) if math.isfinite(width) else math.inf


def small_sample(athletes: int) -> float:
    """What the bootstrap's standard deviation is multiplied by for the interval's half-width on
    the log scale: Student's t with athletes - 1 degrees of freedom instead of the normal's 1.96,
    and sqrt(G / (G - 1)) since resampling G athletes divides their spread by G, not G - 1
    (the usual corrections for few clusters: Cameron & Miller 2015, J Hum Resour 50:317);
    infinite for a single athlete, whom no resampling can vary."""
    if athletes < 2:
        return math.inf
    return float(student_t.ppf(0.5 + CONFIDENCE / 2, athletes - 1)) * math.sqrt(athletes / (athletes - 1))


def _finite(value: float | np.floating) -> float | None:
    return float(value) if np.isfinite(value) else None


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
    outcome: Outcome = ANY,
    draws: int = 500,
    resamples: int = 500,
) -> pl.DataFrame:
    """One row per rule of ``rule_ids`` and severity it reached (``VALIDATION_SCHEMA``); a rule that
    never raised gets one row with a null severity.

    ``days`` is the ``timeline`` of ``sessions`` (session features) and ``wellness`` (pain
    entries) with the team's thresholds; ``tz`` and ``load`` are the team's, as given to it.
    ``draws`` rearrangements make the chance baseline, ``resamples`` draws of athletes the
    relative risk's interval, the same draws for every rule.
    """
    days = days.sort(*ATHLETE_KEYS, "day")
    grid = day_grid(days, sessions, wellness, horizon_days=horizon_days, tz=tz, load=load, outcome=outcome)
    found: list[tuple[str, Severity | None, np.ndarray, np.ndarray]] = []  # rule, level, raised, quiet
    for rule_id in rule_ids:
        ranks = days[severity_column(rule_id)].to_numpy()
        levels = sorted(int(s) for s in np.unique(ranks) if s > 0)
        found += [(rule_id, Severity(s), raise_days(ranks, grid.athlete, s), ranks < s) for s in levels]
        if not levels:
            found.append((rule_id, None, np.zeros(len(ranks), dtype=bool), np.ones(len(ranks), dtype=bool)))
    chance = chance_draws([raised for _, _, raised, _ in found], grid, draws=draws, rng=rng)
    weights = athlete_weights(grid.athletes, resamples=resamples, rng=rng)
    rows = [
        _row(
            rule_id,
            severity,
            measured=measure(raised, grid),
            risk=relative_risk(raised, quiet, grid, weights),
            chance=by_chance,
            episodes=grid.episodes,
            outcome=outcome,
        )
        for (rule_id, severity, raised, quiet), by_chance in zip(found, chance, strict=True)
    ]
    return pl.DataFrame(rows, schema=VALIDATION_SCHEMA)


def _row(
    rule_id: str,
    severity: Severity | None,
    *,
    measured: Measured,
    risk: RelativeRisk,
    chance: tuple[np.ndarray, np.ndarray],
    episodes: int,
    outcome: Outcome,
) -> dict[str, object]:
    m, (precisions, recalls) = measured, chance
    independent = severity is None or not (rule_id in READS_PAIN and severity >= READS_PAIN[rule_id])
    (p_low, r_low), (p_high, r_high) = wilson_interval(np.array([m.followed, m.caught]), np.array([m.raises, episodes]))
    raised = m.raises > 0
    precision = m.followed / m.raises if raised else None
    p_value = permutation_p_value(m.followed / m.raises, precisions) if raised else None
    chance_low, chance_high = np.quantile(precisions, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    chance_precision = float(precisions.mean()) if raised else None
    beats = p_value is not None and independent and p_value < SIGNIFICANCE
    baseline = risk.quiet_followed / risk.quiet_days if risk.quiet_days else None
    judged = raised and episodes >= MIN_OUTCOMES and (m.raises >= TOO_FEW_RAISES or beats)
    return {
        "rule": rule_id,
        "severity": severity.label if severity else None,
        "independent": independent,
        "judged": judged,
        "raises": m.raises,
        "followed": m.followed,
        "precision": precision,
        "precision_low": p_low if raised else None,
        "precision_high": p_high if raised else None,
        "quiet_days": risk.quiet_days,
        "quiet_followed": risk.quiet_followed,
        "baseline_risk": baseline,
        "relative_risk": risk.ratio,
        "rr_low": risk.low if judged else None,
        "rr_high": risk.high if judged else None,
        "chance_precision": chance_precision,
        "chance_low": float(chance_low) if raised else None,
        "chance_high": float(chance_high) if raised else None,
        "p_value": p_value,
        "beats_chance": beats,
        "episodes": episodes,
        "caught": m.caught,
        "recall": m.caught / episodes if episodes else None,
        "recall_low": r_low if episodes else None,
        "recall_high": r_high if episodes else None,
        "chance_recall": float(recalls.mean()) if raised and episodes else None,
        "median_lead_days": float(np.median(m.lead_days)) if m.caught else None,
        "verdict": verdict(
            raises=m.raises,
            episodes=episodes,
            outcome=outcome,
            precision=precision,
            baseline=baseline,
            risk=risk,
            chance=chance_precision,
            p_value=p_value,
            independent=independent,
        ),
    }


def ratio_text(ratio: float | None, low: float | None, high: float | None) -> str:
    """``2.4 (1.3-4.1)``: a relative risk with its interval; "-" for none, "inf" for an unbounded end."""
    if ratio is None:
        return "-"
    if low is None:
        return f"{ratio:.2g}"
    return f"{ratio:.2g} ({low:.2g}-{'inf' if high is None else format(high, '.2g')})"


def verdict(
    *,
    raises: int,
    episodes: int,
    outcome: Outcome,
    precision: float | None,
    baseline: float | None,
    risk: RelativeRisk,
    chance: float | None,
    p_value: float | None,
    independent: bool,
) -> str:
    """The row in plain words, with the numbers behind it."""
    if not raises or precision is None or chance is None or p_value is None:
        return "never raised"
    if episodes < MIN_OUTCOMES:
        return f"too few {outcome.episodes_noun} to judge: {episodes} in the data, {MIN_OUTCOMES} needed"
    if not independent:
        return "reads the pain reports itself: it follows pain, it does not predict it"
    against = "" if baseline is None else f", {baseline:.0%} of days without its warning"
    figures = (
        f"{precision:.0%} of its raises were followed by {outcome.noun}{against} (relative risk "
        f"{ratio_text(risk.ratio, risk.low, risk.high)}), {chance:.0%} of random days (p = {p_value:.3f})"
    )
    if p_value < SIGNIFICANCE:
        return f"beats chance: {figures}"
    if raises < TOO_FEW_RAISES:
        return f"too few raises to tell: {figures}"
    return f"no better than chance: {figures}"
