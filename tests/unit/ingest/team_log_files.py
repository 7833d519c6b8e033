"""The real team logs the tests read (tests/data/teamlogs, see its README)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parents[2] / "data" / "teamlogs"
P12 = DATA / "pmdata" / "p12"
SRPE, WELLNESS, INJURY = (P12 / "pmsys" / f"{name}.csv" for name in ("srpe", "wellness", "injury"))
EXERCISE = P12 / "fitbit" / "exercise.json"
SOCCERMON = DATA / "soccermon"
TEAM_INJURY, DAILY_LOAD, SORENESS = (SOCCERMON / f"{name}.csv" for name in ("injury", "daily_load", "soreness"))
ALL = (SRPE, WELLNESS, INJURY, EXERCISE, TEAM_INJURY, DAILY_LOAD, SORENESS)
