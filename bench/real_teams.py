"""How the rules fare on real teams: SoccerMon and PMData imported, every rule judged on their real outcomes.

``python -m bench.real_teams [--outcome injury|any|soreness] [--markdown]`` imports the two
sets in ``bench/data/real_teams`` (see its README: real, prospective, CC BY 4.0) as
`stridewatch import` does, into a fresh SQLite store, one team each, and runs `stridewatch
validate` on them: per rule and level, how often a warning was followed by the outcome within
14 days against the days without one (relative risk, athletes resampled), and against warnings
on random days. ``--markdown`` prints the README's table instead of the command's.

Neither set has pods: every athlete's load is session RPE x minutes (``load.measure`` auto).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ingest.store import Store
from scoring.validation import OUTCOMES, Outcome
from stridewatch.teams import TeamsConfig
from stridewatch.tools.importing import expand, prepare
from stridewatch.tools.sending import store
from stridewatch.tools.validate import COLUMNS, TeamValidation, cells, load_teams, print_tables, validate_team

DATA = Path(__file__).resolve().parent / "data" / "real_teams"
TEAMS = {"soccermon": [DATA / "soccermon"], "pmdata": sorted((DATA / "pmdata").glob("p*/pmsys"))}
HORIZON_DAYS = 14


def judged(outcome: Outcome, *, draws: int, seed: int = 0) -> list[TeamValidation]:
    """Both sets imported into a fresh store, and validated as `stridewatch validate` does."""
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{folder}/real_teams.db"
        for team, paths in TEAMS.items():
            imported = prepare(expand(paths), team=team)
            if imported.failed or store(imported.messages, db):
                raise SystemExit(f"{team}: a file failed or a message was dead-lettered")
        with Store(db) as db_store:
            data = load_teams(db_store, TeamsConfig.default())
    return [validate_team(d, horizon_days=HORIZON_DAYS, draws=draws, seed=seed, outcome=outcome) for d in data]


def markdown(results: list[TeamValidation]) -> str:
    """The rules that warned, as the command's table has them, one markdown table for all teams."""
    lines = ["| team | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for result in results:
        too_few = result.unjudged()
        lines.append(f"| **{result.team}** | {result.athletes} athletes, {result.days:,} athlete-days, "
                     f"{result.episodes} {result.outcome.episodes_noun}" + (f": {too_few}" if too_few else "")
                     + " |" * len(COLUMNS))  # fmt: skip
        for row in result.table.iter_rows(named=True):
            if row["severity"] is not None:
                lines.append(f"| {result.team} | " + " | ".join(cells(row).values()) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.real_teams", description=__doc__.splitlines()[0])
    parser.add_argument("--outcome", choices=sorted(OUTCOMES), default="injury")
    parser.add_argument("--markdown", action="store_true", help="the README's table")
    parser.add_argument("--draws", type=int, default=500, help="random rearrangements for the chance baseline")
    args = parser.parse_args()
    results = judged(OUTCOMES[args.outcome], draws=args.draws)
    if args.markdown:
        print(markdown(results))
    else:
        print_tables(results)


if __name__ == "__main__":
    main()
